import { t } from '../i18n.js';
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.js';
import { Failed, pending, useLoad } from '../load.js';
import { fmtTime, html } from '../html.js';
import { RuleBuilder } from './ruleBuilder.js';
import { ScenesCard } from './scenes.js';

function Traces({ id }) {
  const state = useLoad(() => api(`/api/rules/${id}/traces`), [id]);
  const wait = pending(state, t('its runs'));
  if (wait) return wait;
  const traces = state.data;
  if (traces.length === 0) return html`<p class="muted">${t('Has not run yet.')}</p>`;
  return html`<ul class="muted" data-testid=${`traces-${id}`}>${traces.slice(0, 5).map((tr) => html`<li>${fmtTime(tr.at)}: ${tr.trigger}${tr.conditions.length ? ` · ${tr.conditions.map((c) => `${c.text} ${c.result ? '✓' : '✗'}`).join(', ')}` : ''} → ${tr.commands.join(', ') || tr.outcome}</li>`)}</ul>`;
}

/** The rule list in words with on/off switches, "why did this run", the rule builder, and the YAML editor that shows the checker's errors. */
export function RulesPage({ me, devices }) {
  const [data, setData] = useState(null);
  const [text, setText] = useState('');
  const [problems, setProblems] = useState(null);
  const [saved, setSaved] = useState(null);
  const [open, setOpen] = useState(null);
  /** the rule being built: 'new', a rule id, or null */
  const [building, setBuilding] = useState(null);
  const [loadError, setLoadError] = useState(null);
  const load = () =>
    api('/api/rules').then((r) => {
      setLoadError(null);
      setData(r);
      setText(r.text);
    }, setLoadError);
  useEffect(() => {
    load();
  }, []);
  if (loadError && !data) return html`<${Failed} error=${loadError} retry=${load} what=${t('the rules')} />`;
  if (!data) return html`<p class="loading">${t('Loading rules…')}</p>`;
  const isOwner = me?.role === 'owner';
  const toggle = async (rule) => {
    try {
      await api(`/api/rules/${rule.id}`, { method: 'PATCH', body: { enabled: !rule.enabled } });
      await load();
    } catch (err) {
      setProblems([{ where: rule.id, message: err.message }]);
    }
  };
  const save = async () => {
    setSaved(null);
    setProblems(null);
    try {
      const r = await api('/api/rules', { method: 'PUT', body: { text } });
      setSaved(t('Saved: {n} rule(s) active.', { n: r.count }));
      await load();
    } catch (err) {
      setProblems(err.body?.problems ?? [{ where: '', message: err.message }]);
    }
  };
  const done = (id) => {
    setBuilding(null);
    if (id) load();
  };
  return html`
    <h2>${t('Rules')}</h2>
    ${isOwner && building !== 'new' && html`<p><button data-testid="rule-new" onClick=${() => setBuilding('new')}>${t('New rule')}</button></p>`}
    ${building === 'new' && html`<${RuleBuilder} devices=${devices ?? []} onDone=${done} />`}
    ${data.rules.length === 0 && html`<p class="card muted">${t('No rules yet.')}</p>`}
    ${data.rules.map(
      (r) => html`<section class="card" data-testid=${`rule-${r.id}`}>
      <div class="row"><span><strong>${r.name ?? r.id}</strong> ${r.protected ? html`<span title=${t('protected: only the owner may change it')}>🔒</span>` : ''}<br/>
        <span data-testid=${`rule-words-${r.id}`}>${r.words}</span><br/>
        <span class="muted">${t('Last ran: {when}', { when: fmtTime(r.lastFiredAt) })}</span></span>
        <button class="switch" role="switch" aria-checked=${String(r.enabled)} aria-label=${t('rule {id} enabled', { id: r.id })} disabled=${me?.role === 'guest' || (r.protected && !isOwner)} onClick=${() => toggle(r)}></button></div>
      <button class="secondary" onClick=${() => setOpen(open === r.id ? null : r.id)}>${t('Why did this run?')}</button>
      ${isOwner && html` <button class="secondary" data-testid=${`rule-edit-${r.id}`} onClick=${() => setBuilding(r.id)}>${t('Change')}</button>`}
      ${open === r.id && html`<${Traces} id=${r.id} />`}
      ${building === r.id && html`<${RuleBuilder} devices=${devices ?? []} editId=${r.id} onDone=${done} />`}
    </section>`,
    )}
    ${isOwner && html`<${ScenesCard} devices=${devices ?? []} />`}
    ${
      isOwner &&
      html`<h2>${t('Edit the rule file')}</h2>
      <div class="card">
        <textarea wrap="off" aria-label=${t('rule file')} data-testid="rule-editor" spellcheck="false" value=${text} onInput=${(e) => setText(e.target.value)}></textarea>
        ${problems && html`<ul class="errors" data-testid="rule-errors">${problems.map((p) => html`<li><strong>${p.where}</strong> ${p.message}</li>`)}</ul>`}
        ${saved && html`<p class="ok" data-testid="rule-saved">${saved}</p>`}
        <button onClick=${save} data-testid="rule-save">${t('Check and save')}</button>
        <p class="muted">${t('Rules are checked before they run; if there is a problem, the rules already running keep running.')}</p>
      </div>`
    }`;
}
