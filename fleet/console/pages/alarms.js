import { useState } from 'preact/hooks';
import { alarmTitle, api, fmtDuration, fmtTime, html } from '../api.js';
import { pending, useAction, useLive } from '../load.js';

/**
 * Active alarms (a technician's: those of its tickets' devices), newest first, filtered by severity,
 * site and whether someone is on it; acknowledge; a dispatcher clears one or opens a ticket for it.
 */
export function Alarms({ user, query }) {
  const dispatcher = user.role !== 'technician';
  const [severity, setSeverity] = useState(query.get('severity') ?? '');
  const [site, setSite] = useState(query.get('site') ?? '');
  const [unacked, setUnacked] = useState(query.get('acknowledged') === 'false');
  const state = useLive(() => api('/api/alarms?state=active'), [], ['alarms']);
  const [run, error] = useAction(state.bump);
  const wait = pending(state, 'the alarms');
  if (wait) return wait;
  const sites = [...new Set(state.data.map((a) => a.gatewayId))].sort();
  const shown = state.data.filter((a) => (!severity || a.severity === severity) && (!site || a.gatewayId === site) && (!unacked || !a.acknowledged));
  return html`
    <h1>Alarms</h1>
    <div class="actions">
      <label>Severity
        <select value=${severity} onChange=${(e) => setSeverity(e.target.value)} data-testid="filter-severity">
          <option value="">all</option><option value="critical">critical</option><option value="warning">warning</option><option value="info">info</option>
        </select>
      </label>
      <label>Site
        <select value=${site} onChange=${(e) => setSite(e.target.value)}>
          <option value="">all</option>
          ${sites.map((g) => html`<option>${g}</option>`)}
        </select>
      </label>
      <label class="check"><input type="checkbox" checked=${unacked} onChange=${(e) => setUnacked(e.target.checked)} /> nobody on it yet</label>
    </div>
    ${error}
    ${shown.length === 0 && html`<p class="empty">No active alarms${state.data.length > 0 ? ' match' : ''}.</p>`}
    <ul class="cards">
      ${shown.map(
        (a) => html`<li class="card ${a.severity}" data-testid="alarm-${a.id}">
          <div class="title">${alarmTitle(a.code)} <span class="badge">${a.severity}</span>${a.count > 1 && html` <span class="badge">×${a.count}</span>`}</div>
          <div>${a.message}</div>
          <div class="meta">
            Site ${a.gatewayId}${a.deviceRef && html`, device ${a.deviceRef}`} · since ${fmtTime(a.firstAt)} (${fmtDuration(Date.now() - a.firstAt)})
          </div>
          ${a.acknowledged && html`<div class="meta">Acknowledged by ${a.acknowledgedBy}</div>`}
          <div class="actions">
            ${!a.acknowledged && html`<button onClick=${run(() => api(`/api/alarms/${a.id}/ack`, { method: 'POST' }))} data-testid="ack-${a.id}">Acknowledge</button>`}
            ${
              dispatcher &&
              html`<button
                  class="secondary"
                  data-testid="ticket-from-${a.id}"
                  onClick=${run(() =>
                    api('/api/tickets', {
                      method: 'POST',
                      body: {
                        gatewayId: a.gatewayId,
                        alarmId: a.id,
                        title: alarmTitle(a.code),
                        priority: a.severity === 'critical' ? 'high' : 'normal',
                        notes: a.message,
                      },
                    }),
                  )}
                >
                  Open a ticket
                </button>
                <button class="secondary" data-testid="clear-${a.id}" onClick=${run(() => api(`/api/alarms/${a.id}/clear`, { method: 'POST' }))}>Clear</button>`
            }
          </div>
        </li>`,
      )}
    </ul>
  `;
}
