import { Aedes } from 'aedes';
import { describe, expect, it } from 'vitest';
import { assertAedesInternals, parserOf } from '../../drivers/mqtt/aedesInternals.ts';

describe('the malformed-packet guard fails closed', () => {
  it("finds the installed aedes' client parser", async () => {
    const aedes = await Aedes.createBroker();
    try {
      expect(() => assertAedesInternals(aedes)).not.toThrow();
    } finally {
      await new Promise<void>((r) => aedes.close(() => r()));
    }
  });

  it('refuses to start the broker when aedes no longer exposes it (a renamed private field)', () => {
    const renamed = { handle: () => ({ parser: { prependListener: () => undefined } }) };
    expect(() => assertAedesInternals(renamed as never)).toThrow(
      expect.objectContaining({ code: 'TRELLIS_E_BROKER', message: expect.stringContaining('client._parser') }),
    );
    const noDelivery = { handle: () => ({ _parser: { prependListener: () => undefined }, subscriptions: {} }) };
    expect(() => assertAedesInternals(noDelivery as never)).toThrow(
      expect.objectContaining({ code: 'TRELLIS_E_BROKER', message: expect.stringContaining('client.deliverQoS') }),
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

/**
 * Canaries: the aedes behaviours Trellis corrects (drivers/mqtt/aedesFixes.ts, packetRules.ts,
 * ackFlows.ts). Each asserts plain aedes still has the flaw; when an upgrade fixes one, its test fails
 * and says which Trellis code to drop or recheck.
 */
describe('what plain aedes still gets wrong, and Trellis corrects', () => {
  async function plainAedes(): Promise<{ port: number; close(): Promise<void> }> {
    const { createServer } = await import('node:net');
    const aedes = await Aedes.createBroker();
    const server = createServer((socket) => aedes.handle(socket));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    return {
      port: (server.address() as { port: number }).port,
      close: async () => {
        await new Promise((r) => server.close(r));
        await new Promise<void>((r) => aedes.close(() => r()));
      },
    };
  }

  it('delivers a QoS 2 publish at QoS 2 through "a/+" granted QoS 1 [MQTT-3.8.4-6] (fixed by aedesFixes.ts)', async () => {
    const { RawSession, publishPacket, subscribePacket, ackPacket } = await import('../helpers/rawMqtt.ts');
    const broker = await plainAedes();
    try {
      const s = await RawSession.connected(broker.port, 'canary-qos');
      s.send(subscribePacket(['a/+'], 1, 0x82, 1));
      await s.next('suback');
      s.send(publishPacket('a/x', 'v', 1, 2, 0x34));
      await s.next('pubrec');
      s.send(ackPacket(6, 2));
      const p = await s.next('publish');
      expect(p.qos, 'aedes now downgrades by the matching filter: drop drivers/mqtt/aedesFixes.ts').toBe(2);
      s.end();
    } finally {
      await broker.close();
    }
  });

  it('grants the invalid filter "ab/+e" [MQTT-4.7.1-3] (refused by packetRules.ts)', async () => {
    const { RawSession, subscribePacket } = await import('../helpers/rawMqtt.ts');
    const broker = await plainAedes();
    try {
      const s = await RawSession.connected(broker.port, 'canary-filter');
      s.send(subscribePacket(['ab/+e'], 1, 0x82, 1));
      expect((await s.next('suback')).granted, 'aedes now refuses "ab/+e" itself: recheck packetRules.ts').toEqual([1]);
      s.end();
    } finally {
      await broker.close();
    }
  });

  it('answers PUBREC for a QoS 1 message with PUBREL instead of closing [MQTT-4.8.0-1] (closed by ackFlows.ts)', async () => {
    const { RawSession, publishPacket, subscribePacket, ackPacket } = await import('../helpers/rawMqtt.ts');
    const broker = await plainAedes();
    try {
      const s = await RawSession.connected(broker.port, 'canary-ack');
      s.send(subscribePacket(['c/#'], 1, 0x82, 1));
      await s.next('suback');
      s.send(publishPacket('c/x', 'v', 1, 3));
      const p = await s.next('publish');
      s.send(ackPacket(5, p.messageId as number));
      const rel = await s.next('pubrel');
      expect(rel.messageId, 'aedes now closes on a wrong acknowledgement: recheck ackFlows.ts').toBe(p.messageId);
      s.end();
    } finally {
      await broker.close();
    }
  });
});
