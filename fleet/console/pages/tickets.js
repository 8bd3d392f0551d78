import { useState } from 'preact/hooks';
import { alarmTitle, api, fmtDuration, fmtTime, html, slaState } from '../api.js';
import { pending, useAction, useLive } from '../load.js';

const COLUMNS = [
  ['open', 'Open'],
  ['assigned', 'Assigned'],
  ['scheduled', 'Scheduled'],
  ['in_progress', 'In progress'],
  ['resolved', 'Resolved, being verified'],
];

/** A dispatcher's board by state; a technician's own list (fits a phone). */
export function Tickets({ user, query }) {
  const dispatcher = user.role !== 'technician';
  const [sla, setSla] = useState(query.get('sla') ?? '');
  const state = useLive(async () => ({ tickets: await api('/api/tickets'), technicians: dispatcher ? await api('/api/technicians') : [] }), [], ['tickets']);
  const [run, error] = useAction(state.bump);
  const wait = pending(state, 'the tickets');
  if (wait) return wait;
  const { tickets, technicians } = state.data;
  const move = (t, body) => run(() => api(`/api/tickets/${t.id}/transition`, { method: 'POST', body }));
  const card = (t) => {
    const standing = slaState(t);
    const due = t.resolveDueAt - Date.now();
    return html`<li class="card" data-testid="ticket-${t.id}">
      <div class="title">${t.title} <span class="badge sla-${standing.replace(' ', '-')}">${standing}</span></div>
      <div class="meta">
        Site ${t.gatewayId}${t.deviceRef && html`, device <a href="#/device?site=${encodeURIComponent(t.gatewayId)}&ref=${encodeURIComponent(t.deviceRef)}">${t.deviceRef}</a>`} ·
        ${t.priority} priority · opened ${fmtTime(t.createdAt)}
      </div>
      ${t.alarmCode && html`<div class="meta">From the alarm: ${alarmTitle(t.alarmCode)}</div>`}
      ${t.notes && html`<div>${t.notes}</div>`}
      ${t.state !== 'resolved' && html`<div class="meta">${due >= 0 ? `Resolve within ${fmtDuration(due)}` : `Resolution overdue by ${fmtDuration(due)}`}</div>`}
      ${t.resolutionCode && html`<div class="meta">Resolved: ${t.resolutionCode}</div>`}
      <div class="actions">
        ${
          dispatcher &&
          ['open', 'assigned'].includes(t.state) &&
          html`<label
            >Technician
            <select data-testid="assign-${t.id}" onChange=${(e) => e.target.value && move(t, { to: 'assigned', assigneeId: Number(e.target.value) })()}>
              <option value="">${t.assigneeId ? (technicians.find((x) => x.id === t.assigneeId)?.name ?? 'someone') : 'choose…'}</option>
              ${technicians.filter((x) => x.id !== t.assigneeId).map((x) => html`<option value=${x.id}>${x.name}</option>`)}
            </select></label
          >`
        }
        ${
          t.state === 'assigned' &&
          html`<form
            class="schedule"
            onSubmit=${(e) => {
              e.preventDefault();
              const when = new Date(new FormData(e.target).get('when')).getTime();
              move(t, { to: 'scheduled', scheduledFor: when })();
            }}
          >
            <label>Visit <input name="when" type="datetime-local" required data-testid="when-${t.id}" /></label>
            <button class="secondary" type="submit" data-testid="schedule-${t.id}">Schedule</button>
          </form>`
        }
        ${t.scheduledFor && t.state === 'scheduled' && html`<div class="meta">Visit ${fmtTime(t.scheduledFor)}</div>`}
        ${['assigned', 'scheduled'].includes(t.state) && html`<button onClick=${move(t, { to: 'in_progress' })} data-testid="start-${t.id}">Start work</button>`}
        ${
          t.state === 'in_progress' &&
          html`<form
            class="resolve"
            onSubmit=${(e) => {
              e.preventDefault();
              const f = new FormData(e.target);
              move(t, { to: 'resolved', resolutionCode: f.get('code'), notes: f.get('notes') || undefined })();
            }}
          >
            <label>Resolution <input name="code" required placeholder="e.g. door-seal-replaced" data-testid="code-${t.id}" /></label>
            <label>Notes <input name="notes" /></label>
            <button type="submit" data-testid="resolve-${t.id}">Resolve</button>
          </form>`
        }
      </div>
    </li>`;
  };
  const live = tickets.filter((t) => t.state !== 'closed' && (!sla || slaState(t).replace(' ', '-') === sla));
  return html`
    <h1>${dispatcher ? 'Tickets' : 'My tickets'}</h1>
    <div class="actions">
      <label>Due
        <select value=${sla} onChange=${(e) => setSla(e.target.value)} data-testid="filter-sla">
          <option value="">all</option><option value="on-time">on time</option><option value="at-risk">at risk</option><option value="breached">breached</option>
        </select>
      </label>
    </div>
    ${error}
    ${live.length === 0 && html`<p class="empty">No open tickets.</p>`}
    ${
      dispatcher
        ? html`<div class="board">
            ${COLUMNS.map(
              ([s, label]) => html`<section class="column" data-testid="column-${s}">
                <h2>${label} (${live.filter((t) => t.state === s).length})</h2>
                <ul class="cards">${live.filter((t) => t.state === s).map(card)}</ul>
              </section>`,
            )}
          </div>`
        : html`<ul class="cards">${live.map(card)}</ul>`
    }
  `;
}
