import { Aedes } from 'aedes';
import { describe, expect, it } from 'vitest';
import { assertParserHook, parserOf } from '../../drivers/mqtt/parserHook.ts';

describe('the malformed-packet guard fails closed', () => {
  it("finds the installed aedes' client parser", async () => {
    const aedes = await Aedes.createBroker();
    try {
      expect(() => assertParserHook(aedes)).not.toThrow();
    } finally {
      await new Promise<void>((r) => aedes.close(() => r()));
    }
  });

  it('refuses to start the broker when aedes no longer exposes it (a renamed private field)', () => {
    const renamed = { handle: () => ({ parser: { prependListener: () => undefined } }) };
    expect(() => assertParserHook(renamed as never)).toThrow(
      expect.objectContaining({ code: 'TRELLIS_E_BROKER', message: expect.stringContaining('client._parser') }),
    );
    expect(parserOf({ _parser: {} })).toBeUndefined();
    expect(parserOf(null)).toBeUndefined();
  });
});

describe("node-ble's private Bluetooth class is checked, not assumed", () => {
  it('loads the installed one', async () => {
    const { bluetoothClass } = await import('../../drivers/ble/session.ts');
    expect(typeof bluetoothClass()).toBe('function');
  });

  it('a moved or changed file is a clear TRELLIS_E_INTERNALS error', async () => {
    const { bluetoothClass } = await import('../../drivers/ble/session.ts');
    const missing = () => {
      throw new Error("Cannot find module 'node-ble/src/Bluetooth.js'");
    };
    expect(() => bluetoothClass(missing)).toThrow(
      expect.objectContaining({ code: 'TRELLIS_E_INTERNALS', message: expect.stringContaining('src/Bluetooth.js') }),
    );
    expect(() => bluetoothClass(() => class {})).toThrow(
      expect.objectContaining({ code: 'TRELLIS_E_INTERNALS', message: expect.stringContaining('defaultAdapter') }),
    );
  });
});

describe("MQTT.js's acknowledgement hook, which fleet ingest defers until the commit", () => {
  it('reads on and sends no PUBACK when handleMessage is called back with an error', async () => {
    const { createServer } = await import('node:net');
    const { connect } = await import('mqtt');
    const mqttPacket = await import('mqtt-packet');
    const { DEFERRED_ACK } = await import('../../fleet/ingest/worker.ts');
    const fromClient: string[] = [];
    const server = createServer((socket) => {
      const parser = mqttPacket.parser({ protocolVersion: 4 });
      parser.on('packet', (p) => {
        fromClient.push(p.cmd);
        if (p.cmd !== 'connect') return;
        socket.write(mqttPacket.generate({ cmd: 'connack', returnCode: 0, sessionPresent: false }));
        for (const messageId of [1, 2, 3])
          socket.write(mqttPacket.generate({ cmd: 'publish', topic: 't', payload: Buffer.from('x'), qos: 1, messageId, dup: false, retain: false }));
      });
      socket.on('data', (d) => parser.parse(d));
      socket.on('error', () => undefined);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as { port: number }).port;
    const client = connect(`mqtt://127.0.0.1:${port}`, { protocolVersion: 4, reconnectPeriod: 0 });
    const handled: number[] = [];
    client.handleMessage = (packet, callback) => {
      handled.push(packet.messageId as number);
      callback(DEFERRED_ACK);
    };
    try {
      await new Promise((r) => setTimeout(r, 300));
      expect(handled).toEqual([1, 2, 3]); // read on without waiting for an acknowledgement
      expect(fromClient).toEqual(['connect']); // and sent none
    } finally {
      await client.endAsync(true);
      await new Promise((r) => server.close(r));
    }
  });
});
