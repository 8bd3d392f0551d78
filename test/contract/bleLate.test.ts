import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BTHOME_SERVICE_DATA_UUID } from '../../drivers/ble/profiles.ts';
import { encodeBthome } from '../../firmware-sim/ble/bthomeEncoder.ts';
import { FakeBluez } from '../../firmware-sim/ble/fakeBluez.ts';
import { PrivateBus } from '../../firmware-sim/ble/privateBus.ts';
import { startTestGateway, waitFor, type TestGateway } from '../helpers/testGateway.ts';
import { TempDirs } from '../helpers/tempDir.ts';

/** BlueZ (its D-Bus) is not there yet when the gateway starts, as on a Pi still booting. */
describe('BLE when BlueZ comes up after the gateway', () => {
  const dirs = new TempDirs();
  const dir = dirs.make();
  const bus = new PrivateBus(dir);
  let bluez: FakeBluez | undefined;
  let gw: TestGateway | undefined;
  afterAll(async () => {
    await gw?.stop();
    bluez?.stop();
    await bus.stop();
    dirs.cleanup();
  });

  it('starts without it, picks it up when it appears, and still stops promptly', async () => {
    gw = await startTestGateway({
      ble: {
        dbusAddress: `unix:path=${join(dir, 'system_bus_socket')}`,
        scanMs: 100,
        devices: [{ address: 'A4:C1:38:00:00:09', id: 'late-thermo', profile: 'bthome' }],
      },
    });
    await new Promise((r) => setTimeout(r, 500));
    expect(gw.running.hub.state.isOnline('late-thermo')).toBe(false);
    await bus.start();
    bluez = new FakeBluez(bus.address, [
      { address: 'A4:C1:38:00:00:09', name: 'late', serviceData: { [BTHOME_SERVICE_DATA_UUID]: encodeBthome({ packetId: 1, temperature: 20.5 }) } },
    ]);
    await bluez.start();
    await waitFor(() => gw?.running.hub.state.get('late-thermo', 'temperature') === 20.5, 20_000, 'the sensor once BlueZ is up');
    const t0 = Date.now();
    await gw.stop();
    gw = undefined;
    expect(Date.now() - t0).toBeLessThan(6000);
  }, 40_000);
});
