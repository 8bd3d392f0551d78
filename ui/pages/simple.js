import { t } from '../i18n.js';
import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { fmtValue, html } from '../html.js';

/** The one control a device gets in simple mode: its switch, or its setpoint's − and +. Technical details stay out. */
function mainControl(d) {
  const entries = Object.entries(d.attributes);
  return (
    entries.find(([, s]) => s.writable && s.type === 'boolean' && !s.momentary) ??
    entries.find(([, s]) => s.writable && s.type === 'number') ??
    entries.find(([, s]) => !s.writable && s.type === 'number') ??
    entries.find(([, s]) => s.type === 'string') // a lock or blind: its state only (opening one stays in the full app)
  );
}

/**
 * Simple mode: large, high-contrast buttons for the person's favourites and scenes only, in plain
 * words ("Turn on", "Warmer"); no menus, ids or technical words. The full app is one tap away unless
 * the owner locked simple mode for this person.
 */
export function SimpleHome({ devices, prefs, onLeave }) {
  const [message, setMessage] = useState(null);
  const send = async (d, attribute, value) => {
    setMessage(null);
    try {
      await api(`/api/devices/${encodeURIComponent(d.id)}/commands`, { method: 'POST', body: { attribute, value } });
    } catch (err) {
      setMessage(t('{name}: that did not work ({why})', { name: d.name, why: err.message }));
    }
  };
  const runScene = async (name) => {
    setMessage(null);
    try {
      const r = await api(`/api/scenes/${encodeURIComponent(name)}/run`, { method: 'POST', body: {} });
      setMessage(r.failed.length ? t('Done, except: {what}', { what: r.failed.join('; ') }) : t('Done.'));
    } catch (err) {
      setMessage(err.status === 428 ? t('This one unlocks a door: use the full app for it.') : t('That did not work ({why})', { why: err.message }));
    }
  };
  const favs = (devices ?? []).filter((d) => prefs.favourites.includes(d.id));
  return html`<main class="simple" data-testid="simple-home">
    ${favs.length === 0 && prefs.scenes.length === 0 && html`<p class="card">${t('Nothing chosen yet: mark favourites with ☆ in the full app.')}</p>`}
    ${favs.map((d) => {
      const main = mainControl(d);
      if (!main) return null;
      const [attribute, spec] = main;
      const value = spec.value;
      let control;
      if (spec.type === 'boolean' && spec.writable)
        control = html`<button class="huge" data-testid=${`simple-toggle-${d.id}`} aria-pressed=${String(value === true)} onClick=${() => send(d, attribute, !(value === true))}>
          ${value === true ? t('Turn off') : t('Turn on')}</button>`;
      else if (spec.type === 'number' && spec.writable) {
        const step = spec.step ?? 0.5;
        const clamp = (v) => Math.min(spec.max ?? Infinity, Math.max(spec.min ?? -Infinity, v));
        const warm = spec.unit === '°C' || spec.unit === '°F';
        control = html`<div class="huge-pair">
          <button class="huge" data-testid=${`simple-lower-${d.id}`} onClick=${() => send(d, attribute, clamp((value ?? 0) - step))}>${warm ? t('Cooler') : t('Less')}</button>
          <button class="huge" data-testid=${`simple-raise-${d.id}`} onClick=${() => send(d, attribute, clamp((value ?? 0) + step))}>${warm ? t('Warmer') : t('More')}</button></div>`;
      }
      return html`<section class="card simple-card" data-testid=${`simple-${d.id}`}>
        <h2>${d.name}</h2>
        <p class="state" data-testid=${`simple-state-${d.id}`}>${d.online ? fmtValue(value, spec.unit, spec.deviceClass) : t('Not reachable')}</p>
        ${d.online && control}</section>`;
    })}
    ${prefs.scenes.map((s) => html`<button class="huge scene" data-testid=${`simple-scene-${s}`} onClick=${() => runScene(s)}>${s.replace(/[-_]/g, ' ')}</button>`)}
    ${message && html`<p class="card" role="status" data-testid="simple-message">${message}</p>`}
    ${!prefs.simpleLocked && html`<button class="secondary" data-testid="simple-leave" onClick=${onLeave}>${t('Full app')}</button>`}
  </main>`;
}
