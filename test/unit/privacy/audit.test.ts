import { afterEach, describe, expect, it } from 'vitest';
import { AuditLog } from '../../../gateway/store/audit.ts';
import { openDb, type Db } from '../../../gateway/store/db.ts';
import { TempDirs } from '../../helpers/tempDir.ts';

const dirs = new TempDirs();
const open: Db[] = [];
afterEach(() => {
  for (const db of open.splice(0)) db.close();
  dirs.cleanup();
});

function withLog(rows = 5) {
  const db = openDb(`${dirs.make()}/trellis.db`, { synchronous: 'normal' });
  open.push(db);
  const log = new AuditLog(db, () => 1_000);
  for (let i = 1; i <= rows; i++) log.append('owner:Olive', 'grant.add', `provider-${i}`, { grant: i });
  return { db, log };
}

describe('audit log hash chain', () => {
  it('an untouched log verifies', () => {
    expect(withLog().log.verify()).toEqual({ ok: true, rows: 5 });
  });

  it('changing one row breaks verification at that row', () => {
    const { db, log } = withLog();
    db.prepare('UPDATE audit_log SET details = \'{"grant":99}\' WHERE id = 3').run();
    expect(log.verify()).toEqual({ ok: false, id: 3, reason: 'its content does not match its hash (it was changed)' });
  });

  it("recomputing the changed row's hash moves the break to the next row", () => {
    const { db, log } = withLog();
    db.prepare("UPDATE audit_log SET actor = 'owner:Mallory', hash = 'f00d' WHERE id = 2").run();
    const r = log.verify();
    expect(r.ok).toBe(false);
    expect(r.ok === false && r.id).toBe(2);
    db.prepare('UPDATE audit_log SET hash = (SELECT prev_hash FROM audit_log WHERE id = 3) WHERE id = 2').run(); // hide the edit from row 2
    expect(log.verify()).toEqual({ ok: false, id: 2, reason: 'its content does not match its hash (it was changed)' });
  });

  it('deleting a row breaks the chain at the row after it', () => {
    const { db, log } = withLog();
    db.prepare('DELETE FROM audit_log WHERE id = 4').run();
    expect(log.verify()).toEqual({ ok: false, id: 5, reason: 'its link to the previous row is broken (a row before it was removed or changed)' });
  });
});
