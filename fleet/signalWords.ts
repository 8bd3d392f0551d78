/** What a maintenance signal says, as the wire and the database carry it. */
export interface SignalFigures {
  readonly signal: string;
  readonly attribute: string;
  readonly value: number;
  readonly unit: string;
  readonly threshold: number | null;
  readonly baseline?: number | null | undefined;
}

const pct = (x: number) => `${Math.round(x * 100)}%`;
const num = (x: number) => String(Math.round(x * 100) / 100);

/**
 * A maintenance signal in plain words, for people (the console, alarm messages, webhooks):
 * "Compressor running 92% of the hour (usual: 55%), limit 85%", not `duty_cycle 0.92`.
 */
export function signalWords(s: SignalFigures): string {
  const usual = (f: (x: number) => string) => (s.baseline === null || s.baseline === undefined ? '' : ` (usual: ${f(s.baseline)})`);
  const limit = (f: (x: number) => string) => (s.threshold === null ? '' : `, limit ${f(s.threshold)}`);
  const what = s.attribute.replaceAll('_', ' ');
  const What = `${what.charAt(0).toUpperCase()}${what.slice(1)}`;
  switch (s.signal) {
    case 'duty_cycle':
      return `${What} running ${pct(s.value)} of the hour${usual(pct)}${limit(pct)}`;
    case 'starts_per_hour':
      return `${What} started ${num(s.value)} times an hour${usual(num)}${limit(num)}`;
    case 'recovery_time':
      return `Took ${num(s.value)} min to cool down after the door closed${usual((x) => `${num(x)} min`)}${limit((x) => `${num(x)} min`)}`;
    case 'drift':
      return `${What} ${num(s.value)} ${s.unit} away from its usual${s.baseline === null || s.baseline === undefined ? '' : ` ${num(s.baseline)} ${s.unit}`}${limit((x) => `${num(x)} ${s.unit}`)}`;
    case 'descale_needed':
      return s.value ? 'Needs descaling' : 'Descaled';
    default:
      return `${what} ${s.signal.replaceAll('_', ' ')}: ${num(s.value)} ${s.unit}`;
  }
}
