import { createHash } from 'node:crypto';
import { existsSync, watch, type FSWatcher } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { formatProblems } from '../../rules/load.ts';
import { ruleFileSchema, type RuleFile, schemaFingerprint } from '../../rules/schema.ts';
import { readBoundedText, TEXT_FILE_MAX_BYTES } from '../boundedRead.ts';
import type { Logger } from '../log.ts';
import type { LoadOutcome, RuleHost } from './ruleHost.ts';

const RETRY_MS = 1000;
const RETRY_SOON_MS = 100;

/** The last activated rule text and its checked contents. */
interface LastGood {
  readonly sha256: string;
  readonly text: string;
  readonly data: RuleFile;
}

/** What `rules.last-good.json` holds: the text's hash and the text, the contents, and what checked them. */
interface SavedLastGood extends LastGood {
  /** the sha256 of `JSON.stringify(data)` */
  readonly dataSha256: string;
  /** `schemaFingerprint()` of the code that checked `data` */
  readonly checkedBy: string;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * Loads the rule file into the host and reloads it when it changes (the directory is watched, so
 * editors that save by renaming are seen too). An invalid edit keeps the running rules and logs every
 * problem with its file:line:column. A missing file means no rules. The file is read with limits (a
 * regular file of at most 512 KB of UTF-8) and parsed on a worker thread, so a hostile file is a
 * problem, never a crash or a stall. Every activated text is kept as the last good one, with its checked
 * contents (`rules.last-good.json` in the data directory): when the file is bad at start, those rules
 * run until it is fixed, and when it is unchanged at start, its YAML is not parsed again.
 */
export class RuleFileWatcher {
  readonly #file: string;
  readonly #host: RuleHost;
  readonly #log: Logger;
  readonly #lastGood: string | undefined;
  #watcher: FSWatcher | undefined;
  #debounce: NodeJS.Timeout | undefined;
  #retry: NodeJS.Timeout | undefined;
  #lastRetry = 0;
  #lastText: string | undefined;
  #loading: Promise<boolean> | undefined;
  #saved: LastGood | undefined | null = null; // null: not read yet
  #savedHash: string | undefined; // what the file on disk holds
  #saving: Promise<void> = Promise.resolve(); // the copy being written, if any
  #again = false;
  #closed = false;
  /** The problems of the last load, if it failed (exposed for tests and diagnostics). */
  lastProblems: string | undefined;

  constructor(file: string, host: RuleHost, log: Logger, lastGoodFile?: string) {
    this.#file = file;
    this.#host = host;
    this.#log = log;
    this.#lastGood = lastGoodFile;
  }

  /**
   * Loads the file; true when its rules are active. One load runs at a time: a call during a load
   * makes that load read the file once more when it ends, and resolves with the outcome of that read.
   */
  load(): Promise<boolean> {
    if (this.#loading) {
      this.#again = true;
      return this.#loading;
    }
    this.#loading = (async () => {
      let active: boolean;
      do {
        this.#again = false;
        active = await this.#loadOnce();
      } while (this.#again && !this.#closed);
      return active;
    })().finally(() => {
      this.#loading = undefined;
    });
    return this.#loading;
  }

  async #loadOnce(): Promise<boolean> {
    if (!existsSync(this.#file)) {
      this.lastProblems = undefined;
      return false;
    }
    const read = readBoundedText(this.#file);
    const text = read.ok ? read.text : undefined;
    if (text !== undefined && text === this.#lastText && this.lastProblems === undefined) return true;
    const saved = this.#lastGoodSaved();
    let outcome: LoadOutcome | undefined;
    let data: RuleFile | undefined;
    if (text !== undefined && saved?.sha256 === sha256(text)) {
      // the text that was last active: its checked contents need no YAML parse, only a compile
      outcome = await this.#host.activate(saved.data, this.#file);
      data = saved.data;
    }
    if (!outcome?.ok) {
      const checked =
        text !== undefined
          ? await this.#host.check(text, this.#file)
          : { ok: false as const, problems: [{ where: basename(this.#file), message: read.ok ? '' : read.message }] };
      data = checked.ok ? checked.data : undefined;
      outcome = checked.ok ? await this.#host.activate(checked.data, this.#file) : checked;
    }
    if (this.#closed) return false;
    if (!outcome.ok) {
      this.lastProblems = formatProblems(outcome.problems);
      const fallback = this.#lastText === undefined && saved ? await this.#host.activate(saved.data, this.#file) : undefined;
      if (fallback?.ok) this.#lastText = saved?.text;
      this.#log.error(
        { file: this.#file, problems: outcome.problems.length, lastGood: fallback?.ok ? fallback.rules : undefined },
        `rules not activated; ${fallback?.ok ? `the last good rules (${fallback.rules} of them) run instead` : 'the previous rules keep running'}:\n${this.lastProblems}`,
      );
      return false;
    }
    this.#accepted(text as string, data as RuleFile, outcome.rules);
    return true;
  }

  /**
   * Activates a text already checked (the LAN API checked it, then wrote it to the file), so the
   * watcher's reload of the same text finds nothing new to parse.
   */
  async activateChecked(text: string, data: RuleFile): Promise<LoadOutcome> {
    const outcome = await this.#host.activate(data, this.#file);
    if (outcome.ok) this.#accepted(text, data, outcome.rules);
    return outcome;
  }

  #accepted(text: string, data: RuleFile, rules: number): void {
    this.#lastText = text;
    this.lastProblems = undefined;
    this.#saveLastGood({ sha256: sha256(text), text, data });
    this.#log.info({ file: this.#file, rules }, 'rules active');
  }

  /** The last good rules saved in the data directory (read once), if they are readable and valid. */
  #lastGoodSaved(): LastGood | undefined {
    if (this.#saved !== null) return this.#saved;
    this.#saved = undefined;
    if (!this.#lastGood || !existsSync(this.#lastGood)) return undefined;
    const read = readBoundedText(this.#lastGood, 4 * TEXT_FILE_MAX_BYTES);
    if (!read.ok) return undefined;
    try {
      const raw = JSON.parse(read.text) as Partial<Record<keyof SavedLastGood, unknown>>;
      // contents this code checked and nobody changed since are not checked again (~25 ms for 1,000
      // rules at a start, when zod's code is cold); anything else is checked as a text would be
      const unchanged = raw.checkedBy === schemaFingerprint() && typeof raw.dataSha256 === 'string' && sha256(JSON.stringify(raw.data)) === raw.dataSha256;
      const data = unchanged ? { success: true as const, data: raw.data as RuleFile } : ruleFileSchema.safeParse(raw.data);
      if (typeof raw.sha256 === 'string' && typeof raw.text === 'string' && data.success && sha256(raw.text) === raw.sha256) {
        this.#saved = { sha256: raw.sha256, text: raw.text, data: data.data };
        // a copy another code checked is written again (with this code's fingerprint) once its rules are active
        if (unchanged) this.#savedHash = raw.sha256;
      }
    } catch {
      // not JSON: ignored, like a missing copy
    }
    return this.#saved;
  }

  /**
   * Keeps a copy of the active rules, written after the activation's turn of the event loop (3,000
   * rules are ~1 MB of JSON) and one copy at a time; a copy made stale by a newer one is not written.
   */
  #saveLastGood(saved: LastGood): void {
    this.#saved = saved;
    const target = this.#lastGood;
    if (!target || this.#savedHash === saved.sha256) return;
    this.#saving = this.#saving.then(async () => {
      await new Promise((resolve) => setImmediate(resolve));
      if (this.#saved !== saved || this.#savedHash === saved.sha256) return;
      try {
        const tmp = `${target}.tmp-${process.pid}`;
        // the contents stringified once, for their hash and for the file
        const data = JSON.stringify(saved.data);
        const file = `{"sha256":${JSON.stringify(saved.sha256)},"text":${JSON.stringify(saved.text)},"data":${data},"dataSha256":"${sha256(data)}","checkedBy":${JSON.stringify(schemaFingerprint())}}`;
        await writeFile(tmp, file);
        await rename(tmp, target);
        this.#savedHash = saved.sha256;
      } catch (err) {
        this.#log.warn({ err, file: target }, 'could not keep a copy of the active rules');
      }
    });
  }

  watch(): void {
    if (this.#watcher || !existsSync(dirname(this.#file))) return;
    const name = basename(this.#file);
    this.#watcher = watch(dirname(this.#file), (_event, changed) => {
      if (changed !== name) return;
      if (this.#debounce) clearTimeout(this.#debounce);
      this.#debounce = setTimeout(() => {
        this.#debounce = undefined;
        void this.load();
      }, 150);
    });
  }

  /**
   * Retries a failed load (e.g. when a device the rules name has just appeared), at most once a
   * second: a fleet announcing itself must not recompile a broken rule file once per device.
   */
  retryIfFailed(): void {
    if (this.lastProblems === undefined || this.#retry || this.#closed) return;
    // soon after the first new device (a fleet announcing itself shares one retry), then once a second
    const wait = Math.max(RETRY_SOON_MS, this.#lastRetry + RETRY_MS - Date.now());
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      this.#lastRetry = Date.now();
      void this.load();
    }, wait);
  }

  close(): void {
    this.#closed = true;
    if (this.#debounce) clearTimeout(this.#debounce);
    if (this.#retry) clearTimeout(this.#retry);
    this.#debounce = undefined;
    this.#retry = undefined;
    this.#watcher?.close();
    this.#watcher = undefined;
  }

  /** Resolves when no load is running and the copy of the last good rules is written (a stop waits for both). */
  async settled(): Promise<void> {
    while (this.#loading) await this.#loading.catch(() => undefined);
    await this.#saving;
  }
}
