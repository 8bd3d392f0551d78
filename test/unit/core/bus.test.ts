import { describe, expect, it } from 'vitest';
import { EventBus, type ListenerFailure } from '../../../gateway/core/bus.ts';

type Events = { tick: number; tock: string };

describe('EventBus', () => {
  it('delivers typed payloads to every owner and releases all of one owner with off(owner)', () => {
    const bus = new EventBus<Events>(() => undefined);
    const a = { name: 'a' };
    const b = { name: 'b' };
    const seen: string[] = [];
    bus.on(a, 'tick', (n) => seen.push(`a${n}`));
    bus.on(a, 'tock', (s) => seen.push(`a${s}`));
    bus.on(b, 'tick', (n) => seen.push(`b${n}`));
    bus.emit('tick', 1);
    bus.emit('tock', 'x');
    expect(seen).toEqual(['a1', 'b1', 'ax']);
    expect(bus.listenerCount()).toBe(3);
    bus.off(a);
    expect(bus.listenerCount()).toBe(1);
    bus.emit('tick', 2);
    bus.emit('tock', 'y');
    expect(seen).toEqual(['a1', 'b1', 'ax', 'b2']);
  });

  it('a listener that throws is reported with its owner and the event; the others still run', () => {
    const failures: ListenerFailure[] = [];
    const bus = new EventBus<Events>((f) => failures.push(f));
    class Metering {}
    const seen: number[] = [];
    bus.on(new Metering(), 'tick', () => {
      throw new Error('boom');
    });
    bus.on({ name: 'lan' }, 'tick', (n) => seen.push(n));
    bus.emit('tick', 7);
    expect(seen).toEqual([7]);
    expect(failures).toHaveLength(1);
    expect(failures[0]?.owner).toBe('Metering');
    expect(failures[0]?.event).toBe('tick');
    expect((failures[0]?.err as Error).message).toBe('boom');
    expect(bus.failures).toBe(1);
  });
});
