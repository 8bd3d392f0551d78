import { useEffect, useState } from 'preact/hooks';
import { html } from './api.js';
import { onChange } from './live.js';

/** How often an open page reloads without being told of a change (usage and health charts, which do not notify). */
export const REFRESH_MS = 30_000;

/**
 * Loads data for a page: at once, when one of `topics` changes (the live stream), every REFRESH_MS,
 * and after `bump()`: `{ data, error, bump }`. A failed request shows its reason with a Retry button;
 * the last data stays while a reload runs. Reloads never overlap: a change during one runs one more.
 */
export function useLive(load, deps = [], topics = []) {
  const [state, setState] = useState({ data: null, error: null });
  const [n, setN] = useState(0);
  useEffect(() => {
    let current = true;
    let busy = false;
    let again = false;
    const run = async () => {
      if (busy) {
        again = true;
        return;
      }
      busy = true;
      try {
        const data = await load();
        if (current) setState({ data, error: null });
      } catch (error) {
        if (current) setState((s) => ({ data: s.data, error }));
      }
      busy = false;
      if (again && current) {
        again = false;
        void run();
      }
    };
    void run();
    const timer = setInterval(run, REFRESH_MS);
    const off = topics.length > 0 ? onChange(topics, run) : () => undefined;
    return () => {
      current = false;
      clearInterval(timer);
      off();
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
