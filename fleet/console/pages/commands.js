import { useState } from 'preact/hooks';
import { api, fmtTime, html } from '../api.js';
import { pending, useAction, useLive } from '../load.js';

const STATE_WORDS = {
  created: 'waiting for the gateway',
  sent: 'sent, waiting for the answer',
  succeeded: 'done',
  failed: 'failed',
  rejected: 'refused by the gateway',
  timed_out: 'no answer',
  expired: 'expired unsent (gateway offline)',
};

/** A typed value from a form field: true/false and numbers as themselves. */
function parseValue(text) {
  if (text === 'true' || text === 'false') return text === 'true';
  return text.trim() !== '' && Number.isFinite(Number(text)) ? Number(text) : text;
}

/** Remote commands: send one (with a confirmation), or a bulk job; watch the results. */
export function Commands({ query }) {
  const state = useLive(
    async () => ({ commands: await api('/api/commands'), devices: await api('/api/devices?commandable=true') }),
    [],
    ['commands', 'devices'],
  );
  const [target, setTarget] = useState(query.get('device') ?? '');
  const [job, setJob] = useState(null);
  const [run, error] = useAction(state.bump);
  const wait = pending(state, 'the commands');
  if (wait) return wait;
  const { commands, devices } = state.data;
  const device = devices.find((d) => `${d.gatewayId}/${d.deviceRef}` === target);
  const models = [...new Set(devices.map((d) => d.model).filter(Boolean))];
  return html`
    <h1>Commands</h1>
    ${error}
    <section class="card">
      <h2>Send a command</h2>
      <label>Device
        <select value=${target} onChange=${(e) => setTarget(e.target.value)} data-testid="command-device" required>
          <option value="">choose…</option>
          ${devices.map((d) => html`<option value=${`${d.gatewayId}/${d.deviceRef}`}>${d.name ?? d.deviceRef} (${d.model ?? 'device'}) at ${d.gatewayId}</option>`)}
        </select>
      </label>
      ${device && html`<${CommandForm} key=${target} device=${device} onSent=${state.bump} />`}
    </section>
    <section class="card">
      <h2>Bulk job</h2>
      <form
        onSubmit=${run(async (e) => {
          e.preventDefault();
          const f = new FormData(e.target);
          const body = {
            name: f.get('name'),
            attribute: f.get('attribute'),
            value: parseValue(f.get('value')),
            filter: { model: f.get('model') || undefined },
          };
          if (f.get('localTime')) body.localTime = f.get('localTime');
          setJob(await api('/api/jobs', { method: 'POST', body }));
        })}
      >
        <label>Name <input name="name" required placeholder="descale every espresso machine" /></label>
        <label>Model <select name="model"><option value="">any</option>${models.map((m) => html`<option>${m}</option>`)}</select></label>
        <label>Setting <input name="attribute" required placeholder="descale" /></label>
        <label>Value <input name="value" required placeholder="true" /></label>
        <label>At local time (each site's) <input name="localTime" type="time" /></label>
        <button type="submit">Start the job</button>
      </form>
      ${job && html`<${JobProgress} id=${job.id} />`}
    </section>
    <h2>Recent commands</h2>
    <${CommandRows} commands=${commands} />
  `;
}

/** A bulk job's progress: the share done, the count per state, and each device's command. */
function JobProgress({ id }) {
  const state = useLive(async () => ({ job: await api(`/api/jobs/${id}`), commands: await api(`/api/commands?jobId=${id}`) }), [id], ['commands']);
  if (!state.data) return null;
  const p = state.data.job;
  return html`<div data-testid="job-progress">
    <progress max="1" value=${p.done}></progress> ${Math.round(p.done * 100)}% of ${p.total} devices:
    ${Object.entries(p.states).map(([s, n]) => html` ${n} ${STATE_WORDS[s]};`)}
    <${CommandRows} commands=${state.data.commands} />
  </div>`;
}

/** Commands with their results in words, newest first. */
export function CommandRows({ commands }) {
  if (commands.length === 0) return html`<p class="empty">None.</p>`;
  return html`<table>
    <thead><tr><th>When</th><th>Device</th><th>Setting</th><th>Result</th><th>By</th></tr></thead>
    <tbody>
      ${commands.map(
        (c) => html`<tr data-testid="command-${c.requestId}">
          <td>${fmtTime(c.createdAt)}</td>
          <td>${c.deviceRef} at ${c.gatewayId}</td>
          <td>${c.attribute} = ${JSON.stringify(c.value)}</td>
          <td class=${['failed', 'rejected', 'timed_out', 'expired'].includes(c.state) ? 'bad' : c.state === 'succeeded' ? 'ok' : ''}>
            ${STATE_WORDS[c.state]}${c.reason && html`<div class="meta">${c.reason}</div>`}
          </td>
          <td>${c.createdBy}</td>
        </tr>`,
      )}
    </tbody>
  </table>`;
}

/** Sends one command to `device`, after a confirmation that says exactly what will be set where. */
export function CommandForm({ device, onSent }) {
  const [confirming, setConfirming] = useState(null);
  const [run, error] = useAction(onSent);
  return html`
    ${error}
    <form
      onSubmit=${(e) => {
        e.preventDefault();
        const f = new FormData(e.target);
        setConfirming({ gatewayId: device.gatewayId, deviceRef: device.deviceRef, attribute: f.get('attribute'), value: parseValue(f.get('value')) });
      }}
    >
      <label>Setting <select name="attribute" data-testid="command-attribute">${device.commands.map((a) => html`<option>${a}</option>`)}</select></label>
      <label>Value <input name="value" required placeholder="true, false or a number" data-testid="command-value" /></label>
      <button type="submit" data-testid="command-send">Send…</button>
    </form>
    ${
      confirming &&
      html`<div class="confirm" role="dialog" aria-label="Confirm the command">
        <p>Set <strong>${confirming.attribute}</strong> to <strong>${String(confirming.value)}</strong> on ${device.name ?? confirming.deviceRef} at ${confirming.gatewayId}?</p>
        <button onClick=${run(async () => {
          await api('/api/commands', { method: 'POST', body: confirming });
          setConfirming(null);
        })} data-testid="command-confirm">Yes, send it</button>
        <button class="secondary" onClick=${() => setConfirming(null)}>Cancel</button>
      </div>`
    }
  `;
}
