import { t } from './i18n.js';
import { h } from 'preact';
import htm from 'htm';

/** JSX-like templates without a build step. */
export const html = htm.bind(h);

export const fmtTime = (ts) => (ts ? new Date(ts).toLocaleString([], { dateStyle: 'short', timeStyle: 'short' }) : 'never');

const BOOLEAN_WORDS = {
  door: [t('Open'), t('Closed')],
  window: [t('Open'), t('Closed')],
  opening: [t('Open'), t('Closed')],
  running: [t('Running'), t('Off')],
  problem: [t('Problem'), t('OK')],
  moisture: [t('Wet'), t('Dry')],
  motion: [t('Motion'), t('Clear')],
};

export function fmtValue(value, unit, deviceClass) {
  if (value === null || value === undefined) return '–';
  if (typeof value === 'boolean') return (BOOLEAN_WORDS[deviceClass] ?? [t('On'), t('Off')])[value ? 0 : 1];
  if (typeof value === 'number') return `${Number.isInteger(value) ? value : value.toFixed(1)}${unit ? ` ${unit}` : ''}`;
  return String(value);
}

/** Attribute names as people say them: cups_brewed -> Cups brewed. */
export const label = (name) => name.replace(/_/g, ' ').replace(/^./, (c) => c.toUpperCase());
