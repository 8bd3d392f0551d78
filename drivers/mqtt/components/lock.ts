import { fieldReader, matches, preview } from '../entity.ts';
import { type ComponentBuilder, payloadOf, required, str, templateAt, writer } from './kit.ts';

const STATES = ['locked', 'unlocked', 'locking', 'unlocking', 'jammed', 'open', 'opening'];

/**
 * lock: its state (locked, unlocked, locking, unlocking, jammed, open, opening, from the configured
 * state payloads) and the commands lock, unlock and (where the lock has `payload_open`) open. The
 * attribute carries the device class `lock`, which is how the gateway knows to guard unlocking.
 */
export const lock: ComponentBuilder = (ctx) => {
  const c = ctx.c;
  const commandTopic = required(c, 'command_topic');
  const payloads = Object.fromEntries(STATES.map((s) => [s, payloadOf(c, `state_${s}`, s.toUpperCase())]));
  const opens = c.payload_open !== undefined;
  const moves = opens ? ['lock', 'unlock', 'open'] : ['lock', 'unlock'];
  ctx.attributes[ctx.base] = { type: 'string', deviceClass: 'lock', writable: true, options: STATES, commands: moves, name: ctx.name };
  const stateTopic = str(c, 'state_topic');
  const t = templateAt(ctx, 'value_template');
  if (stateTopic && t.usable)
    ctx.readers.push(
      fieldReader(stateTopic, t.template, ctx.base, (raw) => {
        const found = STATES.find((s) => matches(raw, payloads[s] as string));
        return found ?? { error: `expected one of ${STATES.map((s) => JSON.stringify(payloads[s])).join(', ')}, got ${preview(raw)}` };
      }),
    );
  const payloadFor: Record<string, string> = {
    lock: String(payloadOf(c, 'payload_lock', 'LOCK')),
    unlock: String(payloadOf(c, 'payload_unlock', 'UNLOCK')),
    open: String(payloadOf(c, 'payload_open', 'OPEN')),
  };
  const w = writer(ctx, commandTopic, 'command_template', (v) =>
    moves.includes(String(v)) ? (payloadFor[String(v)] as string) : { error: `${ctx.base}: expected ${moves.join(', ')}` },
  );
  if (w) ctx.writers[ctx.base] = w;
};
