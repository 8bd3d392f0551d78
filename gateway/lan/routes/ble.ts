import * as z from 'zod';
import { isTrellisError } from '../../errors.ts';
import type { App, LanContext } from '../context.ts';
import { actor } from '../auth.ts';

const problem = z.object({ error: z.string(), message: z.string() });
const address = z.string().regex(/^([0-9A-Fa-f]{2}:){5}[0-9A-Fa-f]{2}$/, { error: 'expected a Bluetooth address like A4:C1:38:12:34:56' });
const nearby = z.object({
  address: z.string(),
  name: z.string().nullable(),
  profile: z.string(),
  encrypted: z.boolean(),
  rssi: z.number().nullable(),
  lastSeen: z.number(),
});

/** The device id an adopted sensor gets: stable (its address), so rules can name it whatever it is called. */
export const bleDeviceId = (addr: string) => `ble_${addr.replace(/:/g, '').toLowerCase()}`;

/**
 * Bluetooth devices found by the scan (`ble.scan`) and adopting one with a name: the owner's, since it
 * adds a device to the home, and audited. An adopted device is stored and read again after a restart.
 */
export function bleRoutes(app: App, ctx: LanContext): void {
  const off = () => ({ error: 'scan_off', message: 'Bluetooth scanning is off: set ble.scan: true in the config' });

  app.get('/api/ble/nearby', {
    config: { access: 'owner' },
    schema: {
      summary: 'BTHome sensors and known GATT devices heard nearby that are not set up yet, strongest signal first',
      response: { 200: z.object({ scanning: z.boolean(), devices: z.array(nearby) }) },
    },
    handler: async () => {
      const driver = ctx.ble();
      return {
        scanning: ctx.bleScan && driver !== undefined,
        devices: (driver?.nearby() ?? []).map((d) => ({
          address: d.address,
          name: d.name ?? null,
          profile: d.profile,
          encrypted: d.encrypted,
          rssi: d.rssi ?? null,
          lastSeen: d.lastSeen,
        })),
      };
    },
  });

  app.post('/api/ble/adopt', {
    config: { access: 'owner' },
    schema: {
      summary: 'Adopt a device the scan found: it gets a name, and an encrypted sensor its bind key (tried on its last advert first)',
      body: z.strictObject({
        address,
        name: z.string().trim().min(1, { error: 'expected a name' }).max(64),
        bindKey: z
          .string()
          .regex(/^[0-9A-Fa-f]{32}$/, { error: 'expected the 32 hex digits of a BTHome bind key' })
          .optional(),
      }),
      response: { 201: z.object({ id: z.string(), profile: z.string() }), 400: problem, 409: problem },
    },
    handler: async (req, reply) => {
      const driver = ctx.ble();
      if (!driver || !ctx.bleScan) return reply.code(409).send(off());
      const id = bleDeviceId(req.body.address);
      // the same sensor adopted again after it was forgotten keeps its id (and history); anything else with that id is another device
      const existing = ctx.registry.get(id);
      if (existing && existing.protocol !== 'ble') return reply.code(409).send({ error: 'taken', message: `a device ${id} exists already` });
      try {
        const adopted = driver.adopt({ address: req.body.address, id, name: req.body.name, bindKey: req.body.bindKey });
        ctx.bleDevices.add(adopted, ctx.clock.now());
        ctx.audit.append(actor(req), 'lan.ble.adopt', id, { address: adopted.address, name: req.body.name, profile: adopted.profile });
        return reply.code(201).send({ id, profile: adopted.profile });
      } catch (err) {
        if (isTrellisError(err)) return reply.code(400).send({ error: 'not_adopted', message: err.message });
        throw err;
      }
    },
  });

  app.delete('/api/ble/adopted/:address', {
    config: { access: 'owner' },
    schema: {
      summary: 'Stop reading an adopted Bluetooth device (its history stays); devices in the config file are removed there',
      params: z.object({ address }),
      response: { 200: z.object({ ok: z.literal(true) }), 404: problem },
    },
    handler: async (req, reply) => {
      const addr = req.params.address.toUpperCase();
      if (!ctx.bleDevices.remove(addr)) return reply.code(404).send({ error: 'not_found', message: `no adopted Bluetooth device ${addr}` });
      await ctx.ble()?.forget(addr);
      ctx.audit.append(actor(req), 'lan.ble.forget', bleDeviceId(addr), { address: addr });
      return { ok: true as const };
    },
  });
}
