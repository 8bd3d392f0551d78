import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDiscovery } from '../../drivers/mqtt/discovery.ts';
import type { EntityConfig } from '../../drivers/mqtt/entity.ts';
import { decodeAvailability, encodeCommand, parseJsonOnce } from '../../drivers/mqtt/entityCodec.ts';
import { EntityTable } from '../../drivers/mqtt/entityTable.ts';
import { topicMatches } from '../../drivers/mqtt/topics.ts';

interface Case {
  device: string;
  owner: string;
  ownerTopics?: string[];
  topic: string;
  config: Record<string, unknown>;
  expect: { deviceId: string; deviceName?: string; attributes: Record<string, Record<string, unknown>>; warnings?: string[] };
  states: Array<{
    topic: string;
    payload: string;
    values?: Record<string, unknown>;
    online?: boolean;
    error?: string;
    pressed?: Array<{ button: string; action: string }>;
  }>;
  commands?: Array<{ attribute: string; value: number | boolean | string; topic: string; payload: string }>;
  refusedCommands?: Array<{ attribute: string; value: number | boolean | string; error: string }>;
}

const fixtures = ['esphome', 'tasmota', 'zigbee2mqtt', 'components'].map((name) => ({
  name,
  ...(JSON.parse(readFileSync(join(import.meta.dirname, '..', 'fixtures', 'discovery', `${name}.json`), 'utf8')) as { source: string; cases: Case[] }),
}));

function entityOf(c: Case): EntityConfig {
  const result = parseDiscovery(c.topic, JSON.stringify(c.config), c.owner);
  if (!result.ok || !('entities' in result) || result.entities.length !== 1) throw new Error(`discovery refused: ${JSON.stringify(result)}`);
  return result.entities[0] as EntityConfig;
}

/** Decodes a message the way the driver does: every route on the topic, JSON parsed once. */
function decode(table: EntityTable, topic: string, payload: string) {
  const json = parseJsonOnce(payload);
  const values: Record<string, unknown> = {};
  const errors: string[] = [];
  const pressed: Array<{ button: string; action: string }> = [];
  let online: boolean | undefined;
  for (const route of table.routes(topic) ?? []) {
    if (route.kind === 'availability') {
      online = decodeAvailability(route.availability, payload, json);
      continue;
    }
    const d = route.reader.decode(payload, json);
    if ('error' in d) errors.push(d.error);
    else {
      for (const [k, v] of d.values) values[k] = v;
      pressed.push(...(d.pressed ?? []));
    }
  }
  return { values, errors, online, pressed };
}

describe.each(fixtures)('Home Assistant discovery from $name', ({ cases }) => {
  it.each(cases.map((c) => [`${c.device}: ${c.topic}`, c] as const))('%s', (_label, c) => {
    const entity = entityOf(c);
    expect(entity.device.id).toBe(c.expect.deviceId);
    if (c.expect.deviceName) expect(entity.device.name).toBe(c.expect.deviceName);
    const attributes = entity.attributes;
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
      if (s.pressed) expect(got.pressed).toEqual(s.pressed);
    }
    for (const cmd of c.commands ?? []) {
      expect(encodeCommand(entity, cmd.attribute, cmd.value)).toMatchObject({ topic: cmd.topic, payload: cmd.payload });
    }
    for (const cmd of c.refusedCommands ?? []) {
      const refused = encodeCommand(entity, cmd.attribute, cmd.value);
      expect('error' in refused && refused.error).toContain(cmd.error);
    }
    expect(entity.warnings.length).toBe(c.expect.warnings?.length ?? 0);
    for (const [i, w] of (c.expect.warnings ?? []).entries()) expect(entity.warnings[i]).toContain(w);
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
    expect(refused('homeassistant/vacuum/node1/robot/config', '{}')).toContain('component "vacuum" is not supported');
    expect(refused(topic, '{"state_topic":"node1/t","value_template":"{{ value_json.t * 10 }}"}')).toContain('unsupported template');
  });

  it('gives a climate entity without mode topics no mode attribute, only what it reports', () => {
    const r = parseDiscovery(
      'homeassistant/climate/trv/climate/config',
      JSON.stringify({ current_temperature_topic: 'trv/t', temperature_command_topic: 'trv/set', device: { identifiers: 'trv' } }),
      'trv',
    );
    expect(r.ok && 'entities' in r && Object.keys(r.entities[0]?.attributes ?? {}).sort()).toEqual([
      'climate_current_temperature',
      'climate_target_temperature',
    ]);
  });

  it('treats an empty payload as removal', () => {
    expect(parseDiscovery(topic, '', 'node1')).toEqual({ ok: true, removed: true });
  });

  it('derives the device id from the node id, then the owner, when there is no device block', () => {
    const a = parseDiscovery(topic, '{"state_topic":"node1/t"}', 'someone');
    expect(a.ok && 'entities' in a && a.entities[0]?.device.id).toBe('node1');
    const b = parseDiscovery('homeassistant/sensor/temp/config', '{"state_topic":"me/t"}', 'me');
    expect(b.ok && 'entities' in b && b.entities[0]?.device.id).toBe('me');
  });

  it('turns a problem binary sensor into a boolean attribute with the problem class', () => {
    const r = parseDiscovery('homeassistant/binary_sensor/c1/descale_needed/config', '{"state_topic":"c1/d","device_class":"problem"}', 'c1');
    expect(r.ok && 'entities' in r && r.entities[0]?.attributes.descale_needed).toEqual({
      type: 'boolean',
      deviceClass: 'problem',
      writable: false,
      name: undefined,
    });
  });
});

describe('device-based discovery (homeassistant/device/<id>/config, HA 2024.11+)', () => {
  const topic = 'homeassistant/device/kettle01/config';
  const message = {
    dev: { ids: 'kettle01', name: 'Kitchen kettle', mf: 'Bosch', mdl: 'TWK8613P' },
    o: { name: 'kettle-firmware', sw: '2.1' },
    stat_t: 'kettle01/state',
    avty_t: 'kettle01/status',
    cmps: {
      temperature: { p: 'sensor', name: 'Water temperature', dev_cla: 'temperature', unit_of_meas: '°C', val_tpl: '{{ value_json.temp }}' },
      heating: { p: 'switch', name: 'Heating', cmd_t: 'kettle01/heat/set', val_tpl: '{{ value_json.heat }}' },
      keep_warm: { p: 'select', name: 'Keep warm', cmd_t: 'kettle01/warm/set', ops: ['off', '70', '80'], val_tpl: '{{ value_json.warm }}' },
    },
  };

  it('announces every component as an entity of one device, inheriting the shared state topic and availability', () => {
    const r = parseDiscovery(topic, JSON.stringify(message), 'kettle01');
    if (!r.ok || !('entities' in r)) throw new Error(JSON.stringify(r));
    expect(r.entities.map((e) => [e.discoveryTopic, e.component, e.attribute])).toEqual([
      [`${topic}#temperature`, 'sensor', 'temperature'],
      [`${topic}#heating`, 'switch', 'heating'],
      [`${topic}#keep_warm`, 'select', 'keep_warm'],
    ]);
    expect(new Set(r.entities.map((e) => e.device.id))).toEqual(new Set(['kettle01']));
    expect(r.entities[0]?.device.name).toBe('Kitchen kettle');
    expect(r.entities[0]?.attributes.temperature).toMatchObject({ type: 'number', unit: '°C', name: 'Water temperature' });
    const table = new EntityTable();
    for (const e of r.entities) table.put(e, 'kettle01');
    expect(decode(table, 'kettle01/state', '{"temp":96.5,"heat":"ON","warm":"80"}').values).toEqual({ temperature: 96.5, heating: true, keep_warm: '80' });
    expect(decode(table, 'kettle01/status', 'offline').online).toBe(false);
    expect(Object.keys(table.describe('kettle01')?.attributes ?? {}).sort()).toEqual(['heating', 'keep_warm', 'temperature']);
    expect(table.announcedBy(topic)).toHaveLength(3);
  });

  it('drops a component listed with its platform only, and names the component of a bad entry', () => {
    const dropped = { ...message, cmps: { ...message.cmps, keep_warm: { p: 'select' } } };
    const r = parseDiscovery(topic, JSON.stringify(dropped), 'kettle01');
    expect(r.ok && 'entities' in r && r.entities.map((e) => e.attribute)).toEqual(['temperature', 'heating']);
    const bad = (cmps: unknown, extra: Record<string, unknown> = {}) => {
      const res = parseDiscovery(topic, JSON.stringify({ ...message, ...extra, cmps }), 'kettle01');
      expect(res.ok).toBe(false);
      return (res as { error: string }).error;
    };
    expect(bad({ x: { p: 'vacuum', cmd_t: 'kettle01/x' } })).toContain('components.x.platform: "vacuum" is not supported');
    expect(bad({ x: { p: 'switch', name: 'no command' } })).toBe(`${topic}: components.x: command_topic: required`);
    expect(bad({ x: { p: 'sensor', stat_t: 'kettle01/+/t' } })).toContain('components.x: state_topic: expected an MQTT topic name without wildcards');
    expect(bad({})).toContain('components: expected an object of components');
    expect(bad(message.cmps, { o: undefined })).toContain('origin.name: required');
    const many = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`s${i}`, { p: 'sensor' }]));
    expect(bad(many)).toContain('components: at most 64');
  });
});
