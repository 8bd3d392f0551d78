import { createClock } from '../../firmware-sim/clock.ts';
import { Fleet } from '../../firmware-sim/fleet.ts';
import type { TestGateway } from './testGateway.ts';

/** Simulated devices on a test gateway, each with a fresh credential of its own, connected and started. */
export async function startSimFleet(
  gw: TestGateway,
  members: ReadonlyArray<{ kind: string; node: string; name: string }>,
  o: { speed?: number; reportMs?: number; seed?: number } = {},
): Promise<Fleet> {
  const devices = [];
  for (const m of members) devices.push({ ...m, password: await gw.running.credentials.create(m.node) });
  const fleet = new Fleet({ url: gw.url, devices, clock: createClock(o.speed ?? 60), reportMs: o.reportMs ?? 60_000, seed: o.seed });
  await fleet.start();
  return fleet;
}
