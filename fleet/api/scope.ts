import type { Queryable } from '../db/fleetDb.ts';
import type { User } from '../people.ts';
import { HttpError } from './context.ts';

export interface DeviceKey {
  readonly gatewayId: string;
  readonly deviceRef: string;
}

/** The devices of a technician's tickets that are not closed: all a technician may see or act on. */
export async function technicianDevices(db: Queryable, userId: number): Promise<DeviceKey[]> {
  return db.query<DeviceKey>(`SELECT DISTINCT gateway_id AS "gatewayId", device_ref AS "deviceRef" FROM tickets WHERE assignee_id = $1 AND state <> 'closed'`, [
    userId,
  ]);
}

/** Throws 403 unless the user may act on this device (everyone but a technician may; a technician only on its tickets' devices). */
export async function mayTouch(db: Queryable, user: User, key: DeviceKey): Promise<void> {
  if (user.role !== 'technician') return;
  const mine = await technicianDevices(db, user.id);
  if (!mine.some((d) => d.gatewayId === key.gatewayId && d.deviceRef === key.deviceRef))
    throw new HttpError(403, 'a technician may act only on the devices of its own open tickets');
}
