import { t } from '../i18n.js';
import { useState } from 'preact/hooks';
import { api, download } from '../api.js';
import { fmtTime, html } from '../html.js';
import { pending, useAction, useLoad } from '../load.js';

const size = (bytes) => (bytes >= 1e6 ? `${(bytes / 1e6).toFixed(1)} MB` : `${Math.max(1, Math.round(bytes / 1e3))} kB`);

/**
 * The owner's backups: the automatic ones (where, when next and last, the files kept, "Back up
 * now"), and a download sealed with a passphrase typed here (twice; never stored: without it the
 * file cannot be opened). Restoring is `trellis restore` on the new SD card (the README says how).
 */
export function BackupCard() {
  const [tick, setTick] = useState(0);
  const state = useLoad(() => api('/api/backup'), [tick]);
  const [run, failed] = useAction();
  const [done, setDone] = useState(null);
  const wait = pending(state, 'backups');
  if (wait) return html`<h2>${t('Backups')}</h2>${wait}`;
  const s = state.data;
  const now = run(async () => {
    setDone(null);
    await api('/api/backup/now', { method: 'POST', body: {} });
    setDone(t('Backup written.'));
    setTick((n) => n + 1);
  });
  const save = run(async (e) => {
    e.preventDefault();
    setDone(null);
    const form = new FormData(e.target);
    const passphrase = String(form.get('passphrase') ?? '');
    if (passphrase !== String(form.get('again') ?? '')) throw new Error(t('The two passphrases differ.'));
    await download('/api/backup/download', `trellis-backup-${new Date().toISOString().slice(0, 10)}.tbk`, {
      body: { passphrase, history: form.get('history') === 'on' },
      type: 'application/octet-stream',
    });
    setDone(t('Backup downloaded. Keep the passphrase: without it the file cannot be opened.'));
    e.target.reset();
  });
  return html`<h2>${t('Backups')}</h2>
    <section class="card" data-testid="backups">
      ${
        s.enabled
          ? html`<p>${t('Automatic backups go to')} <strong>${s.dir}</strong>${s.nextAt ? html`; ${t('the next at {when}', { when: fmtTime(s.nextAt) })}` : ''}.
              ${s.lastError ? html`<span class="errors">${t('The last one failed: {why}', { why: s.lastError })}</span>` : s.lastAt ? ` ${t('The last one: {when}.', { when: fmtTime(s.lastAt) })}` : ''}</p>
            <ul data-testid="backups-kept">${s.kept.map((k) => html`<li>${k.name} <span class="muted">${size(k.bytes)}</span></li>`)}</ul>
            <button class="secondary" onClick=${now} data-testid="backup-now">${t('Back up now')}</button>`
          : html`<p class="muted">${t('Automatic backups are off (set backup.dir and backup.passphraseFile in the config).')}</p>`
      }
      <form onSubmit=${save} data-testid="backup-download">
        <p>${t('Or download one to this phone, sealed with a passphrase:')}</p>
        <label>${t('Passphrase')} <input type="password" name="passphrase" required minlength="8" autocomplete="new-password" data-testid="backup-passphrase" /></label>
        <label>${t('Again')} <input type="password" name="again" required minlength="8" autocomplete="new-password" data-testid="backup-again" /></label>
        <label><input type="checkbox" name="history" /> ${t('with the full history (bigger)')}</label>
        <button type="submit" data-testid="backup-submit">${t('Download a backup')}</button>
      </form>
      ${done && html`<p class="ok" role="status" data-testid="backup-done">${done}</p>`}${failed}
    </section>`;
}
