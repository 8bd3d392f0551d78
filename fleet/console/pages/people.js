import { api, html } from '../api.js';
import { pending, useAction, useLive } from '../load.js';

const ROLE_WORDS = {
  admin: 'everything, and people',
  dispatcher: 'everything but people; assigns tickets',
  technician: 'its own tickets and their devices',
  billing: 'sites and usage',
};

/** People (admin): who may use the console, with which role. */
export function People({ user }) {
  const state = useLive(() => api('/api/users'), [], ['people']);
  const [run, error] = useAction(state.bump);
  const wait = pending(state, 'the people');
  if (wait) return wait;
  return html`
    <h1>People</h1>
    ${error}
    <table>
      <thead><tr><th>Name</th><th>Role</th><th>May</th><th></th></tr></thead>
      <tbody>
        ${state.data.map(
          (u) => html`<tr data-testid="user-${u.name}">
            <td>${u.name}</td><td>${u.role}</td><td class="meta">${ROLE_WORDS[u.role]}</td>
            <td>${u.id !== user.id && html`<button class="secondary" onClick=${run(() => confirm(`Remove ${u.name}? Their sign-ins end now.`) && api(`/api/users/${u.id}`, { method: 'DELETE' }))}>Remove</button>`}</td>
          </tr>`,
        )}
      </tbody>
    </table>
    <section class="card">
      <h2>Add a person</h2>
      <form
        onSubmit=${run(async (e) => {
          e.preventDefault();
          const f = new FormData(e.target);
          await api('/api/users', { method: 'POST', body: { name: f.get('name'), role: f.get('role'), password: f.get('password') } });
          e.target.reset();
        })}
      >
        <label>Name <input name="name" required data-testid="new-name" /></label>
        <label>Role <select name="role" data-testid="new-role">${Object.keys(ROLE_WORDS).map((r) => html`<option>${r}</option>`)}</select></label>
        <label>Password (10 characters or more) <input name="password" type="password" minlength="10" required data-testid="new-password" /></label>
        <button type="submit" data-testid="add-person">Add</button>
      </form>
    </section>
  `;
}
