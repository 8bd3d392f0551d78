import { PassThrough } from 'node:stream';
import { stripVTControlCharacters } from 'node:util';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../gateway/log.ts';

const capture = (tty: boolean) => {
  const out = new PassThrough() as PassThrough & { isTTY?: boolean };
  if (tty) out.isTTY = true;
  let text = '';
  out.on('data', (c: Buffer) => (text += c.toString()));
  return { out, text: () => text };
};

describe('log lines', () => {
  it('are JSON when piped (systemd, a log collector) and readable on a terminal', async () => {
    const piped = capture(false);
    createLogger('info', piped.out, 'auto').child({ component: 'broker' }).info({ port: 1883 }, 'broker listening');
    const terminal = capture(true);
    createLogger('info', terminal.out, 'auto').child({ component: 'broker' }).info({ port: 1883 }, 'broker listening');
    await new Promise((r) => setTimeout(r, 50));
    expect(JSON.parse(piped.text().trim())).toMatchObject({ app: 'trellis', component: 'broker', port: 1883, msg: 'broker listening', level: 30 });
    const line = stripVTControlCharacters(terminal.text()); // colours on a terminal
    expect(line).toMatch(/\d\d:\d\d:\d\d/);
    expect(line).toMatch(/INFO/);
    expect(line).toContain('broker listening');
    expect(line).toMatch(/port: 1883/);
    expect(() => JSON.parse(line.trim())).toThrow();
  });

  it('can be forced either way', async () => {
    const json = capture(true);
    createLogger('info', json.out, 'json').info('x');
    const pretty = capture(false);
    createLogger('info', pretty.out, 'pretty').warn('careful');
    await new Promise((r) => setTimeout(r, 50));
    expect(JSON.parse(json.text().trim()).msg).toBe('x');
    expect(pretty.text()).toMatch(/WARN.*careful/);
  });
});
