import { useEffect, useState } from 'preact/hooks';
import { html } from './api.js';

/** How often an open page refreshes itself (live enough for alarms and tickets). */
export const REFRESH_MS = 5000;

/**
 * Loads data for a page, and again every REFRESH_MS and after `bump()`: `{ data, error, bump }`. A
 * failed request shows its reason with a Retry button; the last data stays while a reload runs.
 */
export function useLive(load, deps = []) {
  const [state, setState] = useState({ data: null, error: null });
  const [n, setN] = useState(0);
  useEffect(() => {
    let current = true;
    const run = () =>
      Promise.resolve()
        .then(load)
        .then(
          (data) => current && setState({ data, error: null }),
          (error) => current && setState((s) => ({ data: s.data, error })),
        );
    run();
    const timer = setInterval(run, REFRESH_MS);
    return () => {
      current = false;
      clearInterval(timer);
    };
  }, [...deps, n]);
  return { ...state, bump: () => setN((x) => x + 1) };
}

/** What to show while a page has no data: its error with a retry, or "Loading". */
export function pending(state, what) {
  if (state.error && state.data === null)
    return html`<div class="errors" role="alert">Could not load ${what}: ${state.error.message} <button onClick=${state.bump}>Retry</button></div>`;
  if (state.data === null) return html`<p class="loading">Loading ${what}…</p>`;
  return null;
}

/** Runs a button's action and shows its failure: [run, errorElement]. */
export function useAction(after) {
  const [error, setError] = useState(null);
  const run =
    (fn) =>
    async (...args) => {
      setError(null);
      try {
        await fn(...args);
        after?.();
      } catch (err) {
        setError(err);
      }
    };
  return [run, error && html`<div class="errors" role="alert">${error.message}</div>`];
}
