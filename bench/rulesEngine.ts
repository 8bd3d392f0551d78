import type { AttributeSpec, DeviceEvent } from '../drivers/types.ts';
import { evaluate, initialState } from '../rules/engine.ts';
import { checkRulesText } from '../rules/load.ts';

/**
 * The pure engine with `n` rules ("dev-i.temperature crosses above 25 -> set act-i.relay true") against
 * the floor: a raw loop doing a Map lookup and a compare per event, over the same events. Both produce
 * the same commands (checked), so the ratio is the engine's overhead.
 */
export function engineThroughput(n: number, events: number): { engine: number; raw: number; commands: number } {
  const spec: Record<string, Record<string, AttributeSpec>> = {};
  for (let i = 0; i < n; i++) {
    spec[`dev-${i}`] = { temperature: { type: 'number', writable: false } };
    spec[`act-${i}`] = { relay: { type: 'boolean', writable: true } };
  }
  const yaml = `rules:\n${Array.from({ length: n }, (_, i) => `  - id: r${i}\n    triggers: [{device: dev-${i}, attribute: temperature, above: 25}]\n    actions: [{set: {device: act-${i}, attribute: relay, value: true}}]`).join('\n')}\n`;
  const compiled = checkRulesText(yaml, 'bench.yaml', {
    catalog: (id) => (spec[id] ? { attributes: spec[id] } : undefined),
    timezone: 'UTC',
    tariffs: {},
    cascadeLimit: 10,
  });
  if (!compiled.ok) throw new Error(compiled.problems.map((p) => p.message).join('\n'));

  // the same event stream for both: each device alternates 20, 30, 20, 30, ... (every second one crosses)
  const stream: DeviceEvent[] = [];
  for (let k = 0; k < events; k++) {
    const i = (k * 7919) % n;
    stream.push({ kind: 'reading', deviceId: `dev-${i}`, attribute: 'temperature', value: Math.floor(k / n) % 2 === 0 ? 20 : 30, ts: k });
  }

  const state = initialState();
  let engineCommands = 0;
  let t = performance.now();
  for (const e of stream) engineCommands += evaluate(compiled.rules, state, { kind: 'event', event: e }, e.ts).commands.length;
  const engineSeconds = (performance.now() - t) / 1000;

  const thresholds = new Map<string, { above: number; target: string }>();
  for (let i = 0; i < n; i++) thresholds.set(`dev-${i}\u0000temperature`, { above: 25, target: `act-${i}` });
  const last = new Map<string, number>();
  const out: Array<{ deviceId: string; value: boolean }> = [];
  t = performance.now();
  for (const e of stream) {
    if (e.kind !== 'reading') continue;
    const k = `${e.deviceId}\u0000${e.attribute}`;
    const rule = thresholds.get(k);
    const before = last.get(k);
    last.set(k, e.value as number);
    if (rule && (e.value as number) > rule.above && !(before !== undefined && before > rule.above)) out.push({ deviceId: rule.target, value: true });
  }
  const rawSeconds = (performance.now() - t) / 1000;
  if (out.length !== engineCommands) throw new Error(`engine sent ${engineCommands} commands, the raw loop ${out.length}`);
  return { engine: events / engineSeconds, raw: events / rawSeconds, commands: engineCommands };
}
