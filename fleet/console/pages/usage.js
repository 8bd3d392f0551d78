import { useState } from 'preact/hooks';
import { ApiError, api, customersOf, fmtTime, html, session } from '../api.js';
import { pending, useAction, useLive } from '../load.js';

const thisMonth = () => new Date().toISOString().slice(0, 7);
const GAP_WORDS = { missing: 'no data arrived', offline: 'device offline', gateway: 'gateway not running' };

/** What a customer (or the whole selection) used in the month: energy, counters, and its least complete device. */
function Totals({ rows, who }) {
  const energy = rows.reduce((sum, r) => sum + r.energyKWh, 0);
  const counters = {};
  for (const r of rows) for (const [k, v] of Object.entries(r.counters)) counters[k] = (counters[k] ?? 0) + v;
  const worst = Math.min(...rows.map((r) => r.completeness));
  return html`<section class="tiles" data-testid="totals">
    <div class="tile"><span class="n">${Math.round(energy * 1000) / 1000} kWh</span><span>${who}, ${rows.length} devices</span></div>
    ${Object.entries(counters).map(([k, v]) => html`<div class="tile"><span class="n">${v}</span><span>${k.replaceAll('_', ' ')}</span></div>`)}
    <div class="tile ${worst < 0.99 ? 'warn' : ''}"><span class="n">${Math.round(worst * 1000) / 10}%</span><span>least complete device</span></div>
  </section>`;
}

/** A month's billing-grade usage per site and device, for one customer or site or all, with completeness, gaps, totals and its CSV. */
export function Usage({ query }) {
  const [month, setMonth] = useState(query.get('month') ?? thisMonth());
  const [customer, setCustomer] = useState(query.get('customer') ?? '');
  const [site, setSite] = useState(query.get('site') ?? '');
  const filter = new URLSearchParams({ month, ...(customer ? { customer } : {}), ...(site ? { gatewayId: site } : {}) });
  const state = useLive(async () => ({ rows: await api(`/api/usage?${filter}`), sites: await api('/api/sites') }), [month, customer, site], ['sites']);
  const [run, error] = useAction();
  const download = run(async () => {
    const res = await fetch(`/api/usage.csv?${filter}`, { headers: { authorization: `Bearer ${session.token}` } });
    if (!res.ok || !(res.headers.get('content-type') ?? '').startsWith('text/csv'))
      throw new ApiError(res.status, { message: `the download failed (${res.status})` });
    const url = URL.createObjectURL(await res.blob());
    const a = document.createElement('a');
    a.href = url;
    a.download = `usage-${month}${customer ? `-${customer}` : ''}${site ? `-${site}` : ''}.csv`;
    a.click();
    URL.revokeObjectURL(url);
  });
  const wait = pending(state, 'the usage');
  const sites = state.data?.sites ?? [];
  const customers = customersOf(sites);
  const rows = state.data?.rows ?? [];
  return html`
    <h1>Usage and billing</h1>
    <div class="actions">
      <label>Month <input type="month" value=${month} onChange=${(e) => e.target.value && setMonth(e.target.value)} data-testid="month" /></label>
      <label>Customer
        <select value=${customer} onChange=${(e) => {
          setCustomer(e.target.value);
          setSite('');
        }} data-testid="filter-usage-customer">
          <option value="">all</option>
          ${customers.map((c) => html`<option>${c}</option>`)}
        </select>
      </label>
      <label>Site
        <select value=${site} onChange=${(e) => setSite(e.target.value)} data-testid="filter-usage-site">
          <option value="">all</option>
          ${sites.filter((s) => !customer || s.customer === customer).map((s) => html`<option value=${s.gatewayId}>${s.label ?? s.gatewayId}</option>`)}
        </select>
      </label>
      <button onClick=${download} data-testid="csv">Download CSV</button>
    </div>
    ${error}
    ${
      wait ??
      html`${rows.length === 0 ? html`<p class="empty">No usage in ${month}.</p>` : html`<${Totals} rows=${rows} who=${site || customer || 'All customers'} />`}
        <table>
          <thead>
            <tr><th>Site</th><th>Customer</th><th>Device</th><th>Energy</th><th>Counters</th><th>Running</th><th>Door open</th><th>Complete</th><th>Gaps</th></tr>
          </thead>
          <tbody>
            ${rows.map(
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
