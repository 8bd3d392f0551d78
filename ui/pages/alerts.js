import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.js';
import { fmtTime, html } from '../html.js';

export function AlertsPage({ tick }) {
  const [alerts, setAlerts] = useState(null);
  useEffect(() => { api('/api/alerts?limit=100').then(setAlerts); }, [tick]);
  if (!alerts) return html`<p class="loading">Loading…</p>`;
  if (alerts.length === 0) return html`<p class="card">No alerts. All quiet.</p>`;
  return html`<h2>Alerts</h2>${alerts.map((a) => html`<section class=${`card alert ${a.severity}`} data-testid="alert">
    <strong>${a.message}</strong><br/><span class="muted">${fmtTime(a.at)} · ${a.severity}${a.ruleId ? ` · rule ${a.ruleId}` : ''}${a.deviceId ? ` · ${a.deviceId}` : ''}</span></section>`)}`;
}
