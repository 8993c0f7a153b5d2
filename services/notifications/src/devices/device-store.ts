// A user's push devices as stored: listed and removed by their owner only.
import { queryRows, sql, type Db } from '@paymesh/platform/db/open-database';

export interface DeviceRow { id: string; platform: 'ios' | 'android' | 'web'; token: string; created_at: string | Date }

/** The user's devices, newest first. */
export function devicesOf(db: Db, userId: string): Promise<DeviceRow[]> {
  return queryRows<DeviceRow>(db, sql`select * from devices where user_id = ${userId} order by created_at desc`);
}

/** Removes one of the user's devices. False: no such device of theirs. */
export async function deleteDevice(db: Db, userId: string, id: string): Promise<boolean> {
  const rows = await queryRows(db, sql`delete from devices where id = ${id} and user_id = ${userId} returning id`);
  return rows.length > 0;
}
