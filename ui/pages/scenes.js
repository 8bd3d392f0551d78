import { t } from '../i18n.js';
import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { html, label } from '../html.js';
import { pending, useAction, useLoad } from '../load.js';

const value = (v) => (v === true ? 'on' : v === false ? 'off' : String(v));

/**
 * The owner's scenes: capture what chosen devices are set to now as a scene, look at and trim one
 * (remove what it should not set), run it, delete it. Saved into the rule file like every edit.
 */
export function ScenesCard({ devices }) {
  const [tick, setTick] = useState(0);
  const state = useLoad(() => api('/api/scenes'), [tick]);
  const [name, setName] = useState('');
  const [chosen, setChosen] = useState([]);
  const [note, setNote] = useState(null);
  const [run, failed] = useAction();
  const wait = pending(state, t('scenes'));
  if (wait) return html`<h2>${t('Scenes')}</h2>${wait}`;
  const scenes = state.data.scenes;
  const reload = () => setTick((n) => n + 1);
  const nameOf = (id) => devices.find((d) => d.id === id)?.name ?? id;
  const attrOf = (id, a) => devices.find((d) => d.id === id)?.attributes[a]?.name ?? label(a);
  const capture = run(async (e) => {
    e.preventDefault();
    const r = await api(`/api/scenes/${encodeURIComponent(name.trim())}/capture`, { method: 'POST', body: { devices: chosen } });
    setNote(t('Saved {name}: {n} setting(s).', { name: name.trim(), n: r.steps.length }));
    setName('');
    setChosen([]);
    reload();
  });
  const trim = (scene, i) =>
    run(async () => {
      const steps = scenes[scene].filter((_, j) => j !== i);
      if (steps.length === 0) await api(`/api/scenes/${encodeURIComponent(scene)}`, { method: 'DELETE' });
      else await api(`/api/scenes/${encodeURIComponent(scene)}`, { method: 'PUT', body: { steps } });
      reload();
    });
  const start = (scene) =>
    run(async () => {
      const r = await api(`/api/scenes/${encodeURIComponent(scene)}/run`, { method: 'POST', body: {} });
      setNote(r.failed.length ? t('Ran {name}, except: {what}', { name: scene, what: r.failed.join('; ') }) : t('Ran {name}.', { name: scene }));
    });
  const remove = (scene) =>
    run(async () => {
      await api(`/api/scenes/${encodeURIComponent(scene)}`, { method: 'DELETE' });
      reload();
    });
  const settable = devices.filter((d) => Object.values(d.attributes).some((a) => a.writable && !a.momentary));
  return html`<h2>${t('Scenes')}</h2>
    <section class="card" data-testid="scenes-card">
      ${Object.keys(scenes).length === 0 && html`<p class="muted">${t('No scenes yet.')}</p>`}
      ${Object.entries(scenes).map(
        ([scene, steps]) => html`<div class="scene" data-testid=${`scene-${scene}`}><strong>${scene.replace(/[-_]/g, ' ')}</strong>
          <ul>${steps.map(
            (s, i) => html`<li>${nameOf(s.device)} ${attrOf(s.device, s.attribute).toLowerCase()}: ${value(s.value)}
              <button class="secondary" aria-label=${t('leave out {what}', { what: `${nameOf(s.device)} ${s.attribute}` })} data-testid=${`scene-${scene}-drop-${i}`} onClick=${trim(scene, i)}>✕</button></li>`,
          )}</ul>
          <button class="secondary" data-testid=${`scene-${scene}-run`} onClick=${start(scene)}>${t('Run')}</button>
          <button class="danger" onClick=${remove(scene)}>${t('Delete')}</button></div>`,
      )}
      <form onSubmit=${capture} data-testid="scene-capture">
        <p>${t('Set the devices the way you want them, then save that as a scene:')}</p>
        <label>${t('Scene name')} <input type="text" required pattern="[a-z0-9][a-z0-9_-]{0,63}" placeholder=${t('e.g. evening')} value=${name} data-testid="scene-name"
          onInput=${(e) => setName(e.target.value)} /></label>
        ${settable.map(
          (d) => html`<label class="choice"><input type="checkbox" checked=${chosen.includes(d.id)} data-testid=${`scene-device-${d.id}`}
            onChange=${(e) => setChosen(e.target.checked ? [...chosen, d.id] : chosen.filter((x) => x !== d.id))} /> ${d.name}</label>`,
        )}
        <button type="submit" data-testid="scene-save" disabled=${chosen.length === 0}>${t('Save as a scene')}</button>
      </form>
      ${note && html`<p class="ok" role="status" data-testid="scene-note">${note}</p>`}${failed}
    </section>`;
}
