import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BTHOME_SERVICE_DATA_UUID } from '../../drivers/ble/profiles.ts';
import { encodeBthome, encryptBthome } from '../../firmware-sim/ble/bthomeEncoder.ts';
import { FakeBluez } from '../../firmware-sim/ble/fakeBluez.ts';
import { fridgeLogger } from '../../firmware-sim/ble/fridgeLogger.ts';
import { PrivateBus } from '../../firmware-sim/ble/privateBus.ts';
import { lanClient } from '../helpers/lanClient.ts';
import { TempDirs } from '../helpers/tempDir.ts';
import { startTestGateway, type TestGateway, waitFor } from '../helpers/testGateway.ts';

/**
 * Bluetooth scan and adopt against a simulated BlueZ on a private D-Bus: with `ble.scan` on and no
 * device in the config, the owner sees the BTHome sensors and the GATT fridge logger nearby (not the
 * phone next to them), adopts them with a name (an encrypted sensor only with the bind key that opens
 * its advert), they report, come back after a restart without re-adopting, and can be forgotten.
 */
const PLAIN = 'A4:C1:38:00:10:01';
const SEALED = '7C:C6:B6:00:10:02';
const LOGGER = 'C0:FF:EE:00:10:03';
const PHONE = '4C:57:CA:00:10:04';
const KEY = '231d39c1d7cc1ab1aee224cd096db932';

const dirs = new TempDirs();
const bus = new PrivateBus(dirs.make('trellis-ble-bus-'));
const dataDir = dirs.make('trellis-ble-adopt-');
let bluez: FakeBluez;
let gw: TestGateway;
let api: ReturnType<typeof lanClient>;
let owner: string;
let member: string;
let counter = 10;
/** node's warning when an emitter gains more than 10 listeners for one event: a driver that subscribes on every scan */
const leaks: string[] = [];
const onWarning = (w: Error) => {
  if (w.name === 'MaxListenersExceededWarning') leaks.push(w.message);
};
let packet = 1;

/** the last encrypted advert sent: an attacker in range could have recorded it */
let lastSealed: Buffer | undefined;
const sealedAdvert = () =>
  (lastSealed = encryptBthome(
    encodeBthome({ packetId: packet++, temperature: 20 + (counter % 5) / 10, humidity: 44 }),
    Buffer.from(KEY, 'hex'),
    SEALED,
    counter++,
  ));
const advertiseAll = () => {
  bluez.advertise(PLAIN, { [BTHOME_SERVICE_DATA_UUID]: encodeBthome({ packetId: packet++, temperature: 21.5, battery: 80 }) });
  bluez.advertise(SEALED, { [BTHOME_SERVICE_DATA_UUID]: sealedAdvert() });
};
const startGateway = () => startTestGateway({ dataDir, ble: { dbusAddress: bus.address, scanMs: 100, scan: true, offlineAfterMs: 5000 } }, new TempDirs());
const value = (id: string, attribute: string) => gw.running.hub.state.attributes(id).get(attribute)?.value;

beforeAll(async () => {
  process.on('warning', onWarning);
  await bus.start();
  bluez = new FakeBluez(bus.address, [
    { address: PLAIN, name: 'ATC_001001', rssi: -48, serviceData: { [BTHOME_SERVICE_DATA_UUID]: encodeBthome({ packetId: 0, temperature: 21, battery: 80 }) } },
    { address: SEALED, name: 'SBHT-003C', rssi: -71, serviceData: { [BTHOME_SERVICE_DATA_UUID]: sealedAdvert() } },
    { ...fridgeLogger(LOGGER, 'fridge-logger', 4.5, 60), rssi: -60 },
    { address: PHONE, name: "Olive's phone", rssi: -40, uuids: ['0000180a-0000-1000-8000-00805f9b34fb'] },
  ]);
  await bluez.start();
  gw = await startGateway();
  api = lanClient(gw.lanUrl);
  owner = (await api.post('/api/pair', { code: gw.running.lan?.pairingCode, name: 'Olive', password: 'correct horse' })).body.token;
  const invite = await api.post('/api/members/invite', { role: 'member' }, owner);
  member = (await api.post('/api/pair', { code: invite.body.code, name: 'Max' })).body.token;
}, 60_000);

afterAll(async () => {
  process.off('warning', onWarning);
  await gw?.stop();
  bluez?.stop();
  await bus.stop();
  dirs.cleanup();
});

const nearby = async () =>
  (await api.get('/api/ble/nearby', owner)).body as {
    scanning: boolean;
    devices: Array<{ address: string; name: string | null; profile: string; encrypted: boolean; rssi: number | null }>;
  };

describe('Bluetooth devices found by a scan, adopted from the app', () => {
  it('lists the BTHome sensors and the fridge logger nearby with their kind and signal, strongest first, and not the phone', async () => {
    const found = await waitFor(
      async () => {
        const n = await nearby();
        return n.devices.length >= 3 ? n : undefined;
      },
      15_000,
      'three devices nearby',
    );
    expect(found.scanning).toBe(true);
    expect(found.devices).toEqual([
      { address: PLAIN, name: 'ATC_001001', profile: 'bthome', encrypted: false, rssi: -48, lastSeen: expect.any(Number) },
      { address: LOGGER, name: 'fridge-logger', profile: 'fridge-logger', encrypted: false, rssi: -60, lastSeen: expect.any(Number) },
      { address: SEALED, name: 'SBHT-003C', profile: 'bthome', encrypted: true, rssi: -71, lastSeen: expect.any(Number) },
    ]);
    // nothing nearby is read as a device before it is adopted
    expect(gw.running.registry.get('ble_a4c138001001')).toBeUndefined();
  });

  it("is the owner's: a member and a caller without a token are refused, and the audit log has none of it", async () => {
    expect((await api.get('/api/ble/nearby', member)).status).toBe(403);
    expect((await api.post('/api/ble/adopt', { address: PLAIN, name: 'Mine now' }, member)).status).toBe(403);
    expect((await api.post('/api/ble/adopt', { address: PLAIN, name: 'Mine now' })).status).toBe(401);
    expect((await api.call('POST', '/api/ble/%61dopt', { body: { address: PLAIN, name: 'Mine now' } })).status).toBe(401);
    expect(gw.running.registry.get('ble_a4c138001001')).toBeUndefined();
  });

  it('refuses what cannot be adopted, naming the field or the reason', async () => {
    const refused = async (body: unknown) => (await api.post('/api/ble/adopt', body, owner)).body.message as string;
    expect(await refused({ address: 'A4:C1:38', name: 'x' })).toMatch(/address.*expected a Bluetooth address/);
    expect(await refused({ address: PLAIN, name: '   ' })).toMatch(/name.*expected a name/);
    expect(await refused({ address: PHONE, name: 'Phone' })).toMatch(/not among the devices heard nearby/);
    expect(await refused({ address: SEALED, name: 'Cellar' })).toMatch(/encrypted: give its bindKey/);
    expect(await refused({ address: SEALED, name: 'Cellar', bindKey: 'ab'.repeat(16) })).toMatch(/bindKey does not decrypt its advert/);
    expect(await refused({ address: SEALED, name: 'Cellar', bindKey: 'xyz' })).toMatch(/bindKey.*32 hex digits/);
    expect(gw.running.registry.get('ble_7cc6b6001002')).toBeUndefined();
  });

  it('adopts each with a name and reads it: the plain sensor, the encrypted one with its key, the GATT logger', async () => {
    const adopt = (body: object) => api.post('/api/ble/adopt', body, owner);
    expect(await adopt({ address: PLAIN.toLowerCase(), name: 'Bedroom thermometer' })).toMatchObject({
      status: 201,
      body: { id: 'ble_a4c138001001', profile: 'bthome' },
    });
    expect((await adopt({ address: SEALED, name: 'Cellar', bindKey: KEY })).status).toBe(201);
    expect((await adopt({ address: LOGGER, name: 'Kitchen fridge logger' })).body).toEqual({ id: 'ble_c0ffee001003', profile: 'fridge-logger' });
    expect((await adopt({ address: PLAIN, name: 'Again' })).body.message).toMatch(/already set up/);
    advertiseAll();
    await waitFor(() => value('ble_a4c138001001', 'temperature') === 21.5, 10_000, 'the plain sensor');
    await waitFor(() => typeof value('ble_7cc6b6001002', 'temperature') === 'number', 10_000, 'the encrypted sensor, decrypted');
    await waitFor(() => value('ble_c0ffee001003', 'temperature') === 4.5, 10_000, 'the GATT logger');
    const shown = await api.get('/api/devices', owner);
    const names = Object.fromEntries((shown.body as Array<{ id: string; name: string }>).map((d) => [d.id, d.name]));
    expect(names).toMatchObject({ ble_a4c138001001: 'Bedroom thermometer', ble_7cc6b6001002: 'Cellar', ble_c0ffee001003: 'Kitchen fridge logger' });
    expect((await nearby()).devices).toEqual([]);
    const audit = gw.running.db.prepare("SELECT actor, subject, details FROM audit_log WHERE action = 'lan.ble.adopt' ORDER BY id").all() as Array<{
      actor: string;
      subject: string;
      details: string;
    }>;
    expect(audit.map((a) => [a.actor, a.subject])).toEqual([
      ['owner:Olive', 'ble_a4c138001001'],
      ['owner:Olive', 'ble_7cc6b6001002'],
      ['owner:Olive', 'ble_c0ffee001003'],
    ]);
    expect(audit.map((a) => a.details).join()).not.toContain(KEY);
  });

  it('reads the adopted devices again after a restart, without adopting them again, refusing a recorded packet; a forgotten one is offered again', async () => {
    const recorded = lastSealed as Buffer; // accepted before the restart
    await gw.gateway.stop();
    gw = await startGateway();
    api = lanClient(gw.lanUrl);
    // the highest counter accepted survived the restart: the recorded packet is a replay
    const rejected = () => gw.running.ble?.counters().rejected ?? 0;
    bluez.advertise(SEALED, { [BTHOME_SERVICE_DATA_UUID]: recorded });
    await waitFor(() => rejected() === 1, 10_000, 'the recorded packet refused');
    bluez.advertise(PLAIN, { [BTHOME_SERVICE_DATA_UUID]: encodeBthome({ packetId: packet++, temperature: 22.5, battery: 80 }) });
    await waitFor(() => value('ble_a4c138001001', 'temperature') === 22.5, 10_000, 'the plain sensor after the restart');
    const before = counter;
    bluez.advertise(SEALED, { [BTHOME_SERVICE_DATA_UUID]: sealedAdvert() });
    await waitFor(
      () => gw.running.hub.state.attributes('ble_7cc6b6001002').get('temperature')?.value === 20 + (before % 5) / 10,
      10_000,
      'the encrypted sensor after the restart',
    );
    expect((await api.del(`/api/ble/adopted/${PLAIN}`, owner)).status).toBe(200);
    expect((await api.del(`/api/ble/adopted/${PLAIN}`, owner)).status).toBe(404);
    await waitFor(async () => (await nearby()).devices.some((d) => d.address === PLAIN), 15_000, 'the forgotten sensor offered again');
    // adopted again, it keeps its id and history
    expect((await api.post('/api/ble/adopt', { address: PLAIN, name: 'Bedroom thermometer' }, owner)).status).toBe(201);
  }, 60_000);

  it('reads adverts scan after scan (every 100 ms here) without adding a D-Bus listener each time', async () => {
    const started = Date.now();
    await new Promise((r) => setTimeout(r, 3000)); // 30 scans of three adopted devices
    bluez.advertise(PLAIN, { [BTHOME_SERVICE_DATA_UUID]: encodeBthome({ packetId: packet++, temperature: 23, battery: 80 }) });
    await waitFor(() => value('ble_a4c138001001', 'temperature') === 23, 5_000, 'still reading');
    expect(Date.now() - started).toBeGreaterThanOrEqual(3000);
    expect(leaks).toEqual([]);
  });
});
