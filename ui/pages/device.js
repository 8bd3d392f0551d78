import { t } from '../i18n.js';
import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import { api } from '../api.js';
import { AttributeRow } from '../controls.js';
import { html, label } from '../html.js';
import { Failed, useAction } from '../load.js';

const RANGES = { '1 h': 3600e3, '24 h': 86400e3, '7 days': 7 * 86400e3 };

/** A chart of one numeric attribute, downsampled on the gateway (min / mean / max per point). */
function HistoryChart({ deviceId, attribute, unit }) {
  const box = useRef(null);
  const [range, setRange] = useState('24 h');
  const [empty, setEmpty] = useState(false);
  const [error, setError] = useState(null);
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    setError(null);
    let plot;
    let cancelled = false;
    const to = Date.now();
    const from = to - RANGES[range];
    api(`/api/devices/${deviceId}/history?attribute=${encodeURIComponent(attribute)}&from=${from}&to=${to}&points=200`).then(
      (h) => {
        if (cancelled || !box.current) return;
        setEmpty(h.points.length === 0);
        const xs = h.points.map((p) => p.t / 1000);
        const width = box.current.clientWidth || 320;
        plot = new uPlot(
          {
            width,
            height: 180,
            scales: { x: { time: true, range: [from / 1000, to / 1000] } },
            series: [
              {},
              { label: `${label(attribute)}${unit ? ` (${unit})` : ''}`, stroke: '#1f6f5c', width: 2 },
              { label: 'min', stroke: '#9fc5b8' },
              { label: 'max', stroke: '#9fc5b8' },
            ],
            axes: [{}, { size: 50 }],
            legend: { show: false },
          },
          [xs, h.points.map((p) => p.mean), h.points.map((p) => p.min), h.points.map((p) => p.max)],
          box.current,
        );
      },
      (err) => {
        if (!cancelled) setError(err);
      },
    );
    return () => {
      cancelled = true;
      plot?.destroy();
    };
  }, [deviceId, attribute, range, attempt]);
  return html`<div class="card">
    <h3>${label(attribute)}</h3>
    <div class="seg">${Object.keys(RANGES).map((r) => html`<button class=${r === range ? 'active' : ''} onClick=${() => setRange(r)}>${r}</button>`)}</div>
    <div class="chart" ref=${box} data-testid=${`chart-${attribute}`}></div>
    ${empty && html`<p class="muted">${t('No readings in this period.')}</p>`}
    ${error && html`<${Failed} error=${error} retry=${() => setAttempt((n) => n + 1)} what=${t('the history')} />`}
  </div>`;
}

const USAGE_UNITS = { energy: 'Wh', on: 's on', door: 's open' };

/** Energy per day, cups brewed, on-time: totals of the closed hourly buckets. */
function Usage({ deviceId }) {
  const [usage, setUsage] = useState(null);
  const [error, setError] = useState(null);
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    setError(null);
    api(`/api/devices/${deviceId}/usage`).then(setUsage, setError);
  }, [deviceId, attempt]);
  if (error) return html`<${Failed} error=${error} retry=${() => setAttempt((n) => n + 1)} what=${t('usage')} />`;
  if (!usage) return null;
  if (usage.daily.length === 0)
    return html`<div class="card"><h3>${t('Usage')}</h3><p class="muted">${t('Usage appears here after the first full hour.')}</p></div>`;
  const roles = {};
  for (const b of usage.buckets) for (const [n, m] of Object.entries(b.metrics)) roles[n] = m.role;
  const names = Object.keys(roles).filter((n) => roles[n] !== 'temperature');
  return html`<div class="card" data-testid="usage"><h3>${t('Usage per day')}</h3>
    <table><tr><th>${t('Day')}</th>${names.map((n) => html`<th>${label(n)}</th>`)}</tr>
    ${usage.daily.map((d) => html`<tr><td>${d.day}</td>${names.map((n) => html`<td>${d.totals[n] ?? 0} ${roles[n] === 'counter' ? '' : (USAGE_UNITS[roles[n]] ?? '')}</td>`)}</tr>`)}
    </table></div>`;
}

export function DevicePage({ id, devices, me }) {
  const d = devices?.find((x) => x.id === id);
  const [room, setRoom] = useState('');
  const [act, actionError] = useAction();
  useEffect(() => setRoom(d?.room ?? ''), [d?.room]);
  if (!devices) return html`<p class="loading">${t('Loading…')}</p>`;
  if (!d) return html`<p class="card">${t('This device is not known (any more).')}</p>`;
  const numeric = Object.entries(d.attributes).filter(([, s]) => s.type === 'number');
  const canControl = me && me.role !== 'guest';
  const saveRoom = act(() => api(`/api/devices/${id}`, { method: 'PATCH', body: { room: room.trim() || null } }));
  return html`
    <section class="card">
      <h3><span class=${`dot ${d.online ? 'on' : ''}`}></span>${d.name}</h3>
      <p class="muted">${[d.manufacturer, d.model, d.protocol.toUpperCase()].filter(Boolean).join(' · ')} · ${d.online ? t('online') : t('offline')}</p>
      ${Object.entries(d.attributes).map(([name, spec]) => html`<${AttributeRow} device=${d} name=${name} spec=${spec} canControl=${canControl} />`)}
      ${canControl && html`<label for="room">${t('Room')}</label><div class="stepper"><input id="room" type="text" value=${room} onInput=${(e) => setRoom(e.target.value)} placeholder=${t('e.g. Kitchen')} /><button class="secondary" onClick=${saveRoom}>${t('Save')}</button></div>${actionError}`}
    </section>
    <${Usage} deviceId=${id} />
    ${numeric.map(([name, s]) => html`<${HistoryChart} deviceId=${id} attribute=${name} unit=${s.unit} />`)}`;
}
