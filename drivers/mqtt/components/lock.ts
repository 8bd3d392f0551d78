import { fieldReader } from '../entity.ts';
import { type ComponentBuilder, movesWriter, namedStates, required, str, templateAt } from './kit.ts';

const STATES = ['locked', 'unlocked', 'locking', 'unlocking', 'jammed', 'open', 'opening'];

/**
 * lock: its state (locked, unlocked, locking, unlocking, jammed, open, opening, from the configured
 * state payloads) and the commands lock, unlock and (where the lock has `payload_open`) open. The
 * attribute carries the device class `lock`, which is how the gateway knows to guard unlocking.
 */
export const lock: ComponentBuilder = (ctx) => {
  const c = ctx.c;
  const commandTopic = required(c, 'command_topic');
  const opens = c.payload_open !== undefined;
  const moves = opens ? ['lock', 'unlock', 'open'] : ['lock', 'unlock'];
  ctx.attributes[ctx.base] = { type: 'string', deviceClass: 'lock', writable: true, options: STATES, commands: moves, name: ctx.name };
  const stateTopic = str(c, 'state_topic');
  const t = templateAt(ctx, 'value_template');
  if (stateTopic && t.usable)
    ctx.readers.push(
      fieldReader(
        stateTopic,
        t.template,
        ctx.base,
        namedStates(c, STATES, (s) => s.toUpperCase()),
      ),
    );
  const w = movesWriter(ctx, commandTopic, 'command_template', moves);
  if (w) ctx.writers[ctx.base] = w;
};
