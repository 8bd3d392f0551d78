import { useState } from 'preact/hooks';
import { api } from './api.js';
import { html, fmtValue, label } from './html.js';

/** One attribute: its value, and a control if it can be set (switch, dimmer slider, setpoint stepper). */
export function AttributeRow({ device, name, spec, canControl }) {
  const [error, setError] = useState(null);
  const send = async (value) => {
    setError(null);
    try {
      await api(`/api/devices/${device.id}/commands`, { method: 'POST', body: { attribute: name, value } });
    } catch (err) {
      setError(err.message);
    }
  };
  let control = html`<span class="value" data-testid=${`value-${device.id}-${name}`}>${fmtValue(spec.value, spec.unit, spec.deviceClass)}</span>`;
  if (spec.writable && canControl && device.online) {
    if (spec.type === 'boolean') {
      control = html`<button class="switch" role="switch" aria-checked=${String(spec.value === true)} aria-label=${`${device.name} ${label(name)}`}
        data-testid=${`toggle-${device.id}-${name}`} onClick=${() => send(!(spec.value === true))}></button>`;
    } else if (spec.type === 'number' && spec.min !== undefined && spec.max !== undefined && spec.max - spec.min >= 50) {
      control = html`<span><input type="range" min=${spec.min} max=${spec.max} step=${spec.step ?? 1} value=${spec.value ?? spec.min}
        aria-label=${label(name)} data-testid=${`slider-${device.id}-${name}`} onChange=${(e) => send(Number(e.target.value))} />
        <span class="value">${fmtValue(spec.value, spec.unit)}</span></span>`;
    } else if (spec.type === 'number') {
      const step = spec.step ?? 0.5;
      const clamp = (v) => Math.min(spec.max ?? Infinity, Math.max(spec.min ?? -Infinity, v));
      control = html`<span class="stepper">
        <button class="secondary" aria-label=${`lower ${label(name)}`} onClick=${() => send(clamp((spec.value ?? 0) - step))}>−</button>
        <span class="value" data-testid=${`value-${device.id}-${name}`}>${fmtValue(spec.value, spec.unit)}</span>
        <button class="secondary" aria-label=${`raise ${label(name)}`} onClick=${() => send(clamp((spec.value ?? 0) + step))}>+</button></span>`;
    }
  }
  return html`<div class="row"><span>${label(name)}</span>${control}</div>${error && html`<div class="errors">${error}</div>`}`;
}
