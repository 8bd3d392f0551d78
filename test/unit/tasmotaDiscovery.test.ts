import { describe, expect, it } from 'vitest';
import type { EntityConfig } from '../../drivers/mqtt/entity.ts';
import { encodeCommand, parseJsonOnce } from '../../drivers/mqtt/entityCodec.ts';
import { EntityTable } from '../../drivers/mqtt/entityTable.ts';
import { parseTasmotaConfig, TasmotaError, tasmotaEntities } from '../../drivers/mqtt/tasmota.ts';
import { parseTasmotaDiscoveryTopic } from '../../drivers/mqtt/topics.ts';

/** What Tasmota 13 publishes with SetOption19 0 (its default): a Sonoff POW R2 with one relay and an energy meter, a DS18B20 probe. */
const CONFIG = {
  ip: '192.168.1.57',
  dn: 'Coffee corner',
  fn: ['Coffee grinder', null, null, null, null, null, null, null],
  hn: 'tasmota-35EBF6-5878',
  mac: '8CAAB535EBF6',
  md: 'Sonoff Pow R2',
  ty: 0,
  if: 0,
  ofln: 'Offline',
  onln: 'Online',
  state: ['OFF', 'ON', 'TOGGLE', 'HOLD'],
  sw: '13.4.0',
  t: 'tasmota_35EBF6',
  ft: '%prefix%/%topic%/',
  tp: ['cmnd', 'stat', 'tele'],
  rl: [1, 0, 0, 0, 0, 0, 0, 0],
  swc: [-1, -1, -1, -1, -1, -1, -1, -1],
  btn: [0, 0, 0, 0, 0, 0, 0, 0],
  so: { '4': 0, '11': 0, '13': 0, '17': 0, '20': 0, '30': 0, '68': 0, '73': 0, '82': 0, '114': 0, '117': 0 },
  lk: 0,
  lt_st: 0,
  ver: 1,
};
const SENSORS = {
  sn: {
    Time: '2026-12-01T10:00:00',
    ENERGY: {
      TotalStartTime: '2026-01-10T08:00:00',
      Total: 12.345,
      Yesterday: 1.2,
      Today: 0.4,
      Power: 86,
      ApparentPower: 90,
      ReactivePower: 20,
      Factor: 0.95,
      Voltage: 229,
      Current: 0.39,
    },
    DS18B20: { Id: '01131B8B8DAA', Temperature: 21.3 },
    TempUnit: 'C',
  },
  ver: 1,
};

function tableOf(entities: EntityConfig[]) {
  const table = new EntityTable();
  for (const e of entities) table.put(e, 'tasmota_35EBF6');
  return table;
}
function decode(table: EntityTable, topic: string, payload: string) {
  const json = parseJsonOnce(payload);
  const values: Record<string, unknown> = {};
  for (const r of table.routes(topic) ?? []) {
    if (r.kind !== 'state') continue;
    const d = r.reader.decode(payload, json);
    if ('error' in d) throw new Error(d.error);
    for (const [k, v] of d.values) values[k] = v;
  }
  return values;
}

describe("Tasmota's own discovery", () => {
  it('reads its topics', () => {
    expect(parseTasmotaDiscoveryTopic('tasmota/discovery/8CAAB535EBF6/config')).toEqual({ mac: '8CAAB535EBF6', kind: 'config' });
    expect(parseTasmotaDiscoveryTopic('tasmota/discovery/8caab535ebf6/sensors')).toEqual({ mac: '8CAAB535EBF6', kind: 'sensors' });
    expect(parseTasmotaDiscoveryTopic('tasmota/discovery/nothex/config')).toBeUndefined();
  });

  it('turns the relay and every numeric sensor field into attributes, with the friendly name, units and classes', () => {
    const entities = tasmotaEntities(parseTasmotaConfig(CONFIG), SENSORS);
    const table = tableOf(entities);
    const d = table.describe('8caab535ebf6');
    expect(d).toMatchObject({ name: 'Coffee corner', manufacturer: 'Tasmota', model: 'Sonoff Pow R2', swVersion: '13.4.0' });
    expect(Object.keys(d?.attributes ?? {}).sort()).toEqual([
      'ds18b20_temperature',
      'energy_apparentpower',
      'energy_current',
      'energy_factor',
      'energy_power',
      'energy_reactivepower',
      'energy_today',
      'energy_total',
      'energy_voltage',
      'energy_yesterday',
      'power',
    ]);
    expect(d?.attributes.power).toEqual({ type: 'boolean', writable: true, name: 'Coffee grinder' });
    expect(d?.attributes.energy_total).toMatchObject({ unit: 'kWh', deviceClass: 'energy', stateClass: 'total_increasing' });
    expect(d?.attributes.ds18b20_temperature).toMatchObject({ unit: '°C', deviceClass: 'temperature' });
    expect(
      decode(table, 'tele/tasmota_35EBF6/SENSOR', JSON.stringify({ Time: 'x', ENERGY: { Power: 1450, Total: 12.5 }, DS18B20: { Temperature: 22.1 } })),
    ).toMatchObject({
      energy_power: 1450,
      energy_total: 12.5,
      ds18b20_temperature: 22.1,
    });
    expect(decode(table, 'stat/tasmota_35EBF6/POWER', 'ON')).toEqual({ power: true });
    expect(decode(table, 'tele/tasmota_35EBF6/STATE', '{"Time":"x","POWER":"OFF","Wifi":{}}')).toMatchObject({ power: false });
    expect(decode(table, 'stat/tasmota_35EBF6/RESULT', '{"POWER":"ON"}')).toEqual({ power: true });
    const entity = table.entityFor('8caab535ebf6', 'power') as EntityConfig;
    expect(encodeCommand(entity, 'power', true)).toMatchObject({ topic: 'cmnd/tasmota_35EBF6/POWER', payload: 'ON' });
    expect(entities.every((e) => e.availability[0]?.topic === 'tele/tasmota_35EBF6/LWT')).toBe(true);
  });

  it('numbers relays of a multi-relay device, and works before its sensors message arrives', () => {
    const four = tasmotaEntities(parseTasmotaConfig({ ...CONFIG, rl: [1, 1, 0, 1], fn: ['Pump', null, null, 'Fan'] }), undefined);
    expect(four.map((e) => [e.attribute, e.attributes[e.attribute]?.name])).toEqual([
      ['power1', 'Pump'],
      ['power2', 'Relay 2'],
      ['power4', 'Fan'],
    ]);
    expect(encodeCommand(four[2] as EntityConfig, 'power4', false)).toMatchObject({ topic: 'cmnd/tasmota_35EBF6/POWER4', payload: 'OFF' });
  });

  it('names the field of a config it cannot use', () => {
    const bad = (patch: Record<string, unknown>) => {
      try {
        parseTasmotaConfig({ ...CONFIG, ...patch });
        return 'accepted';
      } catch (err) {
        expect(err).toBeInstanceOf(TasmotaError);
        return (err as Error).message;
      }
    };
    expect(bad({ tp: ['cmnd'] })).toMatch(/^tp: /);
    expect(bad({ ft: '%prefix%/%group%/' })).toMatch(/^ft: .*only %prefix%, %topic%, %hostname% and %id%/);
    expect(bad({ ft: '%hostname%/%prefix%/', hn: '' })).toMatch(/^hn: /);
    expect(bad({ t: 5 })).toBe('t: expected a string');
    expect(bad({ rl: 'one' })).toMatch(/^rl: /);
  });

  it('builds topics from %hostname% and %id% full topics', () => {
    const [relay] = tasmotaEntities(parseTasmotaConfig({ ...CONFIG, ft: '%prefix%/%hostname%/%id%/' }), undefined);
    expect(encodeCommand(relay as EntityConfig, 'power', true)).toMatchObject({ topic: 'cmnd/tasmota-35EBF6-5878/8CAAB535EBF6/POWER' });
    expect(relay?.availability[0]?.topic).toBe('tele/tasmota-35EBF6-5878/8CAAB535EBF6/LWT');
  });

  it('reads a shutter from a pair of type-3 relays: state and position from RESULT and SENSOR, its four commands, inverted ones', () => {
    // a Shelly 2.5 in shutter mode: two relays driving one motor, and a second (inverted) shutter on relays 3 and 4
    const c = parseTasmotaConfig({ ...CONFIG, rl: [3, 3, 3, 3], fn: ['Shop window', null, null, null], sho: [0, 1] });
    const entities = tasmotaEntities(c, undefined);
    const table = tableOf(entities);
    const d = table.describe('8caab535ebf6');
    expect(d?.attributes.shutter1).toEqual({
      type: 'string',
      deviceClass: 'shutter',
      writable: true,
      options: ['open', 'opening', 'closed', 'closing', 'stopped'],
      commands: ['open', 'close', 'stop'],
      name: 'Shop window',
    });
    expect(d?.attributes.shutter1_position).toMatchObject({ type: 'number', unit: '%', min: 0, max: 100, writable: true, name: 'Shop window position' });
    expect(d?.attributes.shutter2?.name).toBe('Shutter 2');
    expect(decode(table, 'stat/tasmota_35EBF6/RESULT', '{"Shutter1":{"Position":40,"Direction":1,"Target":100,"Tilt":0}}')).toEqual({
      shutter1: 'opening',
      shutter1_position: 40,
    });
    expect(decode(table, 'tele/tasmota_35EBF6/SENSOR', '{"Time":"x","Shutter1":{"Position":100,"Direction":0}}')).toEqual({
      shutter1: 'open',
      shutter1_position: 100,
    });
    // inverted: Tasmota's 0 is open; here 100 is
    expect(decode(table, 'stat/tasmota_35EBF6/RESULT', '{"Shutter2":{"Position":0,"Direction":-1}}')).toEqual({ shutter2: 'opening', shutter2_position: 100 });
    expect(() => decode(table, 'stat/tasmota_35EBF6/RESULT', '{"Shutter1":{"Position":140}}')).toThrow(/shutter1_position: expected 0-100/);
    const one = table.entityFor('8caab535ebf6', 'shutter1') as EntityConfig;
    expect(encodeCommand(one, 'shutter1', 'open')).toMatchObject({ topic: 'cmnd/tasmota_35EBF6/ShutterOpen1', payload: '' });
    expect(encodeCommand(one, 'shutter1', 'stop')).toMatchObject({ topic: 'cmnd/tasmota_35EBF6/ShutterStop1', payload: '' });
    expect(encodeCommand(one, 'shutter1_position', 30)).toMatchObject({ topic: 'cmnd/tasmota_35EBF6/ShutterPosition1', payload: '30' });
    const two = table.entityFor('8caab535ebf6', 'shutter2') as EntityConfig;
    expect(encodeCommand(two, 'shutter2_position', 30)).toMatchObject({ topic: 'cmnd/tasmota_35EBF6/ShutterPosition2', payload: '70' });
    expect(encodeCommand(two, 'shutter2', 'close')).toMatchObject({ topic: 'cmnd/tasmota_35EBF6/ShutterClose2' });
    // no relay switches are made of shutter relays
    expect(Object.keys(d?.attributes ?? {}).filter((a) => a.startsWith('power'))).toEqual([]);
  });

  it('reads no shutter from an unpaired shutter relay, and says why', () => {
    const entities = tasmotaEntities(parseTasmotaConfig({ ...CONFIG, rl: [1, 3, 0, 0] }), undefined);
    expect(entities.map((e) => e.attribute)).toEqual(['power1']);
    expect(entities[0]?.warnings).toEqual(['rl: relay 2 is a shutter relay without a partner (relay 3); no shutter is read']);
  });
});
