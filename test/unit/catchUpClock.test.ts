import { afterEach, describe, expect, it, vi } from 'vitest';
import { catchUpClock } from '../../gateway/clock.ts';

const HOUR = 3_600_000;

describe('the demo catch-up clock', () => {
  afterEach(() => void vi.useRealTimers());

  it('starts in the past, runs fast until it meets real time, then runs in real time and never ahead', () => {
    vi.useFakeTimers({ now: Date.UTC(2026, 11, 1, 12) });
    const real0 = Date.now();
    const clock = catchUpClock(12, 6 * HOUR);
    expect(clock.now()).toBe(real0 - 6 * HOUR);
    vi.advanceTimersByTime(5 * 60_000); // five real minutes: an hour of demo time
    expect(clock.now()).toBe(real0 - 5 * HOUR);
    const meet = (6 * HOUR) / 11;
    vi.setSystemTime(real0 + meet - 1000);
    expect(clock.now()).toBeLessThan(Date.now());
    vi.setSystemTime(real0 + meet + 60_000);
    expect(clock.now()).toBe(Date.now());
    vi.setSystemTime(real0 + 5 * HOUR);
    expect(clock.now()).toBe(Date.now());
  });

  it("fires a timer after the clock's time has passed: fast before the meeting point, in real time after it", () => {
    vi.useFakeTimers({ now: Date.UTC(2026, 11, 1, 12) });
    const real0 = Date.now();
    const clock = catchUpClock(12, 6 * HOUR);
    const fired: number[] = [];
    clock.setTimer(HOUR, () => fired.push(Date.now() - real0)); // an hour of demo time: five real minutes
    vi.advanceTimersByTime(5 * 60_000 - 1);
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(fired).toEqual([5 * 60_000]);
    // a timer that ends past the meeting point waits for real time there
    const before = clock.now();
    clock.setTimer(10 * HOUR, () => fired.push(clock.now() - before));
    vi.advanceTimersByTime(10 * HOUR);
    expect(fired[1]).toBeGreaterThanOrEqual(10 * HOUR);
    expect(fired[1]).toBeLessThan(10 * HOUR + 1000);
  });

  it('with nothing to replay is real time', () => {
    // a frozen system clock: comparing two reads of a running one could differ by a GC pause
    vi.useFakeTimers({ now: Date.UTC(2026, 11, 1, 12) });
    const clock = catchUpClock(12, 0);
    expect(clock.now()).toBe(Date.UTC(2026, 11, 1, 12));
    vi.advanceTimersByTime(HOUR);
    expect(clock.now()).toBe(Date.UTC(2026, 11, 1, 13));
    expect(() => catchUpClock(1, HOUR)).toThrow(/above 1/);
  });
});
