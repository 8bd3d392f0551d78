import { t } from '../i18n.js';
import { useState } from 'preact/hooks';
import { api, session } from '../api.js';
import { html } from '../html.js';

/** Pair this phone with the code the gateway printed (or an invite), or sign in with a password. */
export function PairPage({ onSignedIn }) {
  const params = new URLSearchParams(location.hash.split('?')[1] ?? '');
  const [code, setCode] = useState(params.get('code') ?? '');
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState(null);
  const [mode, setMode] = useState('pair');
  const submit = async (e) => {
    e.preventDefault();
    setError(null);
    try {
      const body =
        mode === 'pair'
          ? { code, name, ...(password ? { password } : {}), label: navigator.userAgent.slice(0, 60) }
          : { name, password, label: navigator.userAgent.slice(0, 60) };
      const r = await api(mode === 'pair' ? '/api/pair' : '/api/login', { method: 'POST', body });
      session.set(r.token);
      onSignedIn();
      location.hash = '#/';
    } catch (err) {
      setError(err.status === 429 ? t('Too many tries. Wait a minute and try again.') : err.message);
    }
  };
  return html`<section class="card">
    <div class="seg"><button class=${mode === 'pair' ? 'active' : ''} onClick=${() => setMode('pair')}>${t('Pair with a code')}</button><button class=${mode === 'login' ? 'active' : ''} onClick=${() => setMode('login')}>${t('Sign in')}</button></div>
    <form onSubmit=${submit}>
      ${
        mode === 'pair' &&
        html`<p>${t('Enter the pairing code the gateway printed when it started, or an invite code you were given.')}</p>
        <label for="code">${t('Code')}</label><input id="code" type="text" autocomplete="one-time-code" value=${code} onInput=${(e) => setCode(e.target.value)} placeholder="ABCD-EFGH" />`
      }
      <label for="name">${t('Your name')}</label><input id="name" type="text" autocomplete="username" value=${name} onInput=${(e) => setName(e.target.value)} />
      <label for="password">${t('Password')} ${mode === 'pair' ? t('(optional: lets you sign in from another phone)') : ''}</label>
      <input id="password" type="password" autocomplete=${mode === 'pair' ? 'new-password' : 'current-password'} value=${password} onInput=${(e) => setPassword(e.target.value)} />
      ${error && html`<p class="errors" data-testid="pair-error">${error}</p>`}
      <p><button type="submit" data-testid="pair-submit">${mode === 'pair' ? t('Pair this phone') : t('Sign in')}</button></p>
    </form></section>`;
}
