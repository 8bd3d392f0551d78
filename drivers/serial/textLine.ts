import { type AttributeSpec, type AttributeType, type AttributeValue, type DeviceDescription, type DeviceEvent, reservedName } from '../types.ts';
import { SerialConnection, type PortSettings } from './serialConnection.ts';

export interface TextLineConfig extends PortSettings {
  readonly timeoutMs: number;
  readonly device: { readonly id: string; readonly name: string; readonly format: 'kv' | 'json'; readonly writable: readonly string[] };
}

export interface TextSink {
  /** the gateway's clock: events are stamped with it */
  now(): number;
  describe(d: DeviceDescription): void;
  events(events: DeviceEvent[]): void;
  rejected(deviceId: string, source: string, reason: string): void;
}

const NAME = /^[a-z0-9_]{1,64}$/;

/**
 * A simple device speaking newline-delimited records: `KEY=VALUE` (several per line, separated by
 * spaces or commas) or one JSON object per line. Attributes are declared from their first value;
 * those listed as writable take commands, written back as a record line and confirmed when the
 * device reports the new value.
 */
export class TextLine {
  readonly #cfg: TextLineConfig;
  readonly #sink: TextSink;
  readonly #conn: SerialConnection;
  readonly #attributes: Record<string, AttributeSpec> = {};
  readonly #waiting = new Map<string, Array<{ value: AttributeValue; done: (ok: boolean) => void }>>();
  #partial = '';
  #online = false;

  constructor(cfg: TextLineConfig, sink: TextSink) {
    this.#cfg = cfg;
    this.#sink = sink;
    this.#conn = new SerialConnection(cfg, {
      onOpen: () => {},
      onClose: () => this.#setOnline(false),
      onData: (d) => this.#onData(d),
    });
  }

  get deviceId(): string {
    return this.#cfg.device.id;
  }

  start(): void {
    this.#conn.start();
  }

  stop(): Promise<void> {
    return this.#conn.stop();
  }

  async write(attribute: string, value: AttributeValue): Promise<void> {
    if (!this.#cfg.device.writable.includes(attribute)) throw new Error(`${this.deviceId}.${attribute} is not writable`);
    const line = this.#cfg.device.format === 'json' ? JSON.stringify({ [attribute]: value }) : `${attribute}=${value}`;
    const confirmed = new Promise<boolean>((resolve) => {
      const list = this.#waiting.get(attribute) ?? [];
      list.push({ value, done: resolve });
      this.#waiting.set(attribute, list);
      setTimeout(() => resolve(false), this.#cfg.timeoutMs);
    });
    if (!this.#conn.write(Buffer.from(`${line}\n`))) throw new Error(`${this.deviceId}: serial port not open`);
    if (!(await confirmed)) throw new Error(`${this.deviceId} did not confirm ${attribute}=${value}`);
  }

  #onData(d: Buffer): void {
    const text = this.#partial + d.toString('utf8');
    const lines = text.split(/\r?\n/);
    this.#partial = (lines.pop() ?? '').slice(-4096); // a line longer than 4 KiB is garbage
    for (const line of lines) if (line.trim()) this.#onLine(line.trim());
  }

  #onLine(line: string): void {
    const parsed = this.#cfg.device.format === 'json' ? parseJsonLine(line) : parseKvLine(line);
    if (typeof parsed === 'string') {
      this.#sink.rejected(this.deviceId, `serial ${this.#cfg.path}`, parsed);
      return;
    }
    const ts = this.#sink.now();
    let described = false;
    for (const [name, value] of parsed) {
      if (!this.#attributes[name]) {
        this.#attributes[name] = { type: typeof value as AttributeType, writable: this.#cfg.device.writable.includes(name) };
        described = true;
      }
    }
    if (described)
      this.#sink.describe({
        id: this.deviceId,
        name: this.#cfg.device.name,
        protocol: 'serial',
        owner: `serial:${this.#cfg.path}`,
        attributes: { ...this.#attributes },
      });
    this.#setOnline(true);
    this.#sink.events(parsed.map(([attribute, value]) => ({ kind: 'reading', deviceId: this.deviceId, ts, attribute, value })));
    for (const [name, value] of parsed) {
      const list = this.#waiting.get(name);
      if (!list) continue;
      for (const w of list.filter((x) => x.value === value)) w.done(true);
      this.#waiting.set(
        name,
        list.filter((x) => x.value !== value),
      );
    }
  }

  #setOnline(online: boolean): void {
    if (this.#online === online || (online && Object.keys(this.#attributes).length === 0)) return;
    this.#online = online;
    this.#sink.events([{ kind: 'availability', deviceId: this.deviceId, ts: this.#sink.now(), online }]);
  }
}

function typed(raw: string): AttributeValue {
  if (raw === 'true' || raw === 'false') return raw === 'true';
  const n = Number(raw);
  return raw.trim() !== '' && Number.isFinite(n) ? n : raw;
}

/** `temperature=21.5 door=open` -> [[temperature, 21.5], [door, "open"]], or an error message. */
export function parseKvLine(line: string): Array<[string, AttributeValue]> | string {
  const out: Array<[string, AttributeValue]> = [];
  for (const part of line.split(/[\s,;]+/)) {
    const eq = part.indexOf('=');
    const key = eq > 0 ? part.slice(0, eq).toLowerCase() : '';
    if (!NAME.test(key)) return `not a KEY=VALUE record: ${JSON.stringify(line.slice(0, 40))}`;
    if (reservedName(key)) return `${key}: is a reserved name, not an attribute's`;
    out.push([key, typed(part.slice(eq + 1))]);
  }
  return out;
}

export function parseJsonLine(line: string): Array<[string, AttributeValue]> | string {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return `not a JSON object: ${JSON.stringify(line.slice(0, 40))}`;
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return 'not a JSON object';
  const out: Array<[string, AttributeValue]> = [];
  for (const [k, x] of Object.entries(v)) {
    if (!NAME.test(k)) return `${k}: attribute names are a-z, 0-9 and _`;
    if (reservedName(k)) return `${k}: is a reserved name, not an attribute's`;
    if (typeof x !== 'number' && typeof x !== 'boolean' && typeof x !== 'string') return `${k}: expected a number, boolean or string`;
    out.push([k, x]);
  }
  return out;
}
