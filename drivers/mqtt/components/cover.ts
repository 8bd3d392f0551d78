import { fieldReader, preview, toNumber } from '../entity.ts';
import {
  type ComponentBuilder,
  type ComponentContext,
  bool,
  field,
  labelled,
  movesWriter,
  namedStates,
  num,
  payloadOf,
  str,
  templateAt,
  writer,
} from './kit.ts';

const COVER_STATES = ['open', 'opening', 'closed', 'closing', 'stopped'];
const VALVE_STATES = ['open', 'opening', 'closed', 'closing'];
/** what a command may ask of a cover or valve */
const MOVES = ['open', 'close', 'stop'];

/** A position reported between `closed` and `open` (device units) as 0-100 %. */
const percentOf = (closed: number, open: number) => (raw: unknown) => {
  const n = toNumber(raw);
  if (n === undefined) return { error: `expected a number, got ${preview(raw)}` };
  return Math.round(((n - closed) / (open - closed)) * 1000) / 10;
};
const fromPercent = (closed: number, open: number, v: number) => Math.round(closed + (v / 100) * (open - closed));

/** The state attribute: one of `states`, from the configured state payloads; commanded open/close/stop. */
function stateField(ctx: ComponentContext, states: readonly string[], stop: boolean) {
  const c = ctx.c;
  const commandTopic = str(c, 'command_topic');
  const moves = stop ? MOVES : MOVES.filter((m) => m !== 'stop');
  ctx.attributes[ctx.base] = {
    type: 'string',
    deviceClass: str(c, 'device_class'),
    writable: commandTopic !== undefined,
    options: states,
    commands: moves,
    name: ctx.name,
  };
  const stateTopic = str(c, 'state_topic');
  const t = templateAt(ctx, 'value_template');
  const reportsPosition = bool(c, 'reports_position') === true; // a valve may report its position on the state topic
  if (stateTopic && t.usable && !reportsPosition)
    ctx.readers.push(
      fieldReader(
        stateTopic,
        t.template,
        ctx.base,
        namedStates(c, states, (s) => s),
      ),
    );
  if (!commandTopic) return;
  const w = movesWriter(ctx, commandTopic, undefined, moves);
  if (w) ctx.writers[ctx.base] = w;
}

/** A 0-100 % position (or tilt): reported on `stateKey`, set on `commandKey`. */
function percentField(
  ctx: ComponentContext,
  name: string,
  words: string,
  closed: number,
  open: number,
  keys: { state: string; tpl: string; cmd: string; cmdTpl: string; variable: string },
) {
  const reads = str(ctx.c, keys.state) !== undefined;
  const cmd = str(ctx.c, keys.cmd);
  if (!reads && !cmd) return;
  const attribute = field(ctx, name);
  // a garage door's or gate's position opens it as its state does: the same device class, the same guard
  ctx.attributes[attribute] = {
    type: 'number',
    unit: '%',
    deviceClass: str(ctx.c, 'device_class'),
    writable: false,
    min: 0,
    max: 100,
    step: 1,
    name: labelled(ctx, words),
  };
  const t = templateAt(ctx, keys.tpl);
  if (reads && t.usable) ctx.readers.push(fieldReader(str(ctx.c, keys.state) as string, t.template, attribute, percentOf(closed, open)));
  if (!cmd) return;
  const w = writer(ctx, cmd, keys.cmdTpl, (v) => String(fromPercent(closed, open, Number(v))), [keys.variable, 'value']);
  if (w) {
    ctx.writers[attribute] = w;
    ctx.attributes[attribute] = { ...ctx.attributes[attribute], writable: true } as (typeof ctx.attributes)[string];
  }
}

/** cover (blinds, shutters, curtains, garage doors, gates): open/close/stop, position and tilt. */
export const cover: ComponentBuilder = (ctx) => {
  const c = ctx.c;
  stateField(ctx, COVER_STATES, true);
  percentField(ctx, 'position', 'position', num(c, 'position_closed') ?? 0, num(c, 'position_open') ?? 100, {
    state: 'position_topic',
    tpl: 'position_template',
    cmd: 'set_position_topic',
    cmdTpl: 'set_position_template',
    variable: 'position',
  });
  percentField(ctx, 'tilt', 'tilt', num(c, 'tilt_min') ?? 0, num(c, 'tilt_max') ?? 100, {
    state: 'tilt_status_topic',
    tpl: 'tilt_status_template',
    cmd: 'tilt_command_topic',
    cmdTpl: 'tilt_command_template',
    variable: 'tilt_position',
  });
};

/** valve (water, gas): open/close (and stop), and a position when it reports one on its state topic. */
export const valve: ComponentBuilder = (ctx) => {
  const c = ctx.c;
  stateField(ctx, VALVE_STATES, payloadOf(c, 'payload_stop', '') !== '');
  if (bool(c, 'reports_position') !== true) return;
  const closed = num(c, 'position_closed') ?? 0;
  const open = num(c, 'position_open') ?? 100;
  const attribute = field(ctx, 'position');
  ctx.attributes[attribute] = { type: 'number', unit: '%', writable: false, min: 0, max: 100, step: 1, name: labelled(ctx, 'position') };
  const stateTopic = str(c, 'state_topic');
  const t = templateAt(ctx, 'value_template');
  if (stateTopic && t.usable) ctx.readers.push(fieldReader(stateTopic, t.template, attribute, percentOf(closed, open)));
};
