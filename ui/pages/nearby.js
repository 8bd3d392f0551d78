import { t } from '../i18n.js';
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.js';
import { html } from '../html.js';
import { useAction, useLoad } from '../load.js';

/** How a signal reads to a person (dBm as BlueZ reports it). */
const signalWords = (rssi) =>
  rssi === null
    ? t('signal unknown')
    : rssi >= -60
      ? t('strong signal ({dbm} dBm)', { dbm: rssi })
      : rssi >= -75
        ? t('good signal ({dbm} dBm)', { dbm: rssi })
        : t('weak signal ({dbm} dBm)', { dbm: rssi });
const kindWords = (d) => (d.profile === 'bthome' ? (d.encrypted ? t('BTHome sensor, encrypted') : t('BTHome sensor')) : d.profile.replace(/-/g, ' '));

/**
 * For the owner, when the gateway scans (`ble.scan`): the Bluetooth sensors heard nearby that are not
 * set up, strongest first, each adopted with a name (and an encrypted one's bind key). The list is
 * read again every few seconds; an adopted device then appears among the devices.
 */
export function BleNearby() {
  const [tick, setTick] = useState(0);
  useEffect(() => {
    const t = setInterval(() => setTick((n) => n + 1), 5000);
    return () => clearInterval(t);
  }, []);
  const state = useLoad(() => api('/api/ble/nearby'), [tick]);
  const [adopting, setAdopting] = useState(null);
  // what the owner types lives here: the list is read again every 5 s, and an input whose value came
  // from the list would be reset to it on each re-render, wiping a name half typed
  const [name, setName] = useState('');
  const [bindKey, setBindKey] = useState('');
  const [added, setAdded] = useState(null);
  const [run, failed] = useAction();
  if (!state.data?.scanning) return null;
  const adopt = run(async (e) => {
    e.preventDefault();
    const body = { address: adopting.address, name };
    if (adopting.encrypted) body.bindKey = bindKey.trim();
    await api('/api/ble/adopt', { method: 'POST', body });
    setAdded(body.name);
    setAdopting(null);
    setTick((n) => n + 1);
  });
  return html`<h2>${t('Bluetooth devices nearby')}</h2>
    <section class="card" data-testid="ble-nearby">
      ${state.data.devices.length === 0 && html`<p class="muted">${t('No new Bluetooth sensors heard. Bring one close to the gateway and wake it (press its button).')}</p>`}
      ${state.data.devices.map(
        (d) => html`<div class="row" data-testid=${`nearby-${d.address}`}>
          <span>${d.name ?? d.address}<br /><span class="muted">${kindWords(d)}, ${signalWords(d.rssi)}</span></span>
          <button class="secondary" data-testid=${`adopt-${d.address}`} onClick=${() => {
            setAdopting(d);
            setName(d.name ?? '');
            setBindKey('');
          }}>${t('Add')}</button>
        </div>
        ${
          adopting?.address === d.address &&
          html`<form onSubmit=${adopt} data-testid="adopt-form">
          <label>${t('Name')} <input name="name" required maxlength="64" value=${name} onInput=${(e) => setName(e.target.value)} data-testid="adopt-name" /></label>
          ${d.encrypted && html`<label>${t("Bind key (32 characters, on the box or in the maker's app)")} <input name="bindKey" required pattern="[0-9A-Fa-f]{32}" value=${bindKey} onInput=${(e) => setBindKey(e.target.value)} data-testid="adopt-key" autocomplete="off" /></label>`}
          <button type="submit" data-testid="adopt-submit">${d.name ? t('Add {name}', { name: d.name }) : t('Add this device')}</button>
        </form>`
        }`,
      )}
      ${added && html`<div class="ok" role="status" data-testid="adopted">${t('Added {name}. It shows among the devices as soon as it reports.', { name: added })}</div>`}
      ${failed}
    </section>`;
}
