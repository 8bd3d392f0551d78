import { alarmTitle, api, fmtDuration, fmtTime, html } from '../api.js';
import { pending, useAction, useLive } from '../load.js';

/** Active alarms (a technician's: those of its tickets' devices), newest first; acknowledge; a dispatcher clears one or opens a ticket for it. */
export function Alarms({ user }) {
  const dispatcher = user.role !== 'technician';
  const state = useLive(() => api('/api/alarms?state=active'));
  const [run, error] = useAction(state.bump);
  const wait = pending(state, 'the alarms');
  if (wait) return wait;
  return html`
    <h1>Alarms</h1>
    ${error}
    ${state.data.length === 0 && html`<p class="empty">No active alarms.</p>`}
    <ul class="cards">
      ${state.data.map(
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
