import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { connect, type IClientOptions, type MqttClient } from 'mqtt';

export interface Received {
  readonly topic: string;
  readonly text: string;
  readonly json: Record<string, unknown>;
  readonly retain: boolean;
}

/** A provider's backend in miniature: subscribes on the cloud broker and keeps every message. */
export class CloudSubscriber {
  readonly messages: Received[] = [];
  readonly client: MqttClient;

  private constructor(client: MqttClient) {
    this.client = client;
    client.on('message', (topic, payload, packet) => {
      const text = payload.toString();
      let json: Record<string, unknown> = {};
      try {
        json = JSON.parse(text) as Record<string, unknown>;
      } catch {
        // kept as text; a test on it will fail
      }
      this.messages.push({ topic, text, json, retain: packet.retain });
    });
  }

  static async connect(url: string, filter: string, options: IClientOptions): Promise<CloudSubscriber> {
    const client = connect(url, { reconnectPeriod: 200, connectTimeout: 5000, ...options });
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
    await client.subscribeAsync(filter, { qos: 1 });
    return new CloudSubscriber(client);
  }

  of(type: string): Received[] {
    return this.messages.filter((m) => m.json.type === type);
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }
}

/** Validates payloads against the committed docs/schemas (what a provider's backend would do). */
export function schemaValidator(): (file: string, payload: unknown) => string | undefined {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  const dir = join(import.meta.dirname, '..', '..', 'docs', 'schemas');
  const compiled = new Map<string, ReturnType<typeof ajv.compile>>();
  return (file, payload) => {
    let validate = compiled.get(file);
    if (!validate) {
      validate = ajv.compile(JSON.parse(readFileSync(join(dir, file), 'utf8')) as object);
      compiled.set(file, validate);
    }
    return validate(payload) ? undefined : ajv.errorsText(validate.errors);
  };
}

const SCHEMA_BY_TYPE: Record<string, string> = {
  alert: 'alert.json',
  usage: 'usage.json',
  maintenance: 'maintenance.json',
  health: 'health.json',
  'cmd-result': 'cmd-result.json',
};
const PRIORITY_BY_TYPE: Record<string, number> = { alert: 0, 'cmd-result': 0, usage: 1, maintenance: 2, health: 3 };

export interface DeliveryReport {
  readonly missing: number[];
  /** keys whose resends differ from the first copy (must be empty) */
  readonly changedResends: string[];
  readonly duplicates: number;
  /** a record whose first arrival came after a later record of the same priority */
  readonly inversions: Array<{ priority: number; seq: number; after: number }>;
}

/** Checks the outbox records a subscriber got against the sequence numbers that were queued. */
export function deliveryReport(messages: readonly Received[], expected: Iterable<number>): DeliveryReport {
  const first = new Map<number, Received>();
  const changedResends: string[] = [];
  let duplicates = 0;
  const lastByPriority = new Map<number, number>();
  const inversions: DeliveryReport['inversions'] = [];
  for (const m of messages) {
    const seq = m.json.seq;
    if (typeof seq !== 'number') continue;
    const seen = first.get(seq);
    if (seen) {
      duplicates++;
      if (seen.text !== m.text || seen.topic !== m.topic) changedResends.push(String(m.json.key));
      continue;
    }
    first.set(seq, m);
    const p = PRIORITY_BY_TYPE[String(m.json.type)] ?? -1;
    const last = lastByPriority.get(p) ?? 0;
    if (seq < last) inversions.push({ priority: p, seq, after: last });
    lastByPriority.set(p, Math.max(last, seq));
  }
  const missing = [...expected].filter((s) => !first.has(s));
  return { missing, changedResends, duplicates, inversions };
}

export { SCHEMA_BY_TYPE };
