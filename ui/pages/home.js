import { AttributeRow } from '../controls.js';
import { html } from '../html.js';
import { BleNearby } from './nearby.js';

/** Rooms and their devices, with live state and controls. */
export function Home({ devices, me }) {
  const nearby = me?.role === 'owner' && html`<${BleNearby} />`;
  if (!devices) return html`<p class="loading">Loading devices…</p>`;
  if (devices.length === 0) return html`<p class="card">No devices yet. Devices appear here as soon as they connect to the gateway.</p>${nearby}`;
  const rooms = new Map();
  for (const d of devices) {
    const room = d.room ?? 'Other devices';
    if (!rooms.has(room)) rooms.set(room, []);
    rooms.get(room).push(d);
  }
  const canControl = me && me.role !== 'guest';
  return html`${[...rooms].map(
    ([room, list]) => html`
    <h2>${room}</h2>
    ${list.map(
      (d) => html`
      <section class="card" data-testid=${`device-${d.id}`}>
        <h3><span class=${`dot ${d.online ? 'on' : ''}`} title=${d.online ? 'online' : 'offline'}></span><a href=${`#/device/${d.id}`}>${d.name}</a></h3>
        ${!d.online && html`<p class="muted">Offline</p>`}
        ${Object.entries(d.attributes).map(([name, spec]) => html`<${AttributeRow} device=${d} name=${name} spec=${spec} canControl=${canControl} />`)}
      </section>`,
    )}`,
  )}${nearby}`;
}
