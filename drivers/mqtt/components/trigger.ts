import { type Decoded, DiscoveryError, isError, isUnknown, matches, NOTHING, NOT_JSON, preview, render } from '../entity.ts';
import { MISSING } from '../template.ts';
import { type ComponentBuilder, list, required, str, templateAt } from './kit.ts';

/**
 * device_automation (a Zigbee remote's "button_1 double press", an ESPHome button's actions): a
 * message on `topic` (equal to `payload` when given) is a button event, `subtype` pressed with
 * `type`, that rules can trigger on. It adds no attribute.
 */
export const deviceTrigger: ComponentBuilder = (ctx) => {
  const c = ctx.c;
  if (str(c, 'automation_type') !== 'trigger') throw new DiscoveryError('automation_type: expected "trigger"');
  const topic = required(c, 'topic');
  const type = required(c, 'type');
  const subtype = required(c, 'subtype');
  const only = c.payload;
  const t = templateAt(ctx, 'value_template');
  if (!t.usable) return;
  ctx.readers.push({
    topic,
    decode(payload, json): Decoded {
      const raw = render(t.template, payload, json, subtype);
      if (raw === MISSING || isUnknown(raw) || isError(raw)) return NOTHING;
      if (only !== undefined && !matches(raw, only as string)) return NOTHING;
      return { values: [], pressed: [{ button: subtype, action: type }] };
    },
  });
};

/**
 * event (HA 2023.8+): a JSON message `{"event_type": "press", ...}` on `state_topic`, one of
 * `event_types`, is a button event of this entity (`<base>` pressed with the event type).
 */
export const event: ComponentBuilder = (ctx) => {
  const topic = required(ctx.c, 'state_topic');
  const types = list(ctx.c, 'event_types');
  if (!types || types.length === 0) throw new DiscoveryError('event_types: required');
  const t = templateAt(ctx, 'value_template');
  if (!t.usable) return;
  ctx.readers.push({
    topic,
    decode(payload, json): Decoded {
      const body = t.template ? render(t.template, payload, json, ctx.base) : json;
      if (body === MISSING || isError(body)) return isError(body) ? body : NOTHING;
      const parsed = typeof body === 'string' ? safeJson(body) : body;
      if (parsed === NOT_JSON || parsed === null || typeof parsed !== 'object')
        return { error: `${ctx.base}: expected a JSON object with event_type, got ${preview(body)}` };
      const type = (parsed as Record<string, unknown>).event_type;
      if (typeof type !== 'string' || !types.includes(type))
        return { error: `${ctx.base}: event_type: expected one of ${types.join(', ')}, got ${preview(type)}` };
      return { values: [], pressed: [{ button: ctx.base, action: type }] };
    },
  });
};

function safeJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return NOT_JSON;
  }
}
