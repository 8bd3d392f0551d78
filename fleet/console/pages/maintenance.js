import { useState } from 'preact/hooks';
import { api, html } from '../api.js';
import { pending, useAction, useLive } from '../load.js';

/** Days until failure as a technician reads it: "about 4 days", "over a month", or nothing known. */
function eta(days) {
  if (days === null || days === undefined) return '–';
  if (days < 1) return 'within a day';
  if (days > 30) return 'over a month';
  return `about ${Math.round(days)} days`;
}

/**
 * The devices most likely to fail within a week, from the last scored day, most at risk first: what
 * drove each score in words, how far ahead of its peers it is, when it may fail, and its ticket (the
 * risk round opens one over the threshold; a dispatcher can open one earlier from here).
 */
export function Maintenance({ query }) {
  const [model, setModel] = useState(query.get('model') ?? '');
  const state = useLive(() => api('/api/maintenance/risk?limit=200'), [], ['tickets']);
  const [run, error] = useAction(state.bump);
  const wait = pending(state, 'the risk ranking');
  if (wait) return wait;
  const models = [...new Set(state.data.map((r) => r.model))].sort();
  const shown = state.data.filter((r) => !model || r.model === model);
  const top = Math.max(4, ...state.data.map((r) => r.score));
  return html`
    <h1>Maintenance</h1>
    <p class="meta">
      Each device's score says how far its own trend over the last three days stands out from the other devices of its model on the same days.
      A ticket opens by itself when, two days running, a device cannot keep up: its temperature strays while it runs flat out, its score is 4 or
      more and its busiest hours run flat out already, or (a machine that counts what it serves, such as cups) serving its busiest hour of the
      last two weeks again would take its element 120 % of the hour, or there is an 80 % chance that a busy hour of the next few days asks
      more than it will have (a machine whose descale request goes unanswered, a cabinet whose busiest hours climb past its peers'); a
      temperature straying far from its usual swing opens one at once.${state.data[0] && html` Scored day: ${new Date(state.data[0].day).toLocaleDateString()}.`}
    </p>
    <div class="actions">
      <label>Model
        <select value=${model} onChange=${(e) => setModel(e.target.value)} data-testid="filter-model">
          <option value="">all</option>
          ${models.map((m) => html`<option>${m}</option>`)}
        </select>
      </label>
    </div>
    ${error}
    ${shown.length === 0 && html`<p class="empty">No device has been scored yet: scores need a week of a device's maintenance signals.</p>`}
    ${
      shown.length > 0 &&
      html`<table>
        <thead><tr><th>#</th><th>Device</th><th>Score</th><th>What drove it</th><th>May fail</th><th>Ticket</th></tr></thead>
        <tbody>
          ${shown.map(
            (r, i) => html`<tr data-testid="risk-${r.gatewayId}-${r.deviceRef}">
              <td>${i + 1}</td>
              <td>
                <a href="#/device?site=${encodeURIComponent(r.gatewayId)}&ref=${encodeURIComponent(r.deviceRef)}">${r.deviceRef}</a>
                <div class="meta">${r.model} at ${r.gatewayId}</div>
              </td>
              <td class=${r.score >= 4 ? 'bad' : r.score >= 2 ? 'warn' : ''}>
                <meter min="0" max=${top} low="2" high="4" optimum="0" value=${r.score} aria-label="risk score"></meter> ${r.score.toFixed(1)}
              </td>
              <td>${r.words}</td>
              <td>
                ${eta(r.etaDays)}
                ${r.failChance >= 0.05 && html`<div class="meta" data-testid="risk-chance-${r.deviceRef}">${Math.round(r.failChance * 100)} % chance within ${r.chanceDays} days</div>`}
              </td>
              <td>
                ${
                  r.ticketId
                    ? html`<a href="#/tickets" data-testid="risk-ticket-${r.deviceRef}">#${r.ticketId} (${r.ticketState.replace('_', ' ')})</a>`
                    : html`<button
                        class="secondary"
                        data-testid="risk-open-${r.deviceRef}"
                        onClick=${run(() =>
                          api('/api/tickets', {
                            method: 'POST',
                            body: { gatewayId: r.gatewayId, deviceRef: r.deviceRef, title: 'Inspect: maintenance trend', priority: 'normal', notes: r.words },
                          }),
                        )}
                      >
                        Open a ticket
                      </button>`
                }
              </td>
            </tr>`,
          )}
        </tbody>
      </table>`
    }
  `;
}
