import { t } from '../i18n.js';
import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { html, label } from '../html.js';
import { pending, useLoad } from '../load.js';

const PERIODS = [
  ['day', t('Day')],
  ['week', t('Week')],
  ['month', t('Month')],
];
const today = () => new Date().toLocaleDateString('sv'); // YYYY-MM-DD in the phone's zone
const shift = (date, period, n) => {
  const d = new Date(`${date}T12:00:00Z`);
  if (period === 'month') d.setUTCMonth(d.getUTCMonth() + n, 1);
  else d.setUTCDate(d.getUTCDate() + n * (period === 'week' ? 7 : 1));
  return d.toISOString().slice(0, 10);
};
const kwh = (v) => `${v >= 10 ? v.toFixed(1) : v.toFixed(2)} kWh`;
const money = (v, currency) => (v === null ? '' : new Intl.NumberFormat(undefined, { style: 'currency', currency }).format(v));
const hoursWords = (h) => (h >= 1 ? (Math.round(h) === 1 ? t('1 hour') : t('{n} hours', { n: Math.round(h) })) : t('{n} minutes', { n: Math.round(h * 60) }));

/**
 * Energy and costs for a day, week or month: the total, what it cost with the tariff windows and
 * prices, the biggest consumers with their share, counters such as cups, and per day. What is
 * missing is said ("no data for 3 hours"), never shown as zero.
 */
export function EnergyPage() {
  const [period, setPeriod] = useState('day');
  const [date, setDate] = useState(today());
  const state = useLoad(() => api(`/api/energy?period=${period}&date=${date}`), [period, date]);
  const wait = pending(state, t('energy'));
  const r = state.data;
  const header = html`<h2>${t('Energy')}</h2>
    <div class="row" role="group" aria-label=${t('period')}>
      ${PERIODS.map(([p, w]) => html`<button class=${p === period ? '' : 'secondary'} aria-pressed=${String(p === period)} data-testid=${`energy-${p}`} onClick=${() => setPeriod(p)}>${w}</button>`)}
    </div>
    <div class="row">
      <button class="secondary" aria-label=${t('earlier')} onClick=${() => setDate(shift(date, period, -1))}>‹</button>
      <span data-testid="energy-range">${r ? (period === 'day' ? r.period.from : `${r.period.from} – ${shift(r.period.to, 'day', -1)}`) : date}</span>
      <button class="secondary" aria-label=${t('later')} onClick=${() => setDate(shift(date, period, 1))}>›</button>
    </div>`;
  if (wait && !r) return html`${header}${wait}`;
  const missing =
    r.total.missingHours > 0 &&
    html`<p class="muted" data-testid="energy-missing">${t('No data for {time} of device time: the figures leave those hours out.', { time: hoursWords(r.total.missingHours) })}</p>`;
  return html`${header}
    <section class="card" data-testid="energy-total">
      ${
        r.devices.length === 0
          ? html`<p class="muted">${t('No energy measured in this period.')}</p>`
          : html`<p class="big"><strong>${kwh(r.total.kwh)}</strong>${r.total.cost !== null ? html` · <strong>${money(r.total.cost, r.currency)}</strong>` : ''}</p>
          ${!r.priced && html`<p class="muted">${t('Set energy.price (and prices per tariff) in the config to see costs.')}</p>`}
          ${missing}
          ${r.byTariff.length > 1 && html`<p class="muted">${r.byTariff.map((t) => `${label(t.tariff)}: ${kwh(t.kwh)}${t.cost !== null ? ` (${money(t.cost, r.currency)})` : ''}`).join(' · ')}</p>`}`
      }
    </section>
    ${
      r.devices.length > 0 &&
      html`<h2>${t('Biggest consumers')}</h2>
    <section class="card" data-testid="energy-devices">
      ${r.devices.map(
        (d) => html`<div class="row" data-testid=${`energy-device-${d.id}`}>
          <span>${d.name}<br /><span class="share-bar" style=${{ width: `${Math.max(2, Math.round(d.share * 100))}%` }}></span>
            <span class="muted">${[
              ...Object.entries(d.counters).map(([n, v]) => `${v} ${label(n).toLowerCase()}`),
              d.missingHours > 0 ? t('no data for {time}', { time: hoursWords(d.missingHours) }) : '',
            ]
              .filter(Boolean)
              .join(' · ')}</span></span>
          <span class="value">${kwh(d.kwh)}${d.cost !== null ? html`<br />${money(d.cost, r.currency)}` : ''}</span></div>`,
      )}
    </section>`
    }
    ${
      period !== 'day' &&
      html`<h2>${t('Per day')}</h2>
    <section class="card" data-testid="energy-days">
      <table>${r.days.map((d) => {
        // nothing expected (before the first reading, or still to come): a dash; all of it missing: "no data"; never a made-up 0
        const none = d.hours === 0;
        const nodata = !none && d.missingHours >= d.hours;
        return html`<tr><td>${d.day}</td><td>${none ? '–' : nodata ? html`<span class="muted">${t('no data')}</span>` : kwh(d.kwh)}</td>
            <td>${d.cost !== null && !none && !nodata ? money(d.cost, r.currency) : ''}</td>
            <td class="muted">${d.missingHours > 0 && !nodata ? t('{time} missing', { time: hoursWords(d.missingHours) }) : ''}</td></tr>`;
      })}</table>
    </section>`
    }`;
}
