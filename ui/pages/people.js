import { t, LANGUAGES, lang, setLang } from '../i18n.js';
import { useEffect, useState } from 'preact/hooks';
import { api, session } from '../api.js';
import { Failed } from '../load.js';
import { fmtTime, html } from '../html.js';

/** Who may use the gateway, invites, and this person's signed-in phones. */
/** The owner sets simple mode for someone else (and may keep them in it). */
function SimpleFor({ member }) {
  const [state, setState] = useState(null);
  const [error, setError] = useState(null);
  const set = async (body) => {
    setError(null);
    try {
      setState(await api(`/api/members/${member.id}/prefs`, { method: 'PUT', body }));
    } catch (err) {
      setError(err.message);
    }
  };
  return html`<span class="simple-for">
    <button class="secondary" data-testid=${`simple-for-${member.id}`} onClick=${() => set({ simple: true, simpleLocked: true })}>${t('Simple mode, kept on')}</button>
    <button class="secondary" onClick=${() => set({ simple: false, simpleLocked: false })}>${t('Full app')}</button>
    ${
      state &&
      html`<span class="ok">${
        !state.simple
          ? t('{name} sees the full app.', { name: member.name })
          : state.simpleLocked
            ? t('{name} sees the simple mode and stays in it.', { name: member.name })
            : t('{name} sees the simple mode.', { name: member.name })
      }</span>`
    }
    ${error && html`<span class="errors">${error}</span>`}</span>`;
}

export function PeoplePage({ me, prefs, onPrefs, onSignedOut }) {
  const [mine, setMine] = useState(null);
  const [members, setMembers] = useState(null);
  const [invite, setInvite] = useState(null);
  const [error, setError] = useState(null);
  const [loadError, setLoadError] = useState(null);
  const load = () => {
    setLoadError(null);
    api('/api/me').then(setMine, setLoadError);
    if (me?.role === 'owner') api('/api/members').then(setMembers, setLoadError);
  };
  useEffect(load, [me?.role]);
  const act = (fn) => async () => {
    setError(null);
    try {
      await fn();
      load();
    } catch (err) {
      setError(err.message);
    }
  };
  if (loadError) return html`<${Failed} error=${loadError} retry=${load} what=${t('people')} />`;
  if (!mine) return html`<p class="loading">${t('Loading people…')}</p>`;
  return html`
    <h2>${t('You')}</h2>
    <section class="card"><p>${t('Signed in as')} <strong>${mine.user.name}</strong> (${t(mine.user.role)}).</p>
      <div class="row"><label for="language">${t('Language')}</label>
        <select id="language" data-testid="language" value=${lang()} onChange=${(e) => setLang(e.target.value)}>
          ${LANGUAGES.map(([code, name]) => html`<option value=${code}>${name}</option>`)}</select></div>
      <div class="row"><span>${t('Simple mode: large buttons for your favourites only')}</span>
        <button class="switch" role="switch" aria-checked=${String(prefs?.simple === true)} aria-label=${t('simple mode')} data-testid="simple-mode"
          onClick=${act(async () => onPrefs(await api('/api/me/prefs', { method: 'PUT', body: { simple: !(prefs?.simple === true) } })))}></button></div>
      <table>${mine.sessions.map(
        (
          s,
        ) => html`<tr><td>${s.label}${s.id === mine.sessionId ? ` ${t('(this phone)')}` : ''}<br/><span class="muted">${t('last used {when}', { when: fmtTime(s.lastUsed) })}</span></td>
        <td><button class="secondary" onClick=${act(async () => {
          await api(`/api/sessions/${s.id}`, { method: 'DELETE' });
          if (s.id === mine.sessionId) {
            session.clear();
            onSignedOut();
          }
        })}>${t('Sign out')}</button></td></tr>`,
      )}</table>
    </section>
    ${
      members &&
      html`<h2>${t('People')}</h2><section class="card" data-testid="members">
      <table>${members.map(
        (m) =>
          html`<tr><td>${m.name}</td><td>${t(m.role)}</td><td>${
            m.id !== mine.user.id &&
            html`<${SimpleFor} member=${m} />
          <button class="danger" onClick=${act(() => api(`/api/members/${m.id}`, { method: 'DELETE' }))}>${t('Remove')}</button>`
          }</td></tr>`,
      )}</table>
      <p><button onClick=${act(async () => setInvite(await api('/api/members/invite', { method: 'POST', body: { role: 'member' } })))}>${t('Invite a member')}</button>
         <button class="secondary" onClick=${act(async () => setInvite(await api('/api/members/invite', { method: 'POST', body: { role: 'guest' } })))}>${t('Invite a guest')}</button></p>
      ${invite && html`<div class="ok" data-testid="invite">${invite.role === 'member' ? t('Invite code for a member, valid for 24 hours:') : t('Invite code for a guest, valid for 24 hours:')} <div class="code">${invite.code}</div><span class="muted">${t('or open {url}', { url: invite.url })}</span></div>`}
    </section>`
    }
    ${error && html`<p class="errors">${error}</p>`}`;
}
