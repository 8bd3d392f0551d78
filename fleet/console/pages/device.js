import { useState } from 'preact/hooks';
import { alarmTitle, api, fmtTime, html } from '../api.js';
import { LineChart } from '../chart.js';
import { pending, useAction, useLive } from '../load.js';
import { CommandForm, CommandRows } from './commands.js';
import { askDiagnosis, Diagnosis } from './sites.js';

const CHARTED = {
  duty_cycle: { label: 'Compressor running, % of the hour', scale: 100 },
  starts_per_hour: { label: 'Compressor starts per hour', scale: 1 },
  recovery_time: { label: 'Minutes to cool down after the door closed', scale: 1 },
  drift: { label: null, scale: 1 },
};

/** One signal over 30 days against the device's own baseline (dashed) and its limit (red). */
function SignalChart({ points }) {
  const s = points[0];
  const how = CHARTED[s.signal];
  const scaled = (v) => (v === null ? null : v * how.scale);
  const lines = [{ label: 'this device', color: '#1f5f8b', values: points.map((p) => scaled(p.value)) }];
  if (points.some((p) => p.baseline !== null))
    lines.push({ label: 'its usual', color: '#5b6570', dash: [6, 4], values: points.map((p) => scaled(p.baseline)) });
  if (points.some((p) => p.threshold !== null)) lines.push({ label: 'limit', color: '#b3261e', dash: [2, 3], values: points.map((p) => scaled(p.threshold)) });
  const label = how.label ?? `${s.attribute.replaceAll('_', ' ')} away from its usual, ${s.unit}`;
  return html`<${LineChart} id=${`${s.signal}-${s.attribute}`} label=${label} x=${points.map((p) => p.at)} lines=${lines} />`;
}

/**
 * One device: its maintenance signals in words and over time against its baseline, usage per day,
 * alarms and tickets, a diagnostic snapshot (where telemetry is granted), and the commands it
 * accepts, sent from here with a confirmation, with their results.
 */
export function Device({ query }) {
  const site = query.get('site') ?? '';
  const ref = query.get('ref') ?? '';
  const state = useLive(
    async () => ({
      detail: await api(`/api/sites/${encodeURIComponent(site)}/devices/${encodeURIComponent(ref)}`),
      tickets: (await api(`/api/tickets?gatewayId=${encodeURIComponent(site)}`)).filter((t) => t.deviceRef === ref),
    }),
    [site, ref],
    ['devices', 'alarms', 'commands', 'tickets'],
  );
  const [diag, setDiag] = useState(null);
  const [run, error] = useAction();
  const wait = pending(state, 'the device');
  if (wait) return wait;
  const { device, signals, daily, alarms, commands } = state.data.detail;
  const tickets = state.data.tickets;
  const series = new Map();
  for (const s of signals) {
    const key = `${s.signal}/${s.attribute}`;
    series.set(key, [...(series.get(key) ?? []), s]);
  }
  const latest = [...series.values()].map((points) => points[points.length - 1]);
  const granted = device.access === 'granted';
  return html`
    <h1>${device.name ?? device.deviceRef} <span class="badge">${device.model ?? 'device'}</span></h1>
    <p class="meta">At site <a href="#/site?id=${encodeURIComponent(site)}">${site}</a> · ${device.access === 'ended' ? 'the owner ended access' : device.online === false ? `offline since ${fmtTime(device.offlineSince)}` : 'online'}</p>
    ${error}
    <h2>Maintenance</h2>
    ${latest.length === 0 && html`<p class="empty">No maintenance signals in the last 30 days.</p>`}
    <ul class="cards">
      ${latest.map(
        (s) => html`<li class="card ${s.exceeded ? 'warning' : ''}" data-testid="signal-${s.signal}">
          <div class="title">${s.words}</div>
          <div class="meta">${fmtTime(s.at)} · ${series.get(`${s.signal}/${s.attribute}`).length} readings in 30 days${s.exceeded ? ' · over its limit' : ''}</div>
        </li>`,
      )}
    </ul>
    <div class="charts">${[...series.values()].filter((p) => CHARTED[p[0].signal]).map((points) => html`<${SignalChart} points=${points} />`)}</div>
    <h2>Usage per day</h2>
    ${daily.length === 0 && html`<p class="empty">No usage in the last 30 days.</p>`}
    <table hidden=${daily.length === 0}>
      <thead><tr><th>Day</th><th>Energy</th><th>Counters</th><th>Running</th></tr></thead>
      <tbody>
        ${daily.map(
          (d) =>
            html`<tr data-testid="day-${d.day}"><td>${d.day}</td><td>${d.energyKWh} kWh</td><td>${
              Object.entries(d.counters)
                .map(([k, v]) => `${v} ${k.replaceAll('_', ' ')}`)
                .join(', ') || '–'
            }</td><td>${d.onHours} h</td></tr>`,
        )}
      </tbody>
    </table>
    <h2>Active alarms</h2>
    <ul class="cards">${alarms.map((a) => html`<li class="card ${a.severity}"><div class="title">${alarmTitle(a.code)}</div><div>${a.message}</div></li>`)}</ul>
    ${alarms.length === 0 && html`<p class="empty">None.</p>`}
    <h2>Tickets</h2>
    ${tickets.length === 0 && html`<p class="empty">None.</p>`}
    <ul class="cards">${tickets.map((t) => html`<li class="card"><div class="title">${t.title}</div><div class="meta">${t.state.replace('_', ' ')} · opened ${fmtTime(t.createdAt)}</div></li>`)}</ul>
    ${
      granted &&
      device.classes.includes('telemetry') &&
      html`<h2>Diagnosis</h2>
        <button
          class="secondary"
          data-testid="diag-${device.deviceRef}"
          onClick=${run(async () => setDiag(await askDiagnosis(site, device.deviceRef)))}
        >
          Ask for a diagnostic snapshot
        </button>
        ${diag && html`<${Diagnosis} ...${diag} />`}`
    }
    <h2>Commands</h2>
    ${granted && device.commands.length > 0 ? html`<section class="card"><${CommandForm} device=${device} onSent=${state.bump} /></section>` : html`<p class="meta">The owner lets you set nothing on this device.</p>`}
    <${CommandRows} commands=${commands} />
  `;
}
