import { api, fallingBehind, html, slaState } from '../api.js';
import { pending, useLive } from '../load.js';

/** The fleet at a glance: sites online and offline, active alarms by severity, open tickets by SLA state. */
export function Overview({ user }) {
  const operations = user.role !== 'billing';
  const state = useLive(
    async () => ({
      sites: await api('/api/sites'),
      alarms: operations ? await api('/api/alarms?state=active') : [],
      worst: operations ? await api('/api/maintenance/worst') : [],
      tickets: operations ? await api('/api/tickets') : [],
    }),
    [],
    ['alarms', 'tickets', 'sites', 'devices'],
  );
  const wait = pending(state, 'the overview');
  if (wait) return wait;
  const { sites, alarms, tickets, worst } = state.data;
  const online = sites.filter((s) => s.state === 'online').length;
  const open = tickets.filter((t) => t.state !== 'closed');
  const by = (list, key) => {
    const counts = {};
    for (const x of list) counts[key(x)] = (counts[key(x)] ?? 0) + 1;
    return counts;
  };
  const severity = by(alarms, (a) => a.severity);
  const sla = by(open, (t) => slaState(t));
  const lagging = sites.filter(fallingBehind);
  const tile = (label, value, href, tone = '') =>
    html`<a class="tile ${tone}" href=${href} data-testid="tile-${label.toLowerCase().replaceAll(' ', '-')}"><span class="n">${value}</span><span>${label}</span></a>`;
  return html`
    <h1>Overview</h1>
    <section class="tiles">
      ${tile('Sites online', online, operations ? '#/sites?status=online' : '#/overview')}
      ${tile('Sites offline', sites.length - online, operations ? '#/sites?status=offline' : '#/overview', sites.length - online ? 'bad' : '')}
      ${operations && tile('Sites falling behind', lagging.length, '#/sites?status=behind', lagging.length ? 'warn' : '')}
      ${operations && tile('Critical alarms', severity.critical ?? 0, '#/alarms?severity=critical', severity.critical ? 'bad' : '')}
      ${operations && tile('Warnings', severity.warning ?? 0, '#/alarms?severity=warning', severity.warning ? 'warn' : '')}
      ${operations && tile('Tickets on time', sla['on time'] ?? 0, '#/tickets?sla=on-time')}
      ${operations && tile('Tickets at risk', sla['at risk'] ?? 0, '#/tickets?sla=at-risk', sla['at risk'] ? 'warn' : '')}
      ${operations && tile('Tickets breached', sla.breached ?? 0, '#/tickets?sla=breached', sla.breached ? 'bad' : '')}
    </section>
    ${
      worst.length > 0 &&
      html`<h2>Worst maintenance signals</h2>
        <ul class="cards">
          ${worst.map(
            (s) => html`<li class="card warning" data-testid="worst-${s.deviceRef}-${s.signal}">
              <a class="title" href="#/device?site=${encodeURIComponent(s.gatewayId)}&ref=${encodeURIComponent(s.deviceRef)}">${s.words}</a>
              <div class="meta">${s.model ?? 'device'} ${s.deviceRef} at ${s.gatewayId}</div>
            </li>`,
          )}
        </ul>`
    }
    <h2>Sites</h2>
    <table>
      <thead><tr><th>Site</th><th>Customer</th><th>Status</th><th>Devices</th><th>Active alarms</th><th>Waiting to send</th></tr></thead>
      <tbody>
        ${sites.map(
          (s) => html`<tr data-testid="site-${s.gatewayId}">
            <td>${operations ? html`<a href="#/site?id=${encodeURIComponent(s.gatewayId)}">${s.label ?? s.gatewayId}</a>` : (s.label ?? s.gatewayId)}</td>
            <td>${s.customer ?? '–'}</td>
            <td class=${s.state === 'online' ? 'ok' : 'bad'}>${s.state === 'online' ? 'Online' : 'Offline'}</td>
            <td>${s.devices}</td>
            <td>${s.activeAlarms}</td>
            <td class=${lagging.includes(s) ? 'warn' : ''}>${s.outboxDepth === null ? '–' : `${s.outboxDepth} records`}</td>
          </tr>`,
        )}
      </tbody>
    </table>
  `;
}
