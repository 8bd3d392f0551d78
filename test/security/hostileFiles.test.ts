import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { copyFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN } from '../helpers/gatewayProcess.ts';
import { lanClient } from '../helpers/lanClient.ts';
import { TempDirs } from '../helpers/tempDir.ts';
import { connectClient, startTestGateway, waitFor, type TestGateway } from '../helpers/testGateway.ts';

/**
 * Hostile rule and config files (alias bombs, 50 MB, 100k-deep nesting, binary junk, a directory, a
 * FIFO) through the file watcher, `PUT /api/rules`, `trellis check-rules` and `trellis check-config`:
 * each is a clear error, the gateway keeps answering MQTT and HTTP throughout (no stall past 250 ms or 30% of the time), and it restarts
 * with the file still there, running the last good rules.
 */
const dirs = new TempDirs();
let gw: TestGateway;
let rulesFile: string;
let hostileDir: string;
let api: ReturnType<typeof lanClient>;
let owner: string;
let device: MqttClient;

const GOOD = 'rules:\n  - id: nightly\n    triggers: [{at: "03:00"}]\n    actions: [{notify: {message: "night"}}]\n';
const laugh = (levels: number) => {
  const lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  for (let i = 1; i < levels; i++)
    lines.push(
      `a${i}: &a${i} [${Array(9)
        .fill(`*a${i - 1}`)
        .join(',')}]`,
    );
  return `${lines.join('\n')}\nrules: []\n`;
};
/** name -> [how the file is made, what its refusal says] */
const HOSTILE: Record<string, [(path: string) => void, RegExp]> = {
  'alias bomb': [(p) => writeFileSync(p, laugh(9)), /alias/i],
  '50 MB': [(p) => writeFileSync(p, Buffer.alloc(50 * 1024 * 1024, 'a: 1\n')), /52428800 bytes; at most 524288/],
  '100k-deep flow nesting': [(p) => writeFileSync(p, `rules: ${'['.repeat(100_000)}${']'.repeat(100_000)}\n`), /nested deeper than 64 levels/],
  '100k-deep block nesting': [(p) => writeFileSync(p, `rules:\n  ${'- '.repeat(100_000)}x\n`), /nested deeper than 64 levels/],
  'binary junk': [(p) => writeFileSync(p, Buffer.concat([randomBytes(65_536), Buffer.from([0])])), /not a text file|not UTF-8/],
  'a directory': [(p) => mkdirSync(p), /not a regular file \(a directory\)/],
  'a FIFO': [(p) => execFileSync('mkfifo', [p]), /not a regular file \(a FIFO\)/],
};

/** Places a hostile file at `target` (removing what was there), without blocking this event loop. */
async function place(name: string, target: string): Promise<void> {
  await rm(target, { recursive: true, force: true });
  if (name === 'a directory' || name === 'a FIFO') (HOSTILE[name] as [(p: string) => void, RegExp])[0](target);
  else await copyFile(join(hostileDir, name), target);
}

/**
 * Measures the gateway's answers (HTTP health and an MQTT QoS 1 PUBACK) every 20 ms; `stop` gives the
 * slowest. The gateway runs in this process, so a stall that begins between two probes delays this
 * loop's own 20 ms timer instead of an answer: the timer's lateness counts as an answer that slow.
 */
function probe(port: number) {
  let slowest = 0;
  let answers = 0;
  let running = true;
  const started = performance.now();
  const loop = (async () => {
    while (running) {
      const t0 = performance.now();
      const http = fetch(`http://127.0.0.1:${port}/api/health`).then((r) => r.text());
      const mqtt = device.publishAsync('probe-dev/state', '{"n":1}', { qos: 1 });
      await Promise.all([http, mqtt]);
      slowest = Math.max(slowest, performance.now() - t0);
      answers++;
      const due = performance.now() + 20;
      await new Promise((r) => setTimeout(r, 20));
      slowest = Math.max(slowest, performance.now() - due);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { slowest, answers, took: performance.now() - started };
    },
  };
}

/**
 * The slowest answer a test accepts over `took` ms of probing: 250 ms, or 30% of the time when the
 * machine is so loaded that every turn stretches (CI runs Chromium and PostgreSQL beside these tests
 * on 2 cores: 470 ms was seen). Work on the event loop that should be on a worker (a YAML parse or
 * check, seconds for these files) stalls the answers for most of the time and fails either way.
 */
const stallBound = (took: number) => Math.max(250, 0.3 * took);

function cli(args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { timeout: 30_000 }, (err, _stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? -1) : 0, stderr }),
    );
  });
}

beforeAll(async () => {
  const dir = dirs.make();
  hostileDir = dirs.make('trellis-hostile-');
  for (const [name, [make]] of Object.entries(HOSTILE)) if (name !== 'a directory' && name !== 'a FIFO') make(join(hostileDir, name));
  rulesFile = join(dir, 'rules.yaml');
  writeFileSync(rulesFile, GOOD);
  gw = await startTestGateway({ rules: { file: rulesFile } }, dirs);
  await waitFor(() => gw.running.rules.ruleCount === 1, 5000, 'the good rules');
  api = lanClient(gw.lanUrl);
  owner = (await api.post('/api/pair', { code: gw.running.lan?.pairingCode, name: 'Olive' })).body.token;
  const password = await gw.running.credentials.create('probe-dev');
  device = await connectClient(gw.url, { username: 'probe-dev', password, clientId: 'probe-dev' });
}, 60_000);

afterAll(async () => {
  device?.end(true);
  await gw?.stop();
  dirs.cleanup();
});

describe('hostile rule files through the watcher', () => {
  it('each is refused with a clear problem, the good rules keep running, and the gateway answers within 250 ms throughout', async () => {
    const p = probe(gw.running.lan?.address?.port as number);
    for (const [name, [, message]] of Object.entries(HOSTILE)) {
      await place(name, rulesFile);
      await waitFor(() => message.test(gw.running.ruleFile.lastProblems ?? ''), 20_000, `the watcher to refuse ${name}`);
      expect(gw.running.ruleFile.lastProblems, name).toMatch(/^rules\.yaml(:\d+:\d+)?: /);
      expect(gw.running.rules.ruleCount, name).toBe(1);
      await rm(rulesFile, { recursive: true, force: true });
      writeFileSync(rulesFile, GOOD);
      await waitFor(() => gw.running.ruleFile.lastProblems === undefined, 10_000, `recovery after ${name}`);
    }
    const { slowest, answers, took } = await p.stop();
    console.log(`hostile rule files via the watcher: ${answers} probes in ${took.toFixed(0)} ms, slowest answer ${slowest.toFixed(1)} ms`);
    expect(answers).toBeGreaterThan(20);
    // parsing on the event loop would stall answers for seconds (a 50 MB file, an alias bomb); alone
    // the slowest is ~20 ms
    expect(slowest).toBeLessThan(stallBound(took));
  }, 120_000);
});

describe('hostile rule texts through PUT /api/rules', () => {
  it('each is a 400 with the problem (or 413 over the body limit), and the gateway answers within 250 ms throughout', async () => {
    const texts: Record<string, string> = {
      'alias bomb': laugh(9),
      '100k-deep flow nesting': `rules: ${'['.repeat(100_000)}${']'.repeat(100_000)}\n`,
      '100k-deep block nesting': `rules:\n  ${'- '.repeat(100_000)}x\n`,
      'deep conditions': `rules:\n  - id: r\n    triggers: [{start: true}]\n    conditions: [${'{not: '.repeat(5000)}{online: x}${'}'.repeat(5000)}]\n    actions: []\n`,
    };
    const p = probe(gw.running.lan?.address?.port as number);
    for (const [name, text] of Object.entries(texts)) {
      const r = await api.put('/api/rules', { text }, owner);
      expect(r.status, name).toBe(400);
      expect(r.body.problems[0].where, name).toMatch(/^rules\.yaml(:\d+:\d+)?$/);
    }
    const big = await api.call('PUT', '/api/rules', { token: owner, raw: JSON.stringify({ text: 'a'.repeat(2 * 1024 * 1024) }) });
    expect(big.status).toBe(413);
    // a JSON body nested 400k deep (just under the 1 MB body limit) is a 400, not a crash
    const deepJson = await api.call('PUT', '/api/rules', { token: owner, raw: `{"text":${'['.repeat(400_000)}${']'.repeat(400_000)}}` });
    expect(deepJson.status).toBe(400);
    const { slowest, answers, took } = await p.stop();
    console.log(`hostile rule texts via PUT /api/rules: ${answers} probes in ${took.toFixed(0)} ms, slowest answer ${slowest.toFixed(1)} ms`);
    // A blocked event loop would show as seconds. The one stall that is by design is JSON.parse of the
    // 800 KB nested body on the main thread: 40-80 ms alone.
    expect(slowest).toBeLessThan(stallBound(took));
    expect(gw.running.rules.ruleCount).toBe(1);
  }, 60_000);

  it('a big valid file (3,000 rules, ~270 KB) is checked off the event loop and activated', async () => {
    const text = `rules:\n${Array.from({ length: 3000 }, (_, i) => `  - id: r${i}\n    triggers: [{at: "0${i % 10}:${String(i % 60).padStart(2, '0')}"}]\n    actions: [{notify: {message: "rule ${i}"}}]\n`).join('')}`;
    expect(text.length).toBeGreaterThan(250_000);
    const p = probe(gw.running.lan?.address?.port as number);
    const r = await api.put('/api/rules', { text }, owner);
    const { slowest, took } = await p.stop();
    console.log(`a 3,000-rule file via PUT /api/rules: ${took.toFixed(0)} ms, slowest answer meanwhile ${slowest.toFixed(1)} ms`);
    // the good rules back first, so a failure here does not leave 3,000 rules to the tests after it
    expect((await api.put('/api/rules', { text: GOOD }, owner)).status).toBe(200);
    expect(r.body).toEqual({ ok: true, count: 3000 });
    // The check (~1 s of YAML and schema work for this file) runs on a worker: on the main thread it
    // would stall the answers for nearly the whole PUT. The compile runs here in slices, and the
    // activation's one turn (3,000 timers scheduled and stored) is ~40 ms alone.
    expect(slowest).toBeLessThan(stallBound(took));
  }, 60_000);
});

describe('hostile files through the CLI', () => {
  /** Runs `command FILE` on every hostile file: the exit code, and an error that names the file and why, never a stack. */
  async function eachThrough(command: 'check-rules' | 'check-config', exitCode: number): Promise<void> {
    for (const [name, [make, message]] of Object.entries(HOSTILE)) {
      const base = `${command}-${name.replaceAll(' ', '-')}.yaml`;
      const file = join(hostileDir, base);
      if (name === 'a directory' || name === 'a FIFO') make(file);
      else copyFileSync(join(hostileDir, name), file);
      const r = await cli([command, file]);
      expect(r.code, name).toBe(exitCode);
      expect(r.stderr, name).toContain(base);
      expect(r.stderr, name).toMatch(message);
      expect(r.stderr, name).not.toMatch(/^\s+at /m);
      rmSync(file, { recursive: true, force: true });
    }
  }

  it('check-rules prints file:line:column (or the file and why), never a stack, and exits 1', () => eachThrough('check-rules', 1), 120_000);

  it('check-config names the file and the reason, never a stack, and exits 2', () => eachThrough('check-config', 2), 120_000);
});

describe('restarts', () => {
  it('with the rule file unchanged since it was last active, its YAML is not parsed again', async () => {
    await gw.gateway.stop();
    const again = await gw.gateway.start();
    expect(again.rules.ruleCount).toBe(1);
    expect(again.ruleFile.lastProblems).toBeUndefined();
    expect(again.rules.checks).toBe(0); // from the checked copy in rules.last-good.json
    const password = await again.credentials.rotate('probe-dev');
    device = await connectClient(`mqtt://127.0.0.1:${again.mqttAddress.port}`, { username: 'probe-dev', password, clientId: 'probe-dev' });
  }, 60_000);

  it('with a hostile rule file in place: starts, serves, and runs the last good rules', async () => {
    const running = gw.gateway.running; // restarted by the test before
    if (!running) throw new Error('the gateway is not running');
    await place('100k-deep block nesting', rulesFile);
    await waitFor(() => running.ruleFile.lastProblems, 10_000, 'the refusal');
    device.end(true);
    await gw.gateway.stop();
    const again = await gw.gateway.start();
    expect(again.ruleFile.lastProblems).toMatch(/nested deeper than 64 levels/);
    expect(again.rules.ruleCount).toBe(1); // from rules.last-good.yaml in the data directory
    expect(again.rules.list()[0]?.id).toBe('nightly');
    const health = await fetch(`http://127.0.0.1:${again.lan?.address?.port}/api/health`);
    expect(health.status).toBe(200);
  }, 60_000);
});
