import { useState } from 'preact/hooks';
import { ApiError, api, fmtTime, html, session } from '../api.js';
import { pending, useAction, useLive } from '../load.js';

const thisMonth = () => new Date().toISOString().slice(0, 7);
const GAP_WORDS = { missing: 'no data arrived', offline: 'device offline', gateway: 'gateway not running' };

/** A month's billing-grade usage per site and device, with completeness and gaps, and its CSV. */
export function Usage() {
  const [month, setMonth] = useState(thisMonth());
  const state = useLive(() => api(`/api/usage?month=${month}`), [month]);
  const [run, error] = useAction();
  const download = run(async () => {
    const res = await fetch(`/api/usage.csv?month=${month}`, { headers: { authorization: `Bearer ${session.token}` } });
    if (!res.ok || !(res.headers.get('content-type') ?? '').startsWith('text/csv'))
      throw new ApiError(res.status, { message: `the download failed (${res.status})` });
    const url = URL.createObjectURL(await res.blob());
    const a = document.createElement('a');
    a.href = url;
    a.download = `usage-${month}.csv`;
    a.click();
    URL.revokeObjectURL(url);
  });
  const wait = pending(state, 'the usage');
  return html`
    <h1>Usage and billing</h1>
    <div class="actions">
      <label>Month <input type="month" value=${month} onChange=${(e) => e.target.value && setMonth(e.target.value)} data-testid="month" /></label>
      <button onClick=${download} data-testid="csv">Download CSV</button>
    </div>
    ${error}
    ${
      wait ??
      html`${state.data.length === 0 && html`<p class="empty">No usage in ${month}.</p>`}
        <table>
          <thead>
            <tr><th>Site</th><th>Customer</th><th>Device</th><th>Energy</th><th>Counters</th><th>Running</th><th>Door open</th><th>Complete</th><th>Gaps</th></tr>
          </thead>
          <tbody>
            ${state.data.map(
              (r) => html`<tr data-testid="usage-${r.gatewayId}-${r.deviceRef}">
                <td>${r.gatewayId}</td>
                <td>${r.customer ?? '–'}</td>
                <td>${r.deviceRef}${r.model && html`<div class="meta">${r.model}</div>`}</td>
                <td>${r.energyKWh} kWh</td>
                <td>${Object.entries(r.counters).map(([k, v]) => html`<div>${v} ${k.replaceAll('_', ' ')}</div>`)}</td>
                <td>${r.onHours} h (${r.starts} starts)</td>
                <td>${r.doorOpenHours} h (${r.doorOpenings} times)</td>
                <td class=${r.completeness < 0.99 ? 'warn' : 'ok'}>${Math.round(r.completeness * 1000) / 10}% of ${r.hoursExpected} h</td>
                <td>
                  ${r.gaps.length === 0 ? 'none' : html`<details><summary>${r.gaps.length}</summary>${r.gaps.map((g) => html`<div class="meta">${fmtTime(g.from)} – ${fmtTime(g.to)}: ${GAP_WORDS[g.reason]}</div>`)}</details>`}
                </td>
              </tr>`,
            )}
          </tbody>
        </table>`
    }
  `;
}
