import { existsSync, readFileSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import { formatProblems } from '../../rules/load.ts';
import type { Logger } from '../log.ts';
import type { RuleHost } from './ruleHost.ts';

const RETRY_MS = 1000;

/**
 * Loads the rule file into the host and reloads it when it changes (the directory is watched, so
 * editors that save by renaming are seen too). An invalid edit keeps the running rules and logs every
 * problem with its file:line:column. A missing file means no rules.
 */
export class RuleFileWatcher {
  readonly #file: string;
  readonly #host: RuleHost;
  readonly #log: Logger;
  #watcher: FSWatcher | undefined;
  #debounce: NodeJS.Timeout | undefined;
  #retry: NodeJS.Timeout | undefined;
  #lastText: string | undefined;
  /** The problems of the last load, if it failed (exposed for tests and diagnostics). */
  lastProblems: string | undefined;

  constructor(file: string, host: RuleHost, log: Logger) {
    this.#file = file;
    this.#host = host;
    this.#log = log;
  }

  /** Loads the file now; true when the rules in it are active. */
  load(): boolean {
    if (!existsSync(this.#file)) {
      this.lastProblems = undefined;
      return false;
    }
    const text = readFileSync(this.#file, 'utf8');
    if (text === this.#lastText && this.lastProblems === undefined) return true;
    const outcome = this.#host.load(text, this.#file);
    if (!outcome.ok) {
      this.lastProblems = formatProblems(outcome.problems);
      this.#log.error({ file: this.#file, problems: outcome.problems.length }, `rules not activated; the previous rules keep running:\n${this.lastProblems}`);
      return false;
    }
    this.#lastText = text;
    this.lastProblems = undefined;
    this.#log.info({ file: this.#file, rules: outcome.rules }, 'rules active');
    return true;
  }

  watch(): void {
    if (this.#watcher || !existsSync(dirname(this.#file))) return;
    const name = basename(this.#file);
    this.#watcher = watch(dirname(this.#file), (_event, changed) => {
      if (changed !== name) return;
      if (this.#debounce) clearTimeout(this.#debounce);
      this.#debounce = setTimeout(() => {
        this.#debounce = undefined;
        this.load();
      }, 150);
    });
  }

  /**
   * Retries a failed load (e.g. when a device the rules name has just appeared), at most once a
   * second: a fleet announcing itself must not recompile a broken rule file once per device.
   */
  retryIfFailed(): void {
    if (this.lastProblems === undefined || this.#retry) return;
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      this.load();
    }, RETRY_MS);
  }

  close(): void {
    if (this.#debounce) clearTimeout(this.#debounce);
    if (this.#retry) clearTimeout(this.#retry);
    this.#debounce = undefined;
    this.#retry = undefined;
    this.#watcher?.close();
    this.#watcher = undefined;
  }
}
