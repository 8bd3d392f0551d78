import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import { api, html } from './api.js';

const SERIES = [
  ['devicesOnline', 'Devices online', '#1e6b3a'],
  ['outboxDepth', 'Records waiting to be sent', '#8a5a00'],
  ['lagP99Ms', 'Event-loop lag, ms (p99)', '#1f5f8b'],
  ['cpuPercent', 'CPU, %', '#6b3a8a'],
];

/** A site's health over the last 24 hours: one small chart per figure. */
export function HealthCharts({ gatewayId }) {
  const [points, setPoints] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    let cancelled = false;
    const to = Date.now();
    api(`/api/sites/${encodeURIComponent(gatewayId)}/health?hours=24`).then(
      (p) => !cancelled && setPoints({ list: p, range: [(to - 86_400_000) / 1000, to / 1000] }),
      (err) => !cancelled && setError(err),
    );
    return () => {
      cancelled = true;
    };
  }, [gatewayId]);
  if (error) return html`<div class="errors" role="alert">Could not load the health history: ${error.message}</div>`;
  if (!points) return html`<p class="loading">Loading the health history…</p>`;
  if (points.list.length === 0) return html`<p class="empty">No health records in the last 24 hours.</p>`;
  return html`<div class="charts">
    ${SERIES.map(
      ([key, label, color]) =>
        html`<${LineChart} id=${key} label=${label} range=${points.range} x=${points.list.map((p) => p.t)} lines=${[{ label, color, values: points.list.map((p) => p[key]) }]} />`,
    )}
  </div>`;
}

/**
 * A small time chart: `x` in ms, one or more `lines` ({ label, color, values, dash }); a legend when
 * there is more than one line.
 */
export function LineChart({ id, label, x, lines, range }) {
  const box = useRef(null);
  useEffect(() => {
    if (!box.current) return undefined;
    const plot = new uPlot(
      {
        width: Math.min(560, box.current.clientWidth || 560),
        height: 140,
        scales: { x: { time: true, ...(range ? { range } : {}) } },
        series: [{}, ...lines.map((l) => ({ label: l.label, stroke: l.color, width: 2, dash: l.dash, points: { show: x.length < 30 } }))],
        axes: [{}, { size: 50 }],
        legend: { show: lines.length > 1, live: false },
      },
      [x.map((t) => t / 1000), ...lines.map((l) => l.values)],
      box.current,
    );
    return () => plot.destroy();
  }, [x, lines]);
  return html`<figure class="chart" data-testid="chart-${id}"><figcaption>${label}</figcaption><div ref=${box}></div></figure>`;
}
