import { t } from '../i18n.js';
import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { fmtTime, html } from '../html.js';
import { useAction, useLoad } from '../load.js';

const SEVERITY_WORDS = { info: t('everything'), warning: t('warnings and urgent ones'), critical: t('urgent ones only') };

/** For the owner: where alerts go besides this app (webhooks, ntfy), what each was sent, and a test button. */
export function ChannelsCard() {
  const [tick, setTick] = useState(0);
  const state = useLoad(() => api('/api/notify'), [tick]);
  const [results, setResults] = useState(null);
  const [run, failed] = useAction();
  if (!state.data) return null;
  const test = run(async () => {
    setResults(await api('/api/notify/test', { method: 'POST', body: {} }));
    setTick((n) => n + 1);
  });
  return html`<h2>${t('Notifications')}</h2>
    <section class="card" data-testid="channels">
      ${
        state.data.length === 0
          ? html`<p class="muted">${t('Alerts show here and on every paired phone. To get them elsewhere too, add a webhook or an ntfy topic under notify.channels in the config.')}</p>`
          : html`<table>${state.data.map(
              (
                c,
              ) => html`<tr data-testid=${`channel-${c.name}`}><td><strong>${c.name}</strong><br /><span class="muted">${t('{type} at {where}', { type: c.type, where: c.where })}, ${SEVERITY_WORDS[c.minSeverity]}</span></td>
              <td>${t('{n} sent', { n: c.sent })}${c.failed ? `, ${t('{n} lost', { n: c.failed })}` : ''}<br /><span class=${c.lastError ? 'errors' : 'muted'}>${c.lastError ? t('last try: {why}', { why: c.lastError }) : c.lastOkAt ? t('last {when}', { when: fmtTime(c.lastOkAt) }) : ''}</span></td></tr>`,
            )}</table>
          <button class="secondary" data-testid="channels-test" onClick=${test}>${t('Send a test')}</button>`
      }
      ${results && html`<ul data-testid="channels-results">${results.map((r) => html`<li class=${r.ok ? 'ok' : 'errors'}>${r.name}: ${r.ok ? t('arrived') : r.error}</li>`)}</ul>`}
      ${failed}
    </section>`;
}
