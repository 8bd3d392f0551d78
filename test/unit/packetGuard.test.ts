import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PacketSizeGuard } from '../../drivers/mqtt/packetGuard.ts';
import { packet as encodePacket } from '../helpers/rawMqtt.ts';

/** One MQTT PUBLISH with a body of `n` bytes: type byte, remaining length [MQTT 2.2.3], body. */
const packet = (n: number): Buffer => encodePacket(0x30, Buffer.alloc(n, 7));

function feed(guard: PacketSizeGuard, bytes: Buffer, cuts: number[]): string | undefined {
  let start = 0;
  for (const cut of [...cuts.filter((c) => c > 0 && c < bytes.length).sort((a, b) => a - b), bytes.length]) {
    const problem = guard.check(bytes.subarray(start, cut));
    if (problem) return problem;
    start = cut;
  }
  return undefined;
}

describe('packet size guard', () => {
  it('passes any stream of packets within the limit, however the bytes are split (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 300 }), { minLength: 1, maxLength: 20 }), fc.array(fc.nat(7000)), (sizes, cuts) => {
        const bytes = Buffer.concat(sizes.map(packet));
        expect(feed(new PacketSizeGuard(304), bytes, cuts)).toBeUndefined();
      }),
    );
  });

  it('trips on the first packet that announces more than the limit, before its body arrives (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 200 }), { maxLength: 10 }),
        fc.integer({ min: 300, max: 10_000_000 }),
        fc.array(fc.nat(3000)),
        (ok, big, cuts) => {
          const header = packet(big).subarray(0, 5); // type byte + remaining length, no body
          const bytes = Buffer.concat([...ok.map(packet), header]);
          expect(feed(new PacketSizeGuard(256), bytes, cuts)).toMatch(/exceeds the limit of 256/);
        },
      ),
    );
  });

  it('rejects a remaining length longer than four bytes', () => {
    const guard = new PacketSizeGuard(1_000_000_000);
    expect(guard.check(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]))).toMatch(/malformed remaining length/);
  });
});
