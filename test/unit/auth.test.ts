import { describe, expect, it } from 'vitest';
import { Argon2Gate, HasherBusyError } from '../../gateway/auth/passwordHasher.ts';
import { AuthThrottle } from '../../gateway/auth/throttle.ts';
import { HostCheck, splitHostHeader } from '../../gateway/net/names.ts';

describe('AuthThrottle', () => {
  const clock = () => {
    let t = 1_000_000;
    return { now: () => t, advance: (ms: number) => (t += ms) };
  };
  const fail = (th: AuthThrottle, source: string, name?: string) => {
    const v = th.begin(source, name);
    if (!v.refuse) th.end(source, name, false);
    return v;
  };

  it('lets 5 failures through at once, then doubles the wait up to 5 s, then refuses a source after 30', () => {
    const c = clock();
    const th = new AuthThrottle({}, c.now);
    const delays: number[] = [];
    for (let i = 0; i < 30; i++) {
      const v = fail(th, '10.0.0.9', `n${i}`); // a new name each time: only the source counts
      delays.push(v.refuse ? -1 : v.delayMs);
    }
    expect(delays.slice(0, 5)).toEqual([0, 0, 0, 0, 0]);
    expect(delays.slice(5, 11)).toEqual([200, 400, 800, 1600, 3200, 5000]);
    expect(delays.at(-1)).toBe(5000);
    expect(th.begin('10.0.0.9', 'x')).toMatchObject({ refuse: true });
    expect(th.begin('10.0.0.10', 'x')).toMatchObject({ refuse: false, delayMs: 0 }); // another address is not affected
  });

  it('forgets a source 15 minutes after its last failure; refused attempts do not prolong it', () => {
    const c = clock();
    const th = new AuthThrottle({}, c.now);
    for (let i = 0; i < 30; i++) fail(th, 'a', `n${i}`);
    c.advance(10 * 60_000);
    expect(th.begin('a', 'z').refuse).toBe(true);
    c.advance(5 * 60_000 + 1);
    expect(th.begin('a', 'z')).toMatchObject({ refuse: false, delayMs: 0 });
  });

  it('only failures count: a fleet connecting at once from one address is not held up; a parallel burst of wrong passwords is checked once, then refused', () => {
    const th = new AuthThrottle({}, clock().now);
    const fleet = Array.from({ length: 100 }, (_, i) => th.begin('bridge', `dev-${i}`));
    expect(fleet.every((v) => !v.refuse && v.delayMs === 0)).toBe(true);
    for (let i = 0; i < 100; i++) th.end('bridge', `dev-${i}`, true);
    const burst = Array.from({ length: 40 }, () => th.begin('b', 'dev'));
    expect(burst.filter((v) => v.refuse)).toHaveLength(0);
    for (let i = 0; i < 40; i++) th.end('b', 'dev', false);
    expect(th.begin('b', 'dev').refuse).toBe(true);
    expect(th.begin('bridge', 'dev-1').refuse).toBe(false);
  });

  it('refuses a name after 100 failures, except from an address it signed in from before', () => {
    const th = new AuthThrottle({}, clock().now);
    const ok = th.begin('home-ip', 'olive');
    expect(ok.refuse).toBe(false);
    th.end('home-ip', 'olive', true);
    for (let i = 0; i < 100; i++) fail(th, `attacker-${i}`, 'olive');
    expect(th.begin('new-ip', 'olive').refuse).toBe(true);
    expect(th.begin('home-ip', 'olive')).toMatchObject({ refuse: false, delayMs: 0 });
  });

  it('above the global ceiling every attempt waits the longest delay', () => {
    const th = new AuthThrottle({ globalPerMinute: 10 }, clock().now);
    for (let i = 0; i < 10; i++) fail(th, `s${i}`, `n${i}`);
    expect(th.begin('fresh', 'fresh')).toMatchObject({ refuse: false, delayMs: 5000 });
  });

  it('remembers at most maxKeys keys', () => {
    const th = new AuthThrottle({ maxKeys: 100, refuseSourceAfter: 2 }, clock().now);
    fail(th, 'first');
    fail(th, 'first');
    expect(th.begin('first').refuse).toBe(true);
    for (let i = 0; i < 200; i++) fail(th, `other-${i}`);
    expect(th.begin('first').refuse).toBe(false); // pushed out: memory stays bounded
  });
});

describe('Argon2Gate', () => {
  const later = () => {
    let release = () => {};
    const p = new Promise<void>((r) => (release = r));
    return { p, release };
  };

  it('runs one at a time, queues the rest in order, and refuses beyond its queue', async () => {
    const gate = new Argon2Gate({ maxQueue: 2 });
    const order: number[] = [];
    const first = later();
    const runs = [gate.run(async () => (await first.p, order.push(1))), gate.run(async () => order.push(2)), gate.run(async () => order.push(3))];
    await expect(gate.run(async () => 4)).rejects.toBeInstanceOf(HasherBusyError);
    expect(gate.queued).toBe(2);
    first.release();
    await Promise.all(runs);
    expect(order).toEqual([1, 2, 3]);
    expect(gate.peak).toBe(1);
    expect(gate.refused).toBe(1);
  });

  it('refuses a check that waited longer than maxWaitMs when its turn comes', async () => {
    const gate = new Argon2Gate({ maxWaitMs: 20 });
    const slow = later();
    const a = gate.run(() => slow.p);
    const b = gate.run(async () => 'b');
    await new Promise((r) => setTimeout(r, 40));
    slow.release();
    await a;
    await expect(b).rejects.toBeInstanceOf(HasherBusyError);
    expect(await gate.run(async () => 'free again')).toBe('free again');
  });
});

describe('Host header check', () => {
  it('splits host and port the way a Host header is written', () => {
    expect(splitHostHeader('Box.Local.:8080')).toEqual({ host: 'box.local', port: '8080' });
    expect(splitHostHeader('[::1]:80')).toEqual({ host: '::1', port: '80' });
    expect(splitHostHeader('10.0.0.2')).toEqual({ host: '10.0.0.2', port: undefined });
    for (const bad of ['', ' ', '::1', 'a b', 'x@y', 'host:port', '[::1]x', 'a/b', 'h:123456']) expect(splitHostHeader(bad), bad).toBeUndefined();
  });

  it("accepts the gateway's own names and addresses, and refuses any other", () => {
    const check = new HostCheck({ gatewayId: 'shop-1', extra: ['trellis.home.arpa'], boundHosts: ['0.0.0.0'] });
    for (const ok of ['127.0.0.1:8080', '127.3.4.5', 'localhost', '[::1]:8080', 'trellis-shop-1.local', 'TRELLIS.home.arpa.:443'])
      expect(check.allows(ok), ok).toBe(true);
    for (const bad of [undefined, 'evil.example', 'trellis-shop-2.local', '127.0.0.1.evil.example', '0.0.0.0:8080', 'localhost.evil.example'])
      expect(check.allows(bad), String(bad)).toBe(false);
  });
});
