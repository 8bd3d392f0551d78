import { t } from './i18n.js';
import { useState } from 'preact/hooks';
import { api } from './api.js';
import { html, fmtValue, label } from './html.js';

/** Device classes of covers that let people in: opening one is confirmed first, as unlocking is. */
const ENTRANCES = ['garage', 'gate', 'door'];
const MOVE_WORDS = { open: t('Open'), close: t('Close'), stop: t('Stop') };
const STATE_WORDS = {
  locked: t('Locked'),
  unlocked: t('Unlocked'),
  locking: t('Locking…'),
  unlocking: t('Unlocking…'),
  jammed: t('Jammed'),
  open: t('Open'),
  opening: t('Opening…'),
  closed: t('Closed'),
  closing: t('Closing…'),
  stopped: t('Stopped'),
};

/**
 * One attribute: its value, and a control if it can be set: a switch, a dimmer slider, a setpoint
 * stepper, a list for options (modes, presets), a Press button, open/stop/close for a blind, and for a
 * lock (or a garage door or gate) a slide to unlock (or open) that says what it will do first.
 */
export function AttributeRow({ device, name, spec, canControl }) {
  const [error, setError] = useState(null);
  const title = spec.name ?? label(name);
  const send = async (value, confirm) => {
    setError(null);
    try {
      await api(`/api/devices/${device.id}/commands`, {
        method: 'POST',
        body: confirm ? { attribute: name, value, confirm: true } : { attribute: name, value },
      });
    } catch (err) {
      setError(err.message);
    }
  };
  const shown = STATE_WORDS[spec.value] && spec.commands ? STATE_WORDS[spec.value] : fmtValue(spec.value, spec.unit, spec.deviceClass);
  let control = html`<span class="value" data-testid=${`value-${device.id}-${name}`}>${shown}</span>`;
  if (spec.writable && canControl && device.online) control = controlFor({ device, name, spec, title, send, shown }) ?? control;
  return html`<div class="row"><span>${title}</span>${control}</div>${error && html`<div class="errors" role="alert">${error}</div>`}`;
}

function controlFor({ device, name, spec, title, send, shown }) {
  const id = `${device.id}-${name}`;
  if (spec.momentary) return html`<button class="secondary" data-testid=${`press-${id}`} onClick=${() => send(true)}>${t('Press')}</button>`;
  if (spec.deviceClass === 'lock')
    return html`<span class="lock"><span class="value" data-testid=${`value-${id}`}>${shown}</span>
      ${spec.value === 'locked' ? html`<${SlideTo} action="unlock" words=${t('Slide to unlock {name}', { name: device.name })} testid=${`unlock-${id}`} onDone=${() => send('unlock', true)} />` : html`<button data-testid=${`lock-${id}`} onClick=${() => send('lock')}>${t('Lock')}</button>`}</span>`;
  if (spec.commands?.includes('open')) {
    const entrance = ENTRANCES.includes(spec.deviceClass);
    return html`<span class="moves"><span class="value" data-testid=${`value-${id}`}>${shown}</span>
      ${spec.commands.map((m) =>
        m === 'open' && entrance
          ? html`<${SlideTo} action="open" words=${t('Slide to open {name}', { name: device.name })} testid=${`open-${id}`} onDone=${() => send('open', true)} />`
          : html`<button class="secondary" data-testid=${`${m}-${id}`} onClick=${() => send(m)}>${MOVE_WORDS[m] ?? m}</button>`,
      )}</span>`;
  }
  if (spec.type === 'string' && spec.options)
    return html`<select aria-label=${title} data-testid=${`select-${id}`} value=${spec.value ?? ''} onChange=${(e) => send(e.target.value)}>
      ${spec.value === null && html`<option value="">–</option>`}
      ${spec.options.map((o) => html`<option value=${o}>${o.replace(/_/g, ' ')}</option>`)}
    </select>`;
  if (spec.type === 'boolean')
    return html`<button class="switch" role="switch" aria-checked=${String(spec.value === true)} aria-label=${`${device.name} ${title}`}
      data-testid=${`toggle-${id}`} onClick=${() => send(!(spec.value === true))}></button>`;
  if (spec.type === 'number' && spec.min !== undefined && spec.max !== undefined && spec.max - spec.min >= 50)
    return html`<span><input type="range" min=${spec.min} max=${spec.max} step=${spec.step ?? 1} value=${spec.value ?? spec.min}
      aria-label=${title} data-testid=${`slider-${id}`} onChange=${(e) => send(Number(e.target.value))} />
      <span class="value">${fmtValue(spec.value, spec.unit)}</span></span>`;
  if (spec.type === 'number') {
    const step = spec.step ?? 0.5;
    const clamp = (v) => Math.min(spec.max ?? Infinity, Math.max(spec.min ?? -Infinity, v));
    return html`<span class="stepper">
      <button class="secondary" aria-label=${`lower ${title}`} data-testid=${`lower-${id}`} onClick=${() => send(clamp((spec.value ?? 0) - step))}>−</button>
      <span class="value" data-testid=${`value-${id}`}>${fmtValue(spec.value, spec.unit)}</span>
      <button class="secondary" aria-label=${`raise ${title}`} data-testid=${`raise-${id}`} onClick=${() => send(clamp((spec.value ?? 0) + step))}>+</button></span>`;
  }
  return undefined;
}

/**
 * A slider that does its action only when pushed all the way (then springs back): the confirmation
 * for a way in. A range input, so keys (End, arrows) work as well as a thumb.
 */
function SlideTo({ words, testid, onDone }) {
  const [at, setAt] = useState(0);
  return html`<label class="slide"><span>${words}</span>
    <input type="range" min="0" max="100" value=${at} aria-label=${words} data-testid=${testid}
      onInput=${(e) => setAt(Number(e.target.value))}
      onChange=${(e) => {
        if (Number(e.target.value) >= 100) onDone();
        setAt(0);
      }} /></label>`;
}
