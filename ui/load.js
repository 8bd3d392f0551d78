import { t } from './i18n.js';
import { useEffect, useState } from 'preact/hooks';
import { html } from './html.js';

/**
 * Loads data for a view: `{ data, error, retry }`. A failed request is shown to the person with a
 * Retry button (never an endless "Loading…"); `keep` keeps the last data while a reload runs.
 */
export function useLoad(load, deps) {
  const [state, setState] = useState({ data: null, error: null });
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    let current = true;
    setState((s) => ({ data: s.data, error: null }));
    Promise.resolve()
      .then(load)
      .then(
        (data) => current && setState({ data, error: null }),
        (error) => current && setState((s) => ({ data: s.data, error })),
      );
    return () => {
      current = false;
    };
  }, [...deps, attempt]);
  return { ...state, retry: () => setAttempt((n) => n + 1) };
}

/** What to show instead of the view while `state` has no data: its error with a retry, or loading. */
export function pending(state, what) {
  if (state.error) return html`<${Failed} error=${state.error} retry=${state.retry} what=${what} />`;
  if (state.data === null) return html`<p class="loading">${t('Loading {what}…', { what })}</p>`;
  return null;
}

/** A failed request, in words, with a way to try again. */
export function Failed({ error, retry, what }) {
  const why = error?.status === undefined ? t('the gateway did not answer (is it running, is the phone on its network?)') : error.message;
  return html`<div class="errors" role="alert" data-testid="load-error">${t('Could not load {what}: {why}', { what, why })}${retry && html` <button class="secondary" onClick=${retry}>${t('Retry')}</button>`}</div>`;
}

/** Runs an action (a button); its failure is shown, not swallowed. Returns [run, errorElement]. */
export function useAction() {
  const [error, setError] = useState(null);
  const run =
    (fn) =>
    async (...args) => {
      setError(null);
      try {
        await fn(...args);
      } catch (err) {
        setError(err);
      }
    };
  const view = error && html`<div class="errors" role="alert" data-testid="action-error">${error.message ?? String(error)}</div>`;
  return [run, view];
}
