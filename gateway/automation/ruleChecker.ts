import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { RuleWorkerAnswer, RuleWorkerRequest } from './ruleWorker.ts';

/** A rule text that takes longer than this to parse and check is refused. */
export const CHECK_TIMEOUT_MS = 10_000;
/** Heap for one check: a 512 KB text of rules needs ~60 MB; a hostile one stops here. */
const LIMITS = { maxOldGenerationSizeMb: 192, maxYoungGenerationSizeMb: 16, stackSizeMb: 4 } as const;

const isSource = import.meta.url.endsWith('.ts');
const entry = new URL(isSource ? './ruleWorker.ts' : './ruleWorker.js', import.meta.url).href;
// From the TypeScript sources (tests), the worker registers tsx first; from dist/ it is plain JS.
const boot = isSource
  ? `import(${JSON.stringify(tsxApi())}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); })`
  : `import(${JSON.stringify(entry)})`;

/** tsx's ESM register API (its package exports name it), for workers started from the sources. */
function tsxApi(): string {
  const pkgFile = createRequire(import.meta.url).resolve('tsx/package.json');
  const pkg = JSON.parse(readFileSync(pkgFile, 'utf8')) as { exports: Record<string, { import: { default: string } }> };
  return pathToFileURL(join(dirname(pkgFile), (pkg.exports['./esm/api'] as { import: { default: string } }).import.default)).href;
}

/**
 * Parses and checks rule texts on a worker thread, one short-lived worker per request, so the event
 * loop that acknowledges readings and runs rules never parses YAML: a big or hostile text costs the
 * worker time and memory (bounded: LIMITS, CHECK_TIMEOUT_MS), never the gateway's. At most two checks
 * run at once; others wait.
 */
export class RuleChecker {
  readonly #timeoutMs: number;
  #running = 0;
  readonly #waiting: Array<() => void> = [];

  constructor(timeoutMs = CHECK_TIMEOUT_MS) {
    this.#timeoutMs = timeoutMs;
  }

  async run(req: RuleWorkerRequest): Promise<RuleWorkerAnswer> {
    if (this.#running >= 2) await new Promise<void>((r) => this.#waiting.push(r));
    else this.#running++;
    try {
      return await this.#spawn(req);
    } finally {
      const next = this.#waiting.shift();
      if (next) next();
      else this.#running--;
    }
  }

  #spawn(req: RuleWorkerRequest): Promise<RuleWorkerAnswer> {
    const name = basename(req.file);
    const refuse = (message: string): RuleWorkerAnswer => ({ ok: false, problems: [{ where: name, message }] });
    return new Promise((resolve) => {
      const worker = new Worker(boot, { eval: true, resourceLimits: LIMITS, stdout: true, stderr: true });
      let settled = false;
      const done = (a: RuleWorkerAnswer) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        void worker.terminate();
        resolve(a);
      };
      const timer = setTimeout(() => done(refuse(`took longer than ${this.#timeoutMs / 1000} s to parse and check; refused`)), this.#timeoutMs);
      worker.once('message', (a: RuleWorkerAnswer) => done(a));
      worker.once('error', (err: Error & { code?: string }) =>
        done(
          refuse(
            err.code === 'ERR_WORKER_OUT_OF_MEMORY' ? 'needs more memory to parse than a rule file may use; refused' : `cannot be checked: ${err.message}`,
          ),
        ),
      );
      worker.once('exit', () => done(refuse('cannot be checked: the checker stopped')));
      worker.postMessage(req);
    });
  }
}
