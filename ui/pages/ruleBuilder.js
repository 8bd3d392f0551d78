import { t } from '../i18n.js';
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.js';
import { html, label } from '../html.js';
import { useAction } from '../load.js';

/**
 * Make or change a rule from pickers filled with the owner's own devices, attributes, ranges and
 * options: triggers (a device's value, a button, a time, a schedule), conditions (a value, a time
 * window, weekdays, a tariff), actions (set, switch over, scene, wait, tell me). "Check" shows the
 * checker's verdict in words before anything is saved; "Save" writes it into the rule file (other
 * rules and comments in it are kept). The YAML editor below stays for those who want it.
 */
const DAYS = [
  ['mon', t('Mon')],
  ['tue', t('Tue')],
  ['wed', t('Wed')],
  ['thu', t('Thu')],
  ['fri', t('Fri')],
  ['sat', t('Sat')],
  ['sun', t('Sun')],
];
const TRIGGERS = { state: t('A device changes'), button: t('A button is pressed'), at: t('At a time'), cron: t('On a schedule (cron)') };
const CONDITIONS = { state: t('A device is…'), time: t('Between two times'), weekdays: t('On some days'), tariff: t('During a tariff') };
const ACTIONS = { set: t('Set'), toggle: t('Switch over'), scene: t('Run a scene'), delay: t('Wait'), notify: t('Tell me') };

const slug = (s) =>
  s
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 64);

const kindOfTrigger = (tg) => ('at' in tg ? 'at' : 'cron' in tg ? 'cron' : 'event' in tg ? 'button' : 'state');
const kindOfCondition = (c) => ('time' in c ? 'time' : 'weekdays' in c ? 'weekdays' : 'tariff' in c ? 'tariff' : 'state');
const kindOfAction = (a) => Object.keys(a)[0];

const blankTrigger = (kind, devices) =>
  kind === 'at'
    ? { at: '07:00' }
    : kind === 'cron'
      ? { cron: '0 7 * * *' }
      : kind === 'button'
        ? { device: devices[0]?.id ?? '', event: 'button' }
        : { device: devices[0]?.id ?? '', attribute: '' };
const blankCondition = (kind, devices, tariffs) =>
  kind === 'time'
    ? { time: { after: '08:00', before: '18:00' } }
    : kind === 'weekdays'
      ? { weekdays: ['mon', 'tue', 'wed', 'thu', 'fri'] }
      : kind === 'tariff'
        ? { tariff: tariffs[0] ?? '' }
        : { device: devices[0]?.id ?? '', attribute: '' };
const blankAction = (kind, devices, scenes) =>
  kind === 'scene'
    ? { scene: scenes[0] ?? '' }
    : kind === 'delay'
      ? { delay: '1m' }
      : kind === 'notify'
        ? { notify: { message: '', severity: 'warning' } }
        : {
            [kind]: {
              device: devices.find((d) => Object.values(d.attributes).some((a) => a.writable))?.id ?? '',
              attribute: '',
              ...(kind === 'set' ? { value: '' } : {}),
            },
          };

/** A value typed or picked, as the attribute's type wants it. */
function coerce(spec, raw) {
  if (!spec) return raw;
  if (spec.type === 'boolean') return raw === true || raw === 'true';
  if (spec.type === 'number') return raw === '' ? '' : Number(raw);
  return raw;
}

function DevicePick({ devices, value, onChange, filter = () => true, testid }) {
  const list = devices.filter(filter);
  return html`<select aria-label="device" data-testid=${testid} value=${value} onChange=${(e) => onChange(e.target.value)}>
    ${!list.some((d) => d.id === value) && html`<option value="">${t('choose a device')}</option>`}
    ${list.map((d) => html`<option value=${d.id}>${d.name}</option>`)}
  </select>`;
}

function AttributePick({ device, value, onChange, filter = () => true, testid }) {
  const entries = Object.entries(device?.attributes ?? {}).filter(([, s]) => filter(s));
  return html`<select aria-label="what" data-testid=${testid} value=${value} onChange=${(e) => onChange(e.target.value)}>
    ${!entries.some(([n]) => n === value) && html`<option value="">${t('choose what')}</option>`}
    ${entries.map(([n, s]) => html`<option value=${n}>${s.name ?? label(n)}</option>`)}
  </select>`;
}

/** A value picker fitted to the attribute: on/off, its options or commands, a number in its range. */
function ValuePick({ spec, value, onChange, commands = false, testid }) {
  if (!spec) return html`<input aria-label="value" data-testid=${testid} value=${value ?? ''} onInput=${(e) => onChange(e.target.value)} />`;
  if (spec.type === 'boolean')
    return html`<select aria-label="value" data-testid=${testid} value=${String(value)} onChange=${(e) => onChange(e.target.value === 'true')}>
      ${typeof value !== 'boolean' && html`<option value="">${t('choose')}</option>`}<option value="true">${t('on')}</option><option value="false">${t('off')}</option></select>`;
  const choices = (commands && spec.commands) || spec.options;
  if (choices)
    return html`<select aria-label="value" data-testid=${testid} value=${value} onChange=${(e) => onChange(e.target.value)}>
      ${!choices.includes(value) && html`<option value="">${t('choose')}</option>`}${choices.map((o) => html`<option value=${o}>${o.replace(/_/g, ' ')}</option>`)}</select>`;
  if (spec.type === 'number')
    return html`<span><input type="number" aria-label="value" data-testid=${testid} min=${spec.min} max=${spec.max} step=${spec.step ?? 'any'} value=${value}
      onInput=${(e) => onChange(coerce(spec, e.target.value))} />${spec.unit ? ` ${spec.unit}` : ''}</span>`;
  return html`<input aria-label="value" data-testid=${testid} value=${value ?? ''} onInput=${(e) => onChange(e.target.value)} />`;
}

function Days({ value, onChange }) {
  return html`<span class="days">${DAYS.map(
    ([d, word]) => html`<label><input type="checkbox" checked=${value.includes(d)}
      onChange=${(e) => onChange(e.target.checked ? [...value, d] : value.filter((x) => x !== d))} />${word}</label>`,
  )}</span>`;
}

function TriggerEditor({ tg, set, devices, n }) {
  const kind = kindOfTrigger(tg);
  const device = devices.find((d) => d.id === tg.device);
  const spec = device?.attributes[tg.attribute];
  let body = null;
  if (kind === 'at')
    body = html`<input type="time" aria-label="time" data-testid=${`trigger-${n}-at`} value=${tg.at} onInput=${(e) => set({ ...tg, at: e.target.value })} />
    <${Days} value=${tg.weekdays ?? []} onChange=${(w) => set(w.length ? { ...tg, weekdays: w } : { at: tg.at })} />`;
  else if (kind === 'cron') body = html`<input aria-label="cron" value=${tg.cron} onInput=${(e) => set({ cron: e.target.value })} />`;
  else if (kind === 'button')
    body = html`<${DevicePick} devices=${devices} value=${tg.device} onChange=${(id) => set({ ...tg, device: id })} testid=${`trigger-${n}-device`} />
      <input aria-label="button" placeholder=${t('button (e.g. double)')} data-testid=${`trigger-${n}-button`} value=${tg.button ?? ''} onInput=${(e) => set({ ...tg, button: e.target.value || undefined })} />`;
  else {
    const mode = tg.below !== undefined ? 'below' : 'above';
    const { above, below, to, ...rest } = tg;
    body = html`<${DevicePick} devices=${devices} value=${tg.device} onChange=${(id) => set({ device: id, attribute: '' })} testid=${`trigger-${n}-device`} />
      <${AttributePick} device=${device} value=${tg.attribute} onChange=${(a) => set({ device: tg.device, attribute: a })} testid=${`trigger-${n}-attribute`} />
      ${
        spec && spec.type === 'number'
          ? html`<select aria-label="how" value=${mode} onChange=${(e) => set({ ...rest, [e.target.value]: tg[mode] ?? spec.min ?? 0 })}>
            <option value="above">${t('rises above')}</option><option value="below">${t('falls below')}</option></select>
            <${ValuePick} spec=${spec} value=${tg[mode] ?? ''} onChange=${(v) => set({ ...rest, [mode]: v })} testid=${`trigger-${n}-value`} />`
          : spec && html`${t('becomes')} <${ValuePick} spec=${spec} value=${tg.to} onChange=${(v) => set({ ...rest, to: v })} testid=${`trigger-${n}-value`} />`
      }
      <input aria-label="for how long" placeholder=${t('for (e.g. 2m)')} size="6" value=${tg.for ?? ''} onInput=${(e) => set({ ...tg, for: e.target.value || undefined })} />`;
  }
  return body;
}

function ConditionEditor({ c, set, devices, tariffs }) {
  const kind = kindOfCondition(c);
  if (kind === 'time')
    return html`${t('after')} <input type="time" aria-label="after" value=${c.time.after} onInput=${(e) => set({ time: { ...c.time, after: e.target.value } })} />
      ${t('before')} <input type="time" aria-label="before" value=${c.time.before} onInput=${(e) => set({ time: { ...c.time, before: e.target.value } })} />`;
  if (kind === 'weekdays') return html`<${Days} value=${c.weekdays} onChange=${(w) => set({ weekdays: w })} />`;
  if (kind === 'tariff')
    return html`<select aria-label="tariff" value=${c.tariff} onChange=${(e) => set({ tariff: e.target.value })}>${tariffs.map((name) => html`<option value=${name}>${name}</option>`)}</select>`;
  const device = devices.find((d) => d.id === c.device);
  const spec = device?.attributes[c.attribute];
  return html`<${DevicePick} devices=${devices} value=${c.device} onChange=${(id) => set({ device: id, attribute: '' })} />
    <${AttributePick} device=${device} value=${c.attribute} onChange=${(a) => set({ device: c.device, attribute: a })} />
    ${
      spec && spec.type === 'number'
        ? html`${t('is above')} <${ValuePick} spec=${spec} value=${c.above ?? ''} onChange=${(v) => set({ device: c.device, attribute: c.attribute, above: v })} />`
        : spec &&
          html`${t('is')} <${ValuePick} spec=${spec} value=${c.equals} onChange=${(v) => set({ device: c.device, attribute: c.attribute, equals: v })} />`
    }`;
}

function ActionEditor({ a, set, devices, scenes, n }) {
  const kind = kindOfAction(a);
  if (kind === 'scene')
    return html`<select aria-label="scene" value=${a.scene} onChange=${(e) => set({ scene: e.target.value })}>${scenes.map((s) => html`<option value=${s}>${s.replace(/[-_]/g, ' ')}</option>`)}</select>`;
  if (kind === 'delay') return html`<input aria-label="how long" size="6" value=${a.delay} onInput=${(e) => set({ delay: e.target.value })} />`;
  if (kind === 'notify')
    return html`<input aria-label="message" placeholder=${t('what to tell')} data-testid=${`action-${n}-message`} value=${a.notify.message} onInput=${(e) => set({ notify: { ...a.notify, message: e.target.value } })} />
      <select aria-label="how urgent" value=${a.notify.severity} onChange=${(e) => set({ notify: { ...a.notify, severity: e.target.value } })}>
        <option value="info">${t('for information')}</option><option value="warning">${t('a warning')}</option><option value="critical">${t('urgent')}</option></select>`;
  const target = a[kind];
  const device = devices.find((d) => d.id === target.device);
  const writable = (s) => s.writable && (kind === 'set' || s.type === 'boolean');
  return html`<${DevicePick} devices=${devices} filter=${(d) => Object.values(d.attributes).some(writable)} value=${target.device}
      onChange=${(id) => set({ [kind]: { device: id, attribute: '', ...(kind === 'set' ? { value: '' } : {}) } })} testid=${`action-${n}-device`} />
    <${AttributePick} device=${device} filter=${writable} value=${target.attribute} onChange=${(at) => set({ [kind]: { ...target, attribute: at } })} testid=${`action-${n}-attribute`} />
    ${
      kind === 'set' &&
      device?.attributes[target.attribute] &&
      html`${t('to')} <${ValuePick} spec=${device.attributes[target.attribute]} commands=${true} value=${target.value}
      onChange=${(v) => set({ set: { ...target, value: v } })} testid=${`action-${n}-value`} />`
    }`;
}

/** One list of the rule (triggers, conditions or actions): each item with its kind, editor and a remove button; "add". */
function Part({ title, kinds, items, kindOf, blank, render, onChange, testid, min = 0 }) {
  return html`<fieldset data-testid=${testid}><legend>${title}</legend>
    ${items.map(
      (item, i) => html`<div class="part">
        <select aria-label="kind" value=${kindOf(item)} onChange=${(e) => onChange(items.map((x, j) => (j === i ? blank(e.target.value) : x)))}>
          ${Object.entries(kinds).map(([k, w]) => html`<option value=${k}>${w}</option>`)}</select>
        ${render(item, (next) => onChange(items.map((x, j) => (j === i ? next : x))), i)}
        ${items.length > min && html`<button type="button" class="secondary" aria-label="remove" onClick=${() => onChange(items.filter((_, j) => j !== i))}>✕</button>`}
      </div>`,
    )}
    <button type="button" class="secondary" data-testid=${`${testid}-add`} onClick=${() => onChange([...items, blank(Object.keys(kinds)[0])])}>${t('Add')}</button>
  </fieldset>`;
}

export function RuleBuilder({ devices, editId, onDone }) {
  const [rule, setRule] = useState(null);
  const [extra, setExtra] = useState({ scenes: [], tariffs: [] });
  const [verdict, setVerdict] = useState(null);
  const [problems, setProblems] = useState(null);
  const [run, failed] = useAction();
  useEffect(() => {
    api('/api/scenes').then(
      (s) => setExtra({ scenes: Object.keys(s.scenes), tariffs: s.tariffs }),
      () => undefined,
    );
    if (editId)
      api(`/api/rules/items/${editId}`).then(
        (r) => setRule(r.rule),
        (err) => setProblems([{ where: editId, message: err.message }]),
      );
    else setRule({ id: '', name: '', triggers: [blankTrigger('state', devices)], conditions: [], actions: [blankAction('set', devices, [])] });
  }, [editId]);
  if (!rule) return html`<p class="loading">${t('Loading the rule…')}</p>`;
  const draft = () => {
    const id = editId ?? (slug(rule.name) || `rule-${Date.now().toString(36)}`);
    const clean = JSON.parse(JSON.stringify({ ...rule, id })); // drops the undefined fields the editors leave
    if (clean.conditions.length === 0) delete clean.conditions;
    return clean;
  };
  const submit = (dryRun) =>
    run(async () => {
      setVerdict(null);
      setProblems(null);
      const r = draft();
      try {
        const answer = await api(`/api/rules/items/${editId ?? r.id}`, { method: 'PUT', body: { rule: r, dryRun } });
        setVerdict(answer);
        if (answer.saved) onDone(r.id);
      } catch (err) {
        if (err.body?.problems) setProblems(err.body.problems);
        else throw err;
      }
    });
  const put = (key) => (items) => setRule({ ...rule, [key]: items });
  return html`<section class="card builder" data-testid="rule-builder">
    <label>${t('Name')} <input aria-label=${t('rule name')} data-testid="rule-name" value=${rule.name ?? ''} onInput=${(e) => setRule({ ...rule, name: e.target.value })} /></label>
    <${Part} title=${t('When')} testid="triggers" kinds=${TRIGGERS} items=${rule.triggers} kindOf=${kindOfTrigger} min=${1}
      blank=${(k) => blankTrigger(k, devices)} onChange=${put('triggers')}
      render=${(tg, set, n) => html`<${TriggerEditor} tg=${tg} set=${set} devices=${devices} n=${n} />`} />
    <${Part} title=${t('Only if')} testid="conditions" kinds=${CONDITIONS} items=${rule.conditions ?? []} kindOf=${kindOfCondition}
      blank=${(k) => blankCondition(k, devices, extra.tariffs)} onChange=${put('conditions')}
      render=${(c, set) => html`<${ConditionEditor} c=${c} set=${set} devices=${devices} tariffs=${extra.tariffs} />`} />
    <${Part} title=${t('Then')} testid="actions" kinds=${ACTIONS} items=${rule.actions} kindOf=${kindOfAction} min=${1}
      blank=${(k) => blankAction(k, devices, extra.scenes)} onChange=${put('actions')}
      render=${(a, set, n) => html`<${ActionEditor} a=${a} set=${set} devices=${devices} scenes=${extra.scenes} n=${n} />`} />
    ${problems && html`<ul class="errors" role="alert" data-testid="builder-problems">${problems.map((p) => html`<li>${p.message}</li>`)}</ul>`}
    ${verdict && html`<p class="ok" role="status" data-testid="builder-verdict">${verdict.saved ? t('Saved.') : t('Looks right.')} ${verdict.words}${verdict.unlocks ? ` ${t('(it may unlock)')}` : ''}</p>`}
    ${failed}
    <button type="button" class="secondary" data-testid="builder-check" onClick=${submit(true)}>${t('Check')}</button>
    <button type="button" data-testid="builder-save" onClick=${submit(false)}>${t('Save')}</button>
    <button type="button" class="secondary" onClick=${() => onDone(null)}>${t('Cancel')}</button>
  </section>`;
}
