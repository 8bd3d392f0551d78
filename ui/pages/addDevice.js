import { t } from '../i18n.js';
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.js';
import { html } from '../html.js';
import { useAction } from '../load.js';

const FIRMWARES = [
  ['esphome', 'ESPHome', t('Boards flashed with ESPHome')],
  ['tasmota', 'Tasmota', t('Plugs and relays with Tasmota')],
  ['zigbee2mqtt', 'Zigbee2MQTT', t('Zigbee devices through a Zigbee2MQTT bridge')],
  ['mqtt', t('Other MQTT'), t('Anything that speaks MQTT')],
  ['modbus', 'Modbus', t('Meters and controllers on RS-485')],
  ['ble', t('Bluetooth sensor'), t('BTHome and Shelly BLU sensors')],
];
const NAMED = ['esphome', 'tasmota', 'mqtt'];

/** Copies a block of settings (where the browser allows it; selecting by hand always works). */
function Block({ title, text, n }) {
  const [copied, setCopied] = useState(false);
  return html`<div class="setup-step"><strong>${title}</strong>
    <pre data-testid=${`setup-step-${n}`}>${text}</pre>
    ${
      navigator.clipboard &&
      html`<button class="secondary" onClick=${() =>
        navigator.clipboard.writeText(text).then(
          () => setCopied(true),
          () => setCopied(false),
        )}>${copied ? t('Copied') : t('Copy')}</button>`
    }</div>`;
}

/** Waits for the first device the new credential announces, and then shows it. */
function Waiting({ username }) {
  const [found, setFound] = useState([]);
  useEffect(() => {
    let live = true;
    const look = () =>
      api(`/api/devices/setup/${encodeURIComponent(username)}`).then(
        (r) => live && setFound(r.devices),
        () => undefined,
      );
    look();
    const t = setInterval(look, 2000);
    return () => {
      live = false;
      clearInterval(t);
    };
  }, [username]);
  if (found.length === 0)
    return html`<p class="waiting" role="status" data-testid="setup-waiting">${t('Waiting for it… (switch it on, or restart it after pasting the settings)')}</p>`;
  return html`<div class="ok" role="status" data-testid="setup-found">${t('Here it is:')} ${found.map((d) => html`<a href=${`#/device/${d.id}`}>${d.name}</a> `)}</div>`;
}

/**
 * Add a device: pick the firmware, name it, and get its credential and the exact settings to paste
 * (with this gateway's address); then "waiting for it…" until it announces itself.
 */
export function AddDevicePage() {
  const [firmware, setFirmware] = useState(null);
  const [name, setName] = useState('');
  const [result, setResult] = useState(null);
  const [run, failed] = useAction();
  const create = run(async (e) => {
    e.preventDefault();
    setResult(await api('/api/devices/setup', { method: 'POST', body: NAMED.includes(firmware) ? { firmware, name: name.trim() } : { firmware } }));
  });
  return html`<h2>${t('Add a device')}</h2>
    ${
      !result &&
      html`<section class="card" data-testid="setup-firmwares">
      <p>${t('What does the device run?')}</p>
      ${FIRMWARES.map(
        ([
          id,
          title,
          words,
        ]) => html`<label class="choice"><input type="radio" name="firmware" value=${id} checked=${firmware === id} data-testid=${`firmware-${id}`}
          onChange=${() => setFirmware(id)} /> <strong>${title}</strong> <span class="muted">${words}</span></label>`,
      )}
      ${
        firmware &&
        html`<form onSubmit=${create}>
        ${
          NAMED.includes(firmware) &&
          html`<label>${t('Its name (letters, digits and -, e.g. kitchen-plug)')} <input type="text" required pattern="[a-z0-9][a-z0-9_-]{0,63}" value=${name} data-testid="setup-name"
          onInput=${(e) => setName(e.target.value)} /></label>`
        }
        <button type="submit" data-testid="setup-create">${firmware === 'modbus' || firmware === 'ble' ? t('Show me how') : t('Create its login')}</button>
      </form>`
      }
      ${failed}
    </section>`
    }
    ${
      result &&
      html`<section class="card" data-testid="setup-result">
      ${result.password && html`<p>${t('Its login:')} <strong>${result.username}</strong>, ${t('password')} <code data-testid="setup-password">${result.password}</code> ${t('(shown only now).')}</p>`}
      ${result.steps.map((s, i) => html`<${Block} title=${s.title} text=${s.text} n=${i} />`)}
      ${result.username && html`<${Waiting} username=${result.username} />`}
      <button class="secondary" onClick=${() => setResult(null)}>${t('Add another')}</button>
    </section>`
    }`;
}
