import { useState } from 'preact/hooks';
import { api, fmtTime, html } from '../api.js';
import { pending, useLive } from '../load.js';

const KINDS = {
  session: 'Sign-ins',
  person: 'People',
  alarm: 'Alarms',
  ticket: 'Tickets',
  command: 'Commands',
  job: 'Bulk jobs',
  diagnostics: 'Diagnostics',
  site: 'Sites',
};
const STATE_WORDS = { assigned: 'assigned', scheduled: 'scheduled', in_progress: 'started work on', resolved: 'resolved', closed: 'closed', open: 'reopened' };
const value = (v) => (typeof v === 'string' ? `"${v}"` : JSON.stringify(v));

/** What an entry did, in words: "assigned ticket 12 to tess", "sent descale = true to d-4f… at shop-1". */
export function auditWords(e, names) {
  const b = e.detail?.body ?? {};
  const person = (id) => names.get(id) ?? `person ${id}`;
  switch (e.action) {
    case 'session.signin':
      return e.status < 300 ? 'signed in' : `tried to sign in as "${e.actor.split(':').slice(1).join(':')}"`;
    case 'session.signout':
      return 'signed out';
    case 'person.add':
      return `added ${b.name} as ${b.role}`;
    case 'person.remove':
      return `removed ${person(Number(e.target))}`;
    case 'alarm.acknowledge':
      return `acknowledged alarm ${e.target}`;
    case 'alarm.clear':
      return `cleared alarm ${e.target}`;
    case 'ticket.open':
      return `opened ticket ${e.target}${b.title ? `: "${b.title}"` : ''}`;
    case 'ticket.move':
      return `${STATE_WORDS[b.to] ?? `moved to ${b.to}`} ticket ${e.target}${b.assigneeId !== undefined ? ` to ${person(b.assigneeId)}` : ''}${b.scheduledFor ? ` for ${fmtTime(b.scheduledFor)}` : ''}${b.resolutionCode ? ` (${b.resolutionCode})` : ''}`;
    case 'command.send':
      return `sent ${b.attribute} = ${value(b.value)} to ${b.deviceRef} at ${b.gatewayId}`;
    case 'job.start':
      return `started the bulk job "${b.name}": ${b.attribute} = ${value(b.value)}`;
    case 'diagnostics.ask':
      return `asked ${b.deviceRef} at ${b.gatewayId} for a diagnostic snapshot`;
    case 'site.label':
      return `relabelled site ${e.target}`;
    default:
      return `${e.action} ${e.target}`;
  }
}

const whoWords = (actor) => {
  const [role, ...name] = actor.split(':');
  return role === 'unknown' ? 'someone' : `${name.join(':')} (${role})`;
};

/** Audit (admin): who did what in the console, newest first, filtered by person and kind. */
export function Audit() {
  const [actor, setActor] = useState('');
  const [kind, setKind] = useState('');
  const query = new URLSearchParams({ limit: '300', ...(actor ? { actor } : {}), ...(kind ? { action: kind } : {}) });
  const state = useLive(async () => ({ entries: await api(`/api/audit?${query}`), users: await api('/api/users') }), [actor, kind], ['audit']);
  const wait = pending(state, 'the audit log');
  if (wait) return wait;
  const names = new Map(state.data.users.map((u) => [u.id, u.name]));
  return html`
    <h1>Audit</h1>
    <p class="meta">Everything people did through the console and the API, refusals too. Passwords and tokens are never kept.</p>
    <div class="actions">
      <label>Person
        <select value=${actor} onChange=${(e) => setActor(e.target.value)} data-testid="filter-person">
          <option value="">everyone</option>
          ${state.data.users.map((u) => html`<option value=${u.name}>${u.name}</option>`)}
        </select>
      </label>
      <label>Kind
        <select value=${kind} onChange=${(e) => setKind(e.target.value)} data-testid="filter-kind">
          <option value="">everything</option>
          ${Object.entries(KINDS).map(([k, words]) => html`<option value=${k}>${words}</option>`)}
        </select>
      </label>
    </div>
    ${state.data.entries.length === 0 && html`<p class="empty">Nothing yet.</p>`}
    <table>
      <thead><tr><th>When</th><th>Who</th><th>What</th><th>Outcome</th></tr></thead>
      <tbody>
        ${state.data.entries.map(
          (e) => html`<tr data-testid="audit-${e.id}">
            <td>${fmtTime(e.at)}</td>
            <td>${whoWords(e.actor)}</td>
            <td>${auditWords(e, names)}</td>
            <td class=${e.status < 300 ? 'ok' : 'bad'}>${e.status < 300 ? 'done' : `refused: ${e.detail?.refused ?? e.status}`}</td>
          </tr>`,
        )}
      </tbody>
    </table>
  `;
}
