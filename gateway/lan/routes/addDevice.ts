import * as z from 'zod';
import { DEFINITIONS } from '../../../drivers/serial/definitions.ts';
import { isTrellisError } from '../../errors.ts';
import type { App, LanContext } from '../context.ts';
import { actor } from '../auth.ts';
import { FIRMWARES, setupFor, usernameFor } from '../deviceSetup.ts';

const problem = z.object({ error: z.string(), message: z.string() });
const name = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, { error: 'expected lower-case letters, digits, _ and - (1-64), e.g. kitchen-plug' });

/**
 * "Add a device" from the app (the owner's): a credential for the chosen firmware and the exact
 * settings to paste, with the address the phone reached this gateway by (the broker's own when it
 * is bound to one); then the devices that credential has announced, for "waiting for it...".
 */
export function addDeviceRoutes(app: App, ctx: LanContext): void {
  app.post('/api/devices/setup', {
    config: { access: 'owner' },
    schema: {
      summary: 'A credential for a new device and the settings to paste into its firmware (the password is shown only in this answer)',
      body: z.strictObject({ firmware: z.enum(FIRMWARES, { error: `expected one of ${FIRMWARES.join(', ')}` }), name: name.optional() }),
      response: {
        200: z.object({ username: z.string().nullable(), password: z.string().nullable(), steps: z.array(z.object({ title: z.string(), text: z.string() })) }),
        400: problem,
        409: problem,
      },
    },
    handler: async (req, reply) => {
      const { firmware } = req.body;
      const username = usernameFor(firmware, req.body.name);
      if ((firmware === 'esphome' || firmware === 'tasmota' || firmware === 'mqtt') && !username)
        return reply
          .code(400)
          .send({ error: 'bad_request', message: 'body.name: give the device a name (its MQTT user name and topic prefix), e.g. kitchen-plug' });
      const broker = ctx.broker(req.hostname);
      const plan = setupFor(firmware, username, 'PASSWORD', broker, { bleScan: ctx.bleScan, definitions: Object.keys(DEFINITIONS) });
      let password: string | undefined;
      if (username) {
        try {
          password = await ctx.credentials.create(username, plan.topics);
        } catch (err) {
          if (isTrellisError(err))
            return reply.code(409).send({
              error: 'taken',
              message: `${err.message.replace(/ \(use --rotate.*\)$/, '')}: choose another name (or rotate it with trellis device add ${username} --rotate)`,
            });
          throw err;
        }
        ctx.audit.append(actor(req), 'lan.device.credential', username, { firmware, topics: plan.topics });
      }
      const steps = setupFor(firmware, username, password, broker, { bleScan: ctx.bleScan, definitions: Object.keys(DEFINITIONS) }).steps;
      return { username: username ?? null, password: password ?? null, steps: [...steps] };
    },
  });

  app.get('/api/devices/setup/:username', {
    config: { access: 'owner' },
    schema: {
      summary: 'The devices a credential has announced so far ("waiting for it...")',
      params: z.object({ username: name }),
      response: { 200: z.object({ devices: z.array(z.object({ id: z.string(), name: z.string(), online: z.boolean() })) }) },
    },
    handler: async (req) => ({
      devices: [...ctx.registry.all()]
        .filter((d) => d.owner === req.params.username)
        .map((d) => ({ id: d.id, name: d.name, online: ctx.hub.state.isOnline(d.id) })),
    }),
  });
}
