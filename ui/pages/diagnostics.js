import { t } from '../i18n.js';
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.js';
import { Failed, pending } from '../load.js';
import { html } from '../html.js';

const mb = (b) => `${(b / 1048576).toFixed(1)} MB`;

/** Self-service troubleshooting: is it the device, the gateway, or the internet? */
export function DiagnosticsPage() {
  const [state, setState] = useState({ data: null, error: null });
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    const load = () =>
      api('/api/diagnostics').then(
        (data) => setState({ data, error: null }),
        (error) => setState((s) => ({ data: s.data, error })),
      );
    load();
    const t = setInterval(load, 5000);
    return () => clearInterval(t);
  }, [attempt]);
  const retry = () => setAttempt((n) => n + 1);
  const wait = pending({ ...state, retry }, t('the gateway status'));
  if (wait) return wait;
  const d = state.data;
  const stale = state.error && html`<${Failed} error=${state.error} retry=${retry} what=${t('the latest status')} />`;
  const h = d.health;
  return html`
    ${stale}
    <h2>${t('Gateway')}</h2>
    <section class="card" data-testid="diagnostics">
      <div class="row"><span>${t('Running for')}</span><span class="value">${t('{n} min', { n: Math.round(h.uptimeS / 60) })}</span></div>
      <div class="row"><span>${t('Devices online')}</span><span class="value">${t('{n} of {all}', { n: h.devices.online, all: h.devices.known })}</span></div>
      <div class="row"><span>${t('Memory')}</span><span class="value">${mb(h.memory.rssBytes)}</span></div>
      <div class="row"><span>${t('Free disk')}</span><span class="value">${h.disk.freeBytes === null ? '?' : mb(h.disk.freeBytes)}</span></div>
      <div class="row"><span>${t('Database')}</span><span class="value">${mb(h.disk.databaseBytes)}</span></div>
      <div class="row"><span>${t('Responsiveness (slowest delay)')}</span><span class="value">${h.eventLoop.lagMaxMs} ms</span></div>
    </section>
    <h2>${t('Cloud')}</h2>
    <section class="card" data-testid="cloud">
      ${
        d.cloud.configured
          ? html`
        <div class="row"><span>${t('Connection')}</span><span class="value">${d.cloud.connected ? t('connected (MQTT {v})', { v: d.cloud.protocol === 5 ? '5' : '3.1.1' }) : t('not connected')}</span></div>
        ${!d.cloud.connected && d.cloud.lastError && html`<p class="muted">${t('Last error: {why}', { why: d.cloud.lastError })}</p>`}
        <div class="row"><span>${t('Waiting to be sent')}</span><span class="value" data-testid="outbox-depth">${t('{n} records', { n: h.outbox.depth })}</span></div>
        <div class="row"><span>${t('Oldest waiting')}</span><span class="value">${h.outbox.oldestAgeS === null ? '–' : t('{n} min', { n: Math.round(h.outbox.oldestAgeS / 60) })}</span></div>
        <div class="row"><span>${t('Dropped (queue full)')}</span><span class="value">${Object.values(h.outbox.dropped).reduce((a, b) => a + b, 0)}</span></div>`
          : html`<p>${t('Cloud sync is off (no cloud.url in the configuration). Everything works locally.')}</p>`
      }
    </section>
    <h2>${t('Devices by connection')}</h2>
    <section class="card"><table><tr><th>${t('Driver')}</th><th>${t('Messages')}</th><th>${t('Rejected')}</th><th>${t('Commands')}</th></tr>
      ${Object.entries(h.drivers).map(([name, c]) => html`<tr><td>${name}</td><td>${c.messages}</td><td>${c.rejected}</td><td>${c.commandsSent}</td></tr>`)}</table>
      <p class="muted">${t('Rejected messages are payloads a device sent that did not match what it announced.')}</p></section>
    ${d.rules.problems && html`<h2>${t('Rule file')}</h2><pre class="errors">${d.rules.problems}</pre>`}`;
}
