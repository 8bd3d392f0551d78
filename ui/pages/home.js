import { t } from '../i18n.js';
import { useState } from 'preact/hooks';
import { useLoad } from '../load.js';
import { api } from '../api.js';
import { AttributeRow } from '../controls.js';
import { html } from '../html.js';
import { BleNearby } from './nearby.js';

const OTHER = 'Other devices'; // the stored name; shown translated

/**
 * Favourites first, then rooms and their devices, with live state and controls. A star marks a
 * favourite (per person); a device card dragged onto a room (or onto "New room…") moves it there,
 * and the device page has the same as a text field for those who cannot drag.
 */
export function Home({ devices, me, prefs, onPrefs, onDevice }) {
  const [dragging, setDragging] = useState(null);
  const [error, setError] = useState(null);
  const scenes = useLoad(() => api('/api/scenes'), []);
  const nearby = me?.role === 'owner' && html`<p><a class="button" href="#/add" data-testid="add-device">${t('Add a device')}</a></p><${BleNearby} />`;
  if (!devices) return html`<p class="loading">${t('Loading devices…')}</p>`;
  if (devices.length === 0) return html`<p class="card">${t('No devices yet. Devices appear here as soon as they connect to the gateway.')}</p>${nearby}`;
  const canControl = me && me.role !== 'guest';
  const favourites = prefs?.favourites ?? [];
  const toggleIn = (list, x) => (list.includes(x) ? list.filter((f) => f !== x) : [...list, x]);
  const savePrefs = async (body) => {
    setError(null);
    try {
      onPrefs(await api('/api/me/prefs', { method: 'PUT', body }));
    } catch (err) {
      setError(err.message);
    }
  };
  const star = (id) => savePrefs({ favourites: toggleIn(favourites, id) });
  const favScenes = prefs?.scenes ?? [];
  const runScene = async (name) => {
    setError(null);
    try {
      await api(`/api/scenes/${encodeURIComponent(name)}/run`, { method: 'POST', body: {} });
    } catch (err) {
      setError(err.message);
    }
  };
  const sceneNames = Object.keys(scenes.data?.scenes ?? {});
  const moveTo = async (room, id) => {
    setDragging(null);
    if (!id || !canControl) return;
    setError(null);
    try {
      onDevice(await api(`/api/devices/${encodeURIComponent(id)}`, { method: 'PATCH', body: { room } }));
    } catch (err) {
      setError(err.message);
    }
  };
  const drop = (room) => ({
    onDragOver: (e) => canControl && e.preventDefault(),
    onDrop: (e) => {
      e.preventDefault();
      const id = e.dataTransfer.getData('text/plain');
      if (room !== undefined) return moveTo(room === OTHER ? null : room, id);
      const name = prompt(t('Name of the new room'))?.trim();
      if (name) moveTo(name, id);
      else setDragging(null);
    },
  });
  const card = (d) => html`
    <section class="card" data-testid=${`device-${d.id}`} draggable=${canControl ? 'true' : 'false'}
      onDragStart=${(e) => {
        e.dataTransfer.setData('text/plain', d.id);
        setDragging(d.id);
      }} onDragEnd=${() => setDragging(null)}>
      <h3><span class=${`dot ${d.online ? 'on' : ''}`} title=${d.online ? 'online' : 'offline'}></span><a href=${`#/device/${d.id}`}>${d.name}</a>
        <button class="star" aria-pressed=${String(favourites.includes(d.id))} aria-label=${t('favourite {name}', { name: d.name })} data-testid=${`star-${d.id}`} onClick=${() => star(d.id)}>${favourites.includes(d.id) ? '★' : '☆'}</button></h3>
      ${!d.online && html`<p class="muted">${t('Offline')}</p>`}
      ${Object.entries(d.attributes).map(([name, spec]) => html`<${AttributeRow} device=${d} name=${name} spec=${spec} canControl=${canControl} />`)}
    </section>`;
  const rooms = new Map();
  for (const d of devices) {
    const room = d.room ?? OTHER;
    if (!rooms.has(room)) rooms.set(room, []);
    rooms.get(room).push(d);
  }
  const favs = devices.filter((d) => favourites.includes(d.id));
  return html`${error && html`<div class="errors" role="alert">${error}</div>`}
    ${favs.length > 0 && html`<h2>${t('Favourites')}</h2><div data-testid="favourites">${favs.map(card)}</div>`}
    ${[...rooms].map(
      ([room, list]) => html`<div class=${`room ${dragging ? 'droppable' : ''}`} data-testid=${`room-${room}`} ...${drop(room)}>
        <h2>${room === OTHER ? t('Other devices') : room}</h2>${list.map(card)}</div>`,
    )}
    ${dragging && html`<div class="room droppable new-room" data-testid="room-new" ...${drop(undefined)}><h2>${t('New room…')}</h2></div>`}
    ${
      sceneNames.length > 0 &&
      html`<h2>${t('Scenes')}</h2><section class="card" data-testid="scenes">${sceneNames.map(
        (n) => html`<div class="row"><span>${n.replace(/[-_]/g, ' ')}</span><span>
        ${canControl && html`<button class="secondary" data-testid=${`scene-run-${n}`} onClick=${() => runScene(n)}>${t('Run')}</button>`}
        <button class="star" aria-pressed=${String(favScenes.includes(n))} aria-label=${t('favourite scene {name}', { name: n })} data-testid=${`star-scene-${n}`}
          onClick=${() => savePrefs({ scenes: toggleIn(favScenes, n) })}>${favScenes.includes(n) ? '★' : '☆'}</button></span></div>`,
      )}</section>`
    }
    ${nearby}`;
}
