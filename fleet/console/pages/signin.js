import { useState } from 'preact/hooks';
import { api, html, session } from '../api.js';

export function SignIn({ onDone }) {
  const [error, setError] = useState(null);
  const submit = async (e) => {
    e.preventDefault();
    const form = new FormData(e.target);
    setError(null);
    try {
      const { token, user } = await api('/api/login', { method: 'POST', body: { name: form.get('name'), password: form.get('password') } });
      session.set(token, user);
      onDone(user);
    } catch (err) {
      setError(err.status === 429 ? 'Too many attempts: wait a minute and try again.' : err.message);
    }
  };
  return html`
    <main class="signin">
      <h1>Trellis Fleet</h1>
      <form onSubmit=${submit}>
        <label>Name <input id="name" name="name" autocomplete="username" required /></label>
        <label>Password <input id="password" name="password" type="password" autocomplete="current-password" required /></label>
        ${error && html`<div class="errors" role="alert">${error}</div>`}
        <button type="submit" data-testid="signin-submit">Sign in</button>
      </form>
    </main>
  `;
}
