import { useState } from 'preact/hooks';
import { alarmTitle, api, customersOf, fallingBehind, fmtDuration, fmtTime, html } from '../api.js';
import { HealthCharts } from '../chart.js';
import { pending, useAction, useLive } from '../load.js';

/** Sites: searchable, filterable by customer and status; a site opens its page. */
export function Sites({ query }) {
  const [search, setSearch] = useState('');
  const [status, setStatus] = useState(query.get('status') ?? '');
  const [customer, setCustomer] = useState(query.get('customer') ?? '');
  const state = useLive(() => api('/api/sites'), [], ['sites', 'devices', 'alarms']);
  const wait = pending(state, 'the sites');
  if (wait) return wait;
  const needle = search.trim().toLowerCase();
  const customers = customersOf(state.data);
  const shown = state.data.filter(
    (s) =>
      (!status || (status === 'behind' ? fallingBehind(s) : (status === 'online') === (s.state === 'online'))) &&
      (!customer || s.customer === customer) &&
      (!needle || [s.gatewayId, s.label, s.customer].some((x) => x?.toLowerCase().includes(needle))),
  );
  return html`
    <h1>Sites</h1>
    <div class="actions">
      <label>Search <input type="search" value=${search} onInput=${(e) => setSearch(e.target.value)} placeholder="site, label or customer" data-testid="site-search" /></label>
      <label>Status
        <select value=${status} onChange=${(e) => setStatus(e.target.value)}>
          <option value="">all</option><option value="online">online</option><option value="offline">offline</option><option value="behind">falling behind</option>
        </select>
      </label>
      <label>Customer
        <select value=${customer} onChange=${(e) => setCustomer(e.target.value)} data-testid="filter-customer">
          <option value="">all</option>
          ${customers.map((c) => html`<option>${c}</option>`)}
        </select>
      </label>
    </div>
    <ul class="cards">
      ${shown.map(
        (s) => html`<li class="card" data-testid="site-card-${s.gatewayId}">
          <a class="title" href="#/site?id=${encodeURIComponent(s.gatewayId)}">${s.label ?? s.gatewayId}</a>
          <span class="badge">${s.state === 'online' ? 'online' : 'offline'}</span>
          <div class="meta">${s.customer ?? 'no customer'} · ${s.devices} devices · ${s.activeAlarms} active alarms · last heard ${fmtTime(s.lastSeen)}</div>
        </li>`,
      )}
    </ul>
  `;
}

/** One site: its devices as the owner granted them, its last health figures, alarms and open tickets; a device's diagnostic snapshot. */
export function Site({ query }) {
  const id = query.get('id') ?? '';
  const state = useLive(
    async () => ({ site: await api(`/api/sites/${encodeURIComponent(id)}`), tickets: await api(`/api/tickets?gatewayId=${encodeURIComponent(id)}`) }),
    [id],
    ['sites', 'devices', 'alarms', 'tickets'],
  );
  const [diag, setDiag] = useState(null);
  const [run, error] = useAction();
  const wait = pending(state, 'the site');
  if (wait) return wait;
  const { site, devices, health, alarms } = state.data.site;
  const tickets = state.data.tickets.filter((t) => t.state !== 'closed');
  const ask = (d) => run(async () => setDiag(await askDiagnosis(site.gatewayId, d.deviceRef)));
  return html`
    <h1>${site.label ?? site.gatewayId} <span class="badge">${site.state === 'online' ? 'online' : 'offline'}</span></h1>
    <p class="meta">${site.customer ?? 'no customer'} · time zone ${site.timeZone ?? 'unknown'} · gateway ${site.version ?? ''} · last heard ${fmtTime(site.lastSeen)}</p>
    ${error}
    ${
      health &&
      html`<section class="tiles">
        <div class="tile"><span class="n">${health.devices.online}/${health.devices.known}</span><span>devices online</span></div>
        <div class="tile"><span class="n">${health.eventLoop.lagP99Ms.toFixed(1)} ms</span><span>event-loop lag (p99)</span></div>
        <div class="tile"><span class="n">${Math.round(health.cpu.percent)}%</span><span>CPU</span></div>
        <div class="tile"><span class="n">${health.outbox.depth}</span><span>records waiting to be sent</span></div>
        <div class="tile"><span class="n">${fmtDuration(health.uptimeS * 1000)}</span><span>up</span></div>
      </section>`
    }
    <h2>Health, last 24 hours</h2>
    <${HealthCharts} gatewayId=${site.gatewayId} />
    <h2>Devices</h2>
    <table>
      <thead><tr><th>Device</th><th>Model</th><th>Status</th><th>Shared with you</th><th></th></tr></thead>
      <tbody>
        ${devices.map(
          (d) => html`<tr data-testid="device-${d.deviceRef}">
            <td><a href="#/device?site=${encodeURIComponent(site.gatewayId)}&ref=${encodeURIComponent(d.deviceRef)}">${d.name ?? d.deviceRef}</a></td>
            <td>${d.model ?? '–'}</td>
            <td class=${d.online === false ? 'bad' : d.online ? 'ok' : ''}>${d.access === 'ended' ? 'access ended' : d.online === false ? `offline since ${fmtTime(d.offlineSince)}` : d.online ? 'online' : '–'}</td>
            <td>${d.classes.join(', ') || '–'}${d.commands.length > 0 && html`<div class="meta">may set: ${d.commands.join(', ')}</div>`}</td>
            <td>${d.access === 'granted' && d.classes.includes('telemetry') && html`<button class="secondary" onClick=${ask(d)} data-testid="diag-${d.deviceRef}">Diagnose</button>`}</td>
          </tr>`,
        )}
      </tbody>
    </table>
    ${diag && html`<${Diagnosis} ...${diag} />`}
    <h2>Active alarms (${alarms.length})</h2>
    <ul class="cards">${alarms.map((a) => html`<li class="card ${a.severity}"><div class="title">${alarmTitle(a.code)}</div><div>${a.message}</div></li>`)}</ul>
    <h2>Open tickets (${tickets.length})</h2>
    <ul class="cards">${tickets.map((t) => html`<li class="card"><div class="title">${t.title}</div><div class="meta">${t.state.replace('_', ' ')}</div></li>`)}</ul>
  `;
}

/** Asks a device for a diagnostic snapshot: what `Diagnosis` shows. */
export async function askDiagnosis(gatewayId, deviceRef) {
  const { requestId } = await api('/api/diagnostics', { method: 'POST', body: { gatewayId, deviceRef } });
  return { requestId, deviceRef };
}

/** A diagnostic snapshot as it arrives: asked, refused with the reason, or the device's attributes and readings. */
export function Diagnosis({ requestId, deviceRef }) {
  const state = useLive(() => api(`/api/diagnostics/${requestId}`), [requestId], ['diagnostics']);
  const d = state.data;
  if (!d?.status) return html`<div class="card" data-testid="diagnosis">Asking ${deviceRef} for a snapshot…</div>`;
  if (d.status !== 'done') return html`<div class="card" data-testid="diagnosis">The gateway refused: ${d.data?.reason}</div>`;
  const counts = new Map();
  for (const r of d.data.readings ?? []) counts.set(r.attribute, (counts.get(r.attribute) ?? 0) + 1);
  return html`<div class="card" data-testid="diagnosis">
    <div class="title">Snapshot of ${deviceRef}, ${d.data.online ? 'online' : 'offline'}</div>
    <table>
      ${Object.entries(d.data.attributes ?? {}).map(([k, v]) => html`<tr><td>${k.replaceAll('_', ' ')}</td><td>${String(v)}</td><td class="meta">${counts.get(k) ?? 0} ${counts.get(k) === 1 ? 'reading' : 'readings'} in the last hour</td></tr>`)}
    </table>
  </div>`;
}
