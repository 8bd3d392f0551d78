import { alarmTitle, api, fmtTime, html } from '../api.js';
import { pending, useLive } from '../load.js';

const pct = (x) => `${Math.round(x * 100)}%`;

/** A maintenance signal in plain words: "Compressor running 92% of the hour (usual: 55%)". */
export function signalWords(s) {
  const usual = (f) => (s.baseline === null ? '' : ` (usual: ${f(s.baseline)})`);
  const limit = (f) => (s.threshold === null ? '' : `, limit ${f(s.threshold)}`);
  switch (s.signal) {
    case 'duty_cycle':
      return `Compressor running ${pct(s.value)} of the hour${usual(pct)}${limit(pct)}`;
    case 'starts_per_hour':
      return `Compressor started ${s.value} times an hour${usual((x) => x)}${limit((x) => x)}`;
    case 'recovery_time':
      return `Took ${s.value} min to cool down after the door closed${limit((x) => `${x} min`)}`;
    case 'drift':
      return `${s.attribute.replaceAll('_', ' ')} ${s.value} ${s.unit} away from its usual${s.baseline === null ? '' : ` ${s.baseline} ${s.unit}`}${limit((x) => `${x} ${s.unit}`)}`;
    case 'descale_needed':
      return s.value ? 'Needs descaling' : 'Descaled';
    default:
      return `${s.signal} ${s.value} ${s.unit}`;
  }
}

/** One device: its latest maintenance signals (and their history), usage per day, alarms and commands. */
export function Device({ query }) {
  const site = query.get('site') ?? '';
  const ref = query.get('ref') ?? '';
  const state = useLive(() => api(`/api/sites/${encodeURIComponent(site)}/devices/${encodeURIComponent(ref)}`), [site, ref]);
  const wait = pending(state, 'the device');
  if (wait) return wait;
  const { device, signals, daily, alarms, commands } = state.data;
  const latest = new Map();
  for (const s of signals) latest.set(`${s.signal}/${s.attribute}`, s);
  return html`
    <h1>${device.name ?? device.deviceRef} <span class="badge">${device.model ?? 'device'}</span></h1>
    <p class="meta">At site <a href="#/site?id=${encodeURIComponent(site)}">${site}</a> · ${device.access === 'ended' ? 'the owner ended access' : device.online === false ? `offline since ${fmtTime(device.offlineSince)}` : 'online'}</p>
    <h2>Maintenance</h2>
    ${latest.size === 0 && html`<p class="empty">No maintenance signals in the last 30 days.</p>`}
    <ul class="cards">
      ${[...latest.values()].map(
        (s) => html`<li class="card ${s.exceeded ? 'warning' : ''}" data-testid="signal-${s.signal}">
          <div class="title">${signalWords(s)}</div>
          <div class="meta">${fmtTime(s.at)} · ${signals.filter((x) => x.signal === s.signal && x.attribute === s.attribute).length} readings in 30 days${s.exceeded ? ' · over its limit' : ''}</div>
        </li>`,
      )}
    </ul>
    <h2>Usage per day</h2>
    <table>
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
    <h2>Recent commands</h2>
    ${commands.length === 0 && html`<p class="empty">None.</p>`}
    <ul class="cards">${commands.map((c) => html`<li class="card"><div>${c.attribute} = ${JSON.stringify(c.value)}: ${c.state.replace('_', ' ')}</div>${c.reason && html`<div class="meta">${c.reason}</div>`}</li>`)}</ul>
  `;
}
