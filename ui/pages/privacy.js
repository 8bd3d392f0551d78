import { t } from '../i18n.js';
import { useEffect, useState } from 'preact/hooks';
import { BackupCard } from './backup.js';
import { api, download } from '../api.js';
import { Failed, useAction } from '../load.js';
import { fmtTime, html } from '../html.js';

const CLASSES = ['usage', 'maintenance', 'health', 'telemetry', 'alerts'];
const CLASS_WORDS = {
  usage: t('usage (energy, cups, on-time)'),
  maintenance: t('maintenance signals'),
  health: t('gateway health'),
  telemetry: t('raw readings'),
  alerts: t('alerts'),
};

function GrantForm({ devices, onDone }) {
  const [provider, setProvider] = useState('');
  const [chosen, setChosen] = useState([]);
  const [classes, setClasses] = useState(['usage']);
  const [commands, setCommands] = useState('');
  const [identity, setIdentity] = useState(false);
  const [expires, setExpires] = useState('');
  const [error, setError] = useState(null);
  const toggle = (list, set, v) => set(list.includes(v) ? list.filter((x) => x !== v) : [...list, v]);
  const submit = async (e) => {
    e.preventDefault();
    setError(null);
    try {
      await api('/api/grants', {
        method: 'POST',
        body: {
          provider: provider.trim(),
          devices: chosen,
          classes,
          commands: commands
            .split(',')
            .map((c) => c.trim())
            .filter(Boolean),
          identity,
          expiresAt: expires ? Date.parse(expires) : null,
        },
      });
      setProvider('');
      setChosen([]);
      setCommands('');
      onDone();
    } catch (err) {
      setError(err.message);
    }
  };
  return html`<form class="card" onSubmit=${submit} data-testid="grant-form">
    <h3>${t('Give a service provider access')}</h3>
    <label for="provider">${t('Provider (its cloud login name)')}</label><input id="provider" type="text" value=${provider} onInput=${(e) => setProvider(e.target.value)} placeholder=${t('e.g. coolco')} />
    <label>${t('Devices')}</label>${devices.map((d) => html`<label class="row"><span>${d.name}</span><input type="checkbox" checked=${chosen.includes(d.id)} onChange=${() => toggle(chosen, setChosen, d.id)} /></label>`)}
    <label class="row"><span>${t('All devices, now and later')}</span><input type="checkbox" checked=${chosen.includes('*')} onChange=${() => toggle(chosen, setChosen, '*')} /></label>
    <label>${t('What it may see')}</label>${CLASSES.map((c) => html`<label class="row"><span>${CLASS_WORDS[c]}</span><input type="checkbox" checked=${classes.includes(c)} onChange=${() => toggle(classes, setClasses, c)} /></label>`)}
    <label for="commands">${t('What it may change (attribute names, comma-separated; empty: nothing)')}</label><input id="commands" type="text" value=${commands} onInput=${(e) => setCommands(e.target.value)} placeholder=${t('e.g. power, setpoint')} />
    <label class="row"><span>${t('Show real device names (otherwise it sees pseudonyms)')}</span><input type="checkbox" checked=${identity} onChange=${() => setIdentity(!identity)} /></label>
    <label for="expires">${t('Until (optional)')}</label><input id="expires" type="text" value=${expires} onInput=${(e) => setExpires(e.target.value)} placeholder="2027-12-31" />
    ${error && html`<p class="errors">${error}</p>`}
    <p><button type="submit">${t('Grant')}</button></p></form>`;
}

/** What each service provider may see and do, the audit log, export and erase. */
export function PrivacyPage({ devices }) {
  const [grants, setGrants] = useState(null);
  const [audit, setAudit] = useState(null);
  const [message, setMessage] = useState(null);
  const [loadError, setLoadError] = useState(null);
  const [act, grantError] = useAction();
  const [dataAct, dataError] = useAction();
  const load = () => {
    setLoadError(null);
    api('/api/grants').then(setGrants, setLoadError);
    api('/api/audit?limit=50').then(setAudit, setLoadError);
  };
  useEffect(load, []);
  const revoke = act(async (id) => {
    await api(`/api/grants/${id}`, { method: 'DELETE' });
    load();
  });
  const exportAll = dataAct(async () => {
    await download('/api/export', 'trellis-export.zip');
    load();
  });
  const eraseAll = dataAct(async () => {
    if (!confirm(t('Erase all stored history and usage? This cannot be undone.'))) return;
    const r = await api('/api/erase', { method: 'POST', body: {} });
    setMessage(t('Erased {n} readings and {h} usage hours.', { n: r.readings, h: r.usageBuckets }));
    load();
  });
  if (loadError) return html`<${Failed} error=${loadError} retry=${load} what=${t('grants and the audit log')} />`;
  if (!grants || !audit) return html`<p class="loading">${t('Loading grants…')}</p>`;
  const active = grants.grants.filter((g) => !g.revokedAt);
  return html`
    <h2>${t('Service providers')}</h2>
    ${active.length === 0 && html`<p class="card muted">${t('No provider receives anything from this gateway.')}</p>`}
    ${active.map(
      (g) => html`<section class="card" data-testid=${`grant-${g.id}`}>
      <strong>${g.providerId}</strong><br/>
      <span class="muted">${t('Devices: {list}', { list: g.devices.join(', ') })} · ${t('sees: {list}', { list: g.classes.join(', ') || t('nothing') })} · ${t('may change: {list}', { list: g.commands.join(', ') || t('nothing') })} · ${g.identity ? t('real names') : t('pseudonyms')}${g.expiresAt ? ` · ${t('until {when}', { when: fmtTime(g.expiresAt) })}` : ''}</span>
      <p><button class="danger" onClick=${() => revoke(g.id)}>${t('Revoke')}</button></p></section>`,
    )}
    ${grantError}
    <${GrantForm} devices=${devices ?? []} onDone=${load} />
    <h2>${t('Your data')}</h2>
    <section class="card"><p>${t('Download everything this gateway knows about your home or shop, or erase the history.')}</p>
      <button onClick=${exportAll}>${t('Download all data')}</button> <button class="danger" onClick=${eraseAll}>${t('Erase history')}</button>
      ${message && html`<p class="ok">${message}</p>`}${dataError}</section>
    <${BackupCard} />
    <h2>${t('Audit log')}</h2>
    <section class="card" data-testid="audit">
      <p class=${audit.verified.ok ? 'ok' : 'errors'}>${audit.verified.ok ? t('Intact: {n} entries, none changed.', { n: audit.verified.rows }) : t('Tampered with at entry {id}: {why}', { id: audit.verified.id, why: audit.verified.reason })}</p>
      <table>${audit.entries.map((e) => html`<tr><td>${fmtTime(e.at)}</td><td>${e.actor}</td><td>${e.action}${e.subject ? ` ${e.subject}` : ''}</td></tr>`)}</table>
    </section>`;
}
