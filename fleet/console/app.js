import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { html, session } from './api.js';
import { onStatus } from './live.js';
import { Alarms } from './pages/alarms.js';
import { Audit } from './pages/audit.js';
import { Overview } from './pages/overview.js';
import { SignIn } from './pages/signin.js';
import { Tickets } from './pages/tickets.js';
import { Usage } from './pages/usage.js';
import { Commands } from './pages/commands.js';
import { Device } from './pages/device.js';
import { Maintenance } from './pages/maintenance.js';
import { People } from './pages/people.js';
import { Site, Sites } from './pages/sites.js';

/** Pages by hash route; each names the roles that see it in the menu. */
const PAGES = {
  overview: { title: 'Overview', roles: ['admin', 'dispatcher', 'billing'], view: Overview },
  sites: { title: 'Sites', roles: ['admin', 'dispatcher'], view: Sites },
  site: { title: null, roles: ['admin', 'dispatcher'], view: Site },
  device: { title: null, roles: ['admin', 'dispatcher', 'technician'], view: Device },
  alarms: { title: 'Alarms', roles: ['admin', 'dispatcher', 'technician'], view: Alarms },
  tickets: { title: 'Tickets', roles: ['admin', 'dispatcher', 'technician'], view: Tickets },
  maintenance: { title: 'Maintenance', roles: ['admin', 'dispatcher'], view: Maintenance },
  usage: { title: 'Usage', roles: ['admin', 'dispatcher', 'billing'], view: Usage },
  commands: { title: 'Commands', roles: ['admin', 'dispatcher'], view: Commands },
  people: { title: 'People', roles: ['admin'], view: People },
  audit: { title: 'Audit', roles: ['admin'], view: Audit },
};
const home = (user) => (user?.role === 'technician' ? 'tickets' : 'overview');

function useRoute() {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const on = () => setHash(location.hash);
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  const [page, query = ''] = hash.replace(/^#\//, '').split('?');
  return { page, query: new URLSearchParams(query) };
}

/** Whether the page hears changes as they happen. */
function LiveBadge() {
  const [status, setStatus] = useState('off');
  useEffect(() => onStatus(setStatus), []);
  const words = { live: 'Live', reconnecting: 'Reconnecting…', off: 'Not live' };
  return html`<span class="live ${status}" data-testid="live-status" title="Changes appear as they happen while this says Live">${words[status]}</span>`;
}

function App() {
  const { page, query } = useRoute();
  const user = session.user;
  if (!session.token || page === 'signin') return html`<${SignIn} onDone=${(u) => (location.hash = `#/${home(u)}`)} />`;
  const current = PAGES[page]?.roles.includes(user.role) ? page : home(user);
  const View = PAGES[current].view;
  return html`
    <header>
      <strong>Trellis Fleet</strong>
      <nav>
        ${Object.entries(PAGES)
          .filter(([, p]) => p.title && p.roles.includes(user.role))
          .map(([id, p]) => html`<a href="#/${id}" aria-current=${id === current ? 'page' : undefined}>${p.title}</a>`)}
      </nav>
      <${LiveBadge} />
      <span class="who">${user.name} (${user.role})</span>
      <button
        class="secondary"
        onClick=${async () => {
          await fetch('/api/logout', { method: 'POST', headers: { authorization: `Bearer ${session.token}` } }).catch(() => undefined);
          session.clear();
          location.hash = '#/signin';
        }}
      >
        Sign out
      </button>
    </header>
    <main><${View} user=${user} query=${query} /></main>
  `;
}

const root = document.getElementById('app');
root.textContent = ''; // the static "Loading…" placeholder
render(html`<${App} />`, root);
