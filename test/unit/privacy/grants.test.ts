import { afterEach, describe, expect, it } from 'vitest';
import { Grants } from '../../../gateway/store/grants.ts';
import { openDb, type Db } from '../../../gateway/store/db.ts';
import { TempDirs } from '../../helpers/tempDir.ts';
import { testBus } from '../../helpers/bus.ts';

const dirs = new TempDirs();
const open: Db[] = [];
afterEach(() => {
  for (const db of open.splice(0)) if (db.open) db.close();
  dirs.cleanup();
});

function setup(file = `${dirs.make()}/trellis.db`) {
  const db = openDb(file, { synchronous: 'normal' });
  open.push(db);
  let now = 1_000_000;
  const bus = testBus();
  const grants = new Grants(db, () => now, bus);
  return { db, file, grants, bus, tick: (ms: number) => (now += ms) };
}

describe('grants', () => {
  it('default deny: no grant, no recipient', () => {
    const { grants } = setup();
    expect(grants.recipients('usage', 'coffee-1')).toEqual([]);
    expect(grants.recipients('health')).toEqual([]);
  });

  it('a grant covers its devices (by id, tag or *) and only its data classes', () => {
    const { db, grants } = setup();
    db.prepare("INSERT INTO device_meta (device_id, tags) VALUES ('fridge-2', '[\"fridges\"]')").run();
    grants.add({ providerId: 'coolco', devices: ['fridge-1', 'tag:fridges'], classes: ['maintenance'] });
    grants.add({ providerId: 'auditor', devices: ['*'], classes: ['usage', 'health'], identity: true });
    const to = (cls: Parameters<typeof grants.recipients>[0], d?: string) =>
      grants
        .recipients(cls, d)
        .map((r) => r.providerId)
        .sort();
    expect(to('maintenance', 'fridge-1')).toEqual(['coolco']);
    expect(to('maintenance', 'fridge-2')).toEqual(['coolco']);
    expect(to('maintenance', 'coffee-1')).toEqual([]);
    expect(to('usage', 'fridge-1')).toEqual(['auditor']);
    expect(to('health')).toEqual(['auditor']);
    expect(to('alerts')).toEqual([]);
    expect(grants.recipients('usage', 'fridge-1')).toEqual([{ providerId: 'auditor', deviceRef: 'fridge-1' }]); // identity granted
  });

  it('pseudonyms are stable per provider, differ across providers, and survive a restart', () => {
    const { file, grants } = setup();
    const a = grants.pseudonym('coolco', 'fridge-1');
    expect(a).toMatch(/^d-[a-z2-7]{20}$/);
    expect(grants.pseudonym('coolco', 'fridge-1')).toBe(a);
    expect(grants.pseudonym('beanco', 'fridge-1')).not.toBe(a);
    expect(grants.pseudonym('coolco', 'fridge-2')).not.toBe(a);
    open.pop()?.close();
    expect(setup(file).grants.pseudonym('coolco', 'fridge-1')).toBe(a);
    expect(setup().grants.pseudonym('coolco', 'fridge-1')).not.toBe(a); // another gateway, another secret
  });

  it('expiry and revocation end a grant', () => {
    const { grants, bus, tick } = setup();
    const g = grants.add({ providerId: 'coolco', devices: ['*'], classes: ['usage'], expiresAt: 1_000_000 + 60_000 });
    const h = grants.add({ providerId: 'beanco', devices: ['*'], classes: ['usage'] });
    expect(grants.recipients('usage', 'x').map((r) => r.providerId)).toEqual(['coolco', 'beanco']);
    tick(60_001);
    expect(grants.recipients('usage', 'x').map((r) => r.providerId)).toEqual(['beanco']);
    let told = 0;
    bus.on(setup, 'grantRevoked', () => void told++);
    expect(grants.revoke(h.id)?.revokedAt).toBe(1_060_001);
    expect(grants.revoke(h.id)).toBeUndefined();
    expect(told).toBe(1);
    expect(grants.recipients('usage', 'x')).toEqual([]);
    expect(grants.list(true).map((x) => x.id)).toEqual([g.id, h.id]);
  });

  it('commands: only granted attributes on granted devices, addressed by pseudonym', () => {
    const { grants } = setup();
    grants.add({ providerId: 'beanco', devices: ['coffee-1'], classes: [], commands: ['power'] });
    const ref = grants.pseudonym('beanco', 'coffee-1');
    const ids = ['coffee-1', 'coffee-2'];
    expect(grants.commandGrant('beanco', ref, 'power', ids)?.deviceId).toBe('coffee-1');
    expect(grants.commandGrant('beanco', 'coffee-1', 'power', ids)).toBeUndefined(); // real id without an identity grant
    expect(grants.commandGrant('beanco', ref, 'descale', ids)).toBeUndefined();
    expect(grants.commandGrant('beanco', grants.pseudonym('beanco', 'coffee-2'), 'power', ids)).toBeUndefined();
    expect(grants.commandGrant('coolco', grants.pseudonym('coolco', 'coffee-1'), 'power', ids)).toBeUndefined();
  });

  it('refuses a malformed grant with the field at fault', () => {
    const { grants } = setup();
    expect(() => grants.add({ providerId: 'has space', devices: ['*'], classes: [] })).toThrow(/provider "has space"/);
    expect(() => grants.add({ providerId: 'ok', devices: [], classes: [] })).toThrow(/at least one device/);
    expect(() => grants.add({ providerId: 'ok', devices: ['*'], classes: ['secrets' as never] })).toThrow(/unknown data class "secrets"/);
  });
});
