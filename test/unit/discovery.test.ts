import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDiscovery, type EntityConfig } from '../../drivers/mqtt/discovery.ts';
import { decodeAvailability, decodeBrightness, decodeState, encodeCommand, entityAttributes, parseJsonOnce } from '../../drivers/mqtt/entityCodec.ts';
import { EntityTable } from '../../drivers/mqtt/entityTable.ts';
import { topicMatches } from '../../drivers/mqtt/topics.ts';

interface Case {
  device: string;
  owner: string;
  ownerTopics?: string[];
  topic: string;
  config: Record<string, unknown>;
  expect: { deviceId: string; deviceName?: string; attributes: Record<string, Record<string, unknown>> };
  states: Array<{ topic: string; payload: string; values?: Record<string, unknown>; online?: boolean; error?: string }>;
  commands?: Array<{ attribute: string; value: number | boolean; topic: string; payload: string }>;
}

const fixtures = ['esphome', 'tasmota', 'zigbee2mqtt'].map((name) => ({
  name,
  ...(JSON.parse(readFileSync(join(import.meta.dirname, '..', 'fixtures', 'discovery', `${name}.json`), 'utf8')) as { source: string; cases: Case[] }),
}));

function entityOf(c: Case): EntityConfig {
  const result = parseDiscovery(c.topic, JSON.stringify(c.config), c.owner);
  if (!result.ok || !('entity' in result)) throw new Error(`discovery refused: ${JSON.stringify(result)}`);
  return result.entity;
}

/** Decodes a message the way the driver does: every route on the topic, JSON parsed once. */
function decode(table: EntityTable, topic: string, payload: string) {
  const json = parseJsonOnce(payload);
  const values: Record<string, unknown> = {};
  const errors: string[] = [];
  let online: boolean | undefined;
  for (const route of table.routes(topic) ?? []) {
    if (route.kind === 'availability') {
      online = decodeAvailability(route.availability, payload, json);
      continue;
    }
    const d = route.kind === 'state' ? decodeState(route.entity, payload, json) : decodeBrightness(route.entity, payload, json);
    if ('error' in d) errors.push(d.error);
    else for (const [k, v] of d.values) values[k] = v;
  }
  return { values, errors, online };
}

describe.each(fixtures)('Home Assistant discovery from $name', ({ cases }) => {
  it.each(cases.map((c) => [`${c.device}: ${c.topic}`, c] as const))('%s', (_label, c) => {
    const entity = entityOf(c);
    expect(entity.device.id).toBe(c.expect.deviceId);
    if (c.expect.deviceName) expect(entity.device.name).toBe(c.expect.deviceName);
    const attributes = entityAttributes(entity);
    expect(Object.keys(attributes).sort()).toEqual(Object.keys(c.expect.attributes).sort());
    for (const [name, spec] of Object.entries(c.expect.attributes)) expect(attributes[name]).toMatchObject(spec);

    // Every topic the config names lies inside what the credential owns (how to set `--topic`).
    const owned = c.ownerTopics ?? [`${c.owner}/#`];
    for (const t of entity.topics)
      expect(
        owned.some((f) => topicMatches(f, t)),
        `${t} owned by ${owned.join(',')}`,
      ).toBe(true);

    const table = new EntityTable();
    table.put(entity, c.owner);
    for (const s of c.states) {
      const got = decode(table, s.topic, s.payload);
      if (s.error) expect(got.errors.join('; ')).toContain(s.error);
      else expect(got.errors).toEqual([]);
      if (s.values) expect(got.values).toEqual(s.values);
      if (s.online !== undefined) expect(got.online).toBe(s.online);
    }
    for (const cmd of c.commands ?? []) {
      expect(encodeCommand(entity, cmd.attribute, cmd.value)).toMatchObject({ topic: cmd.topic, payload: cmd.payload });
    }
  });
});

describe('discovery validation', () => {
  const topic = 'homeassistant/sensor/node1/temp/config';
  const refused = (t: string, payload: string) => {
    const r = parseDiscovery(t, payload, 'node1');
    expect(r.ok).toBe(false);
    return (r as { error: string }).error;
  };

  it('names the topic and field of a bad config', () => {
    expect(refused(topic, '{"state_topic": 5}')).toMatch(/^homeassistant\/sensor\/node1\/temp\/config: state_topic: /);
    expect(refused(topic, '{"name": "x"}')).toBe(`${topic}: state_topic: required`);
    expect(refused(topic, '{"state_topic": "node1/+/x"}')).toContain('without wildcards');
    expect(refused(topic, 'not json')).toBe(`${topic}: payload is not JSON`);
    expect(refused(topic, '[1,2]')).toBe(`${topic}: payload is not a JSON object`);
  });

  it('refuses unsupported components and templates, naming them', () => {
    expect(refused('homeassistant/climate/node1/hvac/config', '{}')).toContain('component "climate" is not supported');
    expect(refused(topic, '{"state_topic":"node1/t","value_template":"{{ value_json.t * 10 }}"}')).toContain('unsupported template');
  });

  it('treats an empty payload as removal', () => {
    expect(parseDiscovery(topic, '', 'node1')).toEqual({ ok: true, removed: true });
  });

  it('derives the device id from the node id, then the owner, when there is no device block', () => {
    const a = parseDiscovery(topic, '{"state_topic":"node1/t"}', 'someone');
    expect(a.ok && 'entity' in a && a.entity.device.id).toBe('node1');
    const b = parseDiscovery('homeassistant/sensor/temp/config', '{"state_topic":"me/t"}', 'me');
    expect(b.ok && 'entity' in b && b.entity.device.id).toBe('me');
  });

  it('turns a problem binary sensor into a boolean attribute with the problem class', () => {
    const r = parseDiscovery('homeassistant/binary_sensor/c1/descale_needed/config', '{"state_topic":"c1/d","device_class":"problem"}', 'c1');
    expect(r.ok && 'entity' in r && r.entity.spec).toEqual({ type: 'boolean', deviceClass: 'problem', writable: false });
  });
});
