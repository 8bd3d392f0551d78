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
    ${SERIES.map(([key, label, color]) => html`<${Chart} points=${points.list} range=${points.range} field=${key} label=${label} color=${color} />`)}
  </div>`;
}

function Chart({ points, range, field, label, color }) {
  const box = useRef(null);
  useEffect(() => {
    if (!box.current) return undefined;
    const plot = new uPlot(
      {
        width: Math.min(560, box.current.clientWidth || 560),
        height: 140,
        scales: { x: { time: true, range } },
        series: [{}, { label, stroke: color, width: 2, points: { show: points.length < 30 } }],
        axes: [{}, { size: 50 }],
        legend: { show: false },
      },
      [points.map((p) => p.t / 1000), points.map((p) => p[field])],
      box.current,
    );
    return () => plot.destroy();
  }, [points, field]);
  return html`<figure class="chart" data-testid="chart-${field}"><figcaption>${label}</figcaption><div ref=${box}></div></figure>`;
}
