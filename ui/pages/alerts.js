import { t } from '../i18n.js';
import { api } from '../api.js';
import { pending, useLoad } from '../load.js';
import { fmtTime, html } from '../html.js';
import { ChannelsCard } from './channels.js';

export function AlertsPage({ tick, me }) {
  const state = useLoad(() => api('/api/alerts?limit=100'), [tick]);
  const wait = pending(state, t('alerts'));
  if (wait) return wait;
  const alerts = state.data;
  const channels = me?.role === 'owner' && html`<${ChannelsCard} />`;
  if (alerts.length === 0) return html`<p class="card">${t('No alerts. All quiet.')}</p>${channels}`;
  return html`${channels}<h2>${t('Alerts')}</h2>${alerts.map(
    (a) => html`<section class=${`card alert ${a.severity}`} data-testid="alert">
    <strong>${a.message}</strong><br/><span class="muted">${fmtTime(a.at)} · ${a.severity}${a.ruleId ? ` · rule ${a.ruleId}` : ''}${a.deviceId ? ` · ${a.deviceId}` : ''}</span></section>`,
  )}`;
}
