import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { Lifecycle, service } from '../../../gateway/core/lifecycle.ts';

const silent = pino({ level: 'silent' });

function recorder() {
  const log: string[] = [];
  const make = (name: string, fail?: 'start' | 'stop') =>
    service(
      name,
      async () => {
        log.push(`start ${name}`);
        if (fail === 'start') throw new Error(`${name} cannot start`);
      },
      () => {
        log.push(`stop ${name}`);
        if (fail === 'stop') throw new Error(`${name} cannot stop`);
      },
    );
  return { log, make };
}

describe('Lifecycle', () => {
  it('starts in declared order, skips parts switched off, stops in reverse', async () => {
    const { log, make } = recorder();
    const life = new Lifecycle(silent);
    await life.start([make('store'), undefined, make('mqtt'), make('lan')]);
    expect(life.running).toEqual(['store', 'mqtt', 'lan']);
    await life.stop();
    expect(log).toEqual(['start store', 'start mqtt', 'start lan', 'stop lan', 'stop mqtt', 'stop store']);
    expect(life.running).toEqual([]);
    await life.stop(); // idempotent
    expect(log).toHaveLength(6);
  });

  it('a failed start releases the failed service and exactly what had started, newest first', async () => {
    const { log, make } = recorder();
    const life = new Lifecycle(silent);
    await expect(life.start([make('store'), make('mqtt'), make('lan', 'start'), make('pruner')])).rejects.toThrow('lan cannot start');
    expect(log).toEqual(['start store', 'start mqtt', 'start lan', 'stop lan', 'stop mqtt', 'stop store']);
    expect(life.running).toEqual([]);
  });

  it('a stop that throws is logged and the others still stop', async () => {
    const { log, make } = recorder();
    const lines: string[] = [];
    const life = new Lifecycle(pino({ level: 'error' }, { write: (l: string) => void lines.push(l) }));
    await life.start([make('store'), make('cloud', 'stop'), make('lan')]);
    await life.stop();
    expect(log.slice(3)).toEqual(['stop lan', 'stop cloud', 'stop store']);
    expect(lines.map((l) => JSON.parse(l) as { service: string; msg: string })).toMatchObject([{ service: 'cloud', msg: 'stopping a service failed' }]);
  });
});
