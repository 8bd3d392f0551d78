import type { SimulatedDevice } from './population.ts';
import { SimGateway, type SimGatewayOptions } from './simGateway.ts';

export interface SitesOptions extends Omit<SimGatewayOptions, 'gatewayId' | 'devices' | 'username' | 'password'> {
  /** each gateway's broker login */
  readonly credentials: (gatewayId: string) => { readonly username: string; readonly password: string };
}

/** The gateway ids of a population, in order. */
export const sitesOf = (devices: readonly SimulatedDevice[]) => [...new Set(devices.map((d) => d.gatewayId))];

/** One SimGateway per site of `devices`, each online (birth and manifest stamped `at`). */
export async function simGateways(devices: readonly SimulatedDevice[], o: SitesOptions, at: number): Promise<SimGateway[]> {
  const out: SimGateway[] = [];
  const { credentials, ...rest } = o;
  for (const gatewayId of sitesOf(devices)) {
    const g = new SimGateway({ ...rest, ...credentials(gatewayId), gatewayId, devices: devices.filter((d) => d.gatewayId === gatewayId) });
    await g.online(at);
    out.push(g);
  }
  return out;
}

/** Every usage bucket the gateways closed: what the fleet must end up holding. */
export const heldBuckets = (gateways: readonly SimGateway[]) => gateways.reduce((a, g) => a + [...g.held.values()].reduce((b, m) => b + m.size, 0), 0);
