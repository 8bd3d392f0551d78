import type { ActionDef, ConditionDef, RuleDef, TriggerDef } from './schema.ts';

/**
 * A rule in plain words for people who never read YAML ("When Fridge door becomes open for 2 minutes,
 * on weekdays: set Buzzer sound to on"), with the names people gave their devices and attributes.
 * Pure: `names` says what a device and attribute are called.
 */
export interface Names {
  device(id: string): string;
  attribute(device: string, attribute: string): string;
}

export const plainNames: Names = { device: (id) => id, attribute: (_d, a) => a.replace(/_/g, ' ') };

const DAYS: Record<string, string> = { mon: 'Monday', tue: 'Tuesday', wed: 'Wednesday', thu: 'Thursday', fri: 'Friday', sat: 'Saturday', sun: 'Sunday' };

const value = (v: unknown) => (v === true ? 'on' : v === false ? 'off' : typeof v === 'string' ? v.replace(/_/g, ' ') : String(v));

/** "2m" -> "2 minutes", "1h30m" -> "1 hour 30 minutes". */
export function durationWords(d: string): string {
  const units: Record<string, string> = { h: 'hour', m: 'minute', s: 'second', ms: 'millisecond', d: 'day' };
  const parts = [...d.matchAll(/(\d+(?:\.\d+)?)(ms|d|h|m|s)/g)].map(([, n, u]) => `${n} ${units[u as string]}${n === '1' ? '' : 's'}`);
  return parts.length > 0 ? parts.join(' ') : d;
}

export function daysWords(days: readonly string[]): string {
  const set = [...days].sort((a, b) => Object.keys(DAYS).indexOf(a) - Object.keys(DAYS).indexOf(b)).join(',');
  if (set === 'mon,tue,wed,thu,fri') return 'on weekdays';
  if (set === 'sat,sun') return 'at weekends';
  if (days.length === 7) return 'every day';
  return `on ${days.map((d) => DAYS[d] ?? d).join(', ')}`;
}

const of = (n: Names, device: string, attribute: string) => `${n.device(device)} ${n.attribute(device, attribute)}`;

export function triggerWords(t: TriggerDef, n: Names = plainNames): string {
  if ('at' in t) return `at ${t.at}${t.weekdays ? ` ${daysWords(t.weekdays)}` : ''}`;
  if ('cron' in t) return `on the schedule "${t.cron}"`;
  if ('start' in t) return 'when the gateway starts';
  const hold = t.for ? ` for ${durationWords(t.for)}` : '';
  if ('event' in t) {
    const who = n.device(t.device);
    if (t.event === 'button') return `when ${who}${t.button ? ` button ${t.button}` : ''} is pressed${t.action ? ` (${value(t.action)})` : ''}`;
    if (t.event === 'offline' || t.event === 'online') return `when ${who} goes ${t.event}${hold}`;
    return `when ${who} ${t.event === 'fault_raised' ? 'reports a fault' : 'clears a fault'}${t.code ? ` (${t.code})` : ''}`;
  }
  const what = of(n, t.device, t.attribute);
  if (t.above !== undefined && t.below !== undefined) return `when ${what} is between ${t.above} and ${t.below}${hold}`;
  if (t.above !== undefined) return `when ${what} rises above ${t.above}${hold}`;
  if (t.below !== undefined) return `when ${what} falls below ${t.below}${hold}`;
  if (t.to !== undefined) return `when ${what} becomes ${value(t.to)}${t.from !== undefined ? ` from ${value(t.from)}` : ''}${hold}`;
  return `when ${what} changes${hold}`;
}

export function conditionWords(c: ConditionDef, n: Names = plainNames): string {
  if ('and' in c) return c.and.map((x) => conditionWords(x, n)).join(' and ');
  if ('or' in c) return `either ${c.or.map((x) => conditionWords(x, n)).join(' or ')}`;
  if ('not' in c) return `not (${conditionWords(c.not, n)})`;
  if ('time' in c) return `between ${c.time.after} and ${c.time.before}`;
  if ('weekdays' in c) return daysWords(c.weekdays);
  if ('tariff' in c) return `during the ${c.tariff} tariff`;
  if ('online' in c) return `while ${n.device(c.online)} is online`;
  const what = of(n, c.device, c.attribute);
  const parts = [
    c.equals !== undefined ? `is ${value(c.equals)}` : '',
    c.not_equals !== undefined ? `is not ${value(c.not_equals)}` : '',
    c.above !== undefined ? `is above ${c.above}` : '',
    c.below !== undefined ? `is below ${c.below}` : '',
  ].filter(Boolean);
  return `${what} ${parts.join(' and ') || 'has a value'}`;
}

export function actionWords(a: ActionDef, n: Names = plainNames): string {
  if ('set' in a) return `set ${of(n, a.set.device, a.set.attribute)} to ${value(a.set.value)}`;
  if ('toggle' in a) return `switch ${of(n, a.toggle.device, a.toggle.attribute)} over`;
  if ('scene' in a) return `run the scene ${a.scene.replace(/_/g, ' ')}`;
  if ('delay' in a) return `wait ${durationWords(a.delay)}`;
  if ('notify' in a) return `tell me "${a.notify.message}"${a.notify.severity === 'critical' ? ' (urgent)' : ''}`;
  return `stop the rule ${a.cancel.rule}`;
}

/** The whole rule in one sentence. */
export function ruleWords(r: Pick<RuleDef, 'triggers' | 'conditions' | 'actions'>, n: Names = plainNames): string {
  const when = r.triggers.map((t) => triggerWords(t, n)).join(', or ');
  const cond = (r.conditions ?? []).length > 0 ? `, if ${(r.conditions ?? []).map((c) => conditionWords(c, n)).join(' and ')}` : '';
  const acts = r.actions.map((a) => actionWords(a, n)).join(', then ');
  const sentence = `${when}${cond}: ${acts}`;
  return sentence.charAt(0).toUpperCase() + sentence.slice(1);
}
