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
  const wait = pending({ ...state, retry }, 'the gateway status');
  if (wait) return wait;
  const d = state.data;
  const stale = state.error && html`<${Failed} error=${state.error} retry=${retry} what="the latest status" />`;
  const h = d.health;
  return html`
    ${stale}
    <h2>Gateway</h2>
    <section class="card" data-testid="diagnostics">
      <div class="row"><span>Running for</span><span class="value">${Math.round(h.uptimeS / 60)} min</span></div>
      <div class="row"><span>Devices online</span><span class="value">${h.devices.online} of ${h.devices.known}</span></div>
      <div class="row"><span>Memory</span><span class="value">${mb(h.memory.rssBytes)}</span></div>
      <div class="row"><span>Free disk</span><span class="value">${h.disk.freeBytes === null ? '?' : mb(h.disk.freeBytes)}</span></div>
      <div class="row"><span>Database</span><span class="value">${mb(h.disk.databaseBytes)}</span></div>
      <div class="row"><span>Responsiveness (slowest delay)</span><span class="value">${h.eventLoop.lagMaxMs} ms</span></div>
    </section>
    <h2>Cloud</h2>
    <section class="card" data-testid="cloud">
      ${
        d.cloud.configured
          ? html`
        <div class="row"><span>Connection</span><span class="value">${d.cloud.connected ? `connected (MQTT ${d.cloud.protocol === 5 ? '5' : '3.1.1'})` : 'not connected'}</span></div>
        ${!d.cloud.connected && d.cloud.lastError && html`<p class="muted">Last error: ${d.cloud.lastError}</p>`}
        <div class="row"><span>Waiting to be sent</span><span class="value" data-testid="outbox-depth">${h.outbox.depth} records</span></div>
        <div class="row"><span>Oldest waiting</span><span class="value">${h.outbox.oldestAgeS === null ? '–' : `${Math.round(h.outbox.oldestAgeS / 60)} min`}</span></div>
        <div class="row"><span>Dropped (queue full)</span><span class="value">${Object.values(h.outbox.dropped).reduce((a, b) => a + b, 0)}</span></div>`
          : html`<p>Cloud sync is off (no <code>cloud.url</code> in the configuration). Everything works locally.</p>`
      }
    </section>
    <h2>Devices by connection</h2>
    <section class="card"><table><tr><th>Driver</th><th>Messages</th><th>Rejected</th><th>Commands</th></tr>
      ${Object.entries(h.drivers).map(([name, c]) => html`<tr><td>${name}</td><td>${c.messages}</td><td>${c.rejected}</td><td>${c.commandsSent}</td></tr>`)}</table>
      <p class="muted">Rejected messages are payloads a device sent that did not match what it announced.</p></section>
    ${d.rules.problems && html`<h2>Rule file</h2><pre class="errors">${d.rules.problems}</pre>`}`;
}
