// Registers a push device for a user. A token registered again by its holder keeps its device
// (with the subscription's current keys); a token another user held starts a new device, so their
// queued pushes find no device rather than reaching the new holder of the phone.
import { queryRows, sql, type Db } from '@paymesh/platform/db/open-database';
import { notificationsErrors } from '../errors.ts';
import { isErased } from '../messages/erased-recipients.ts';
import { newId } from '../messages/new-id.ts';
import type { DeviceRow } from './device-store.ts';

const maxDevicesPerUser = 20;

export interface NewDevice {
  readonly platform: string;
  /** The device token, or a Web Push subscription's endpoint. */
  readonly token: string;
  /** A Web Push subscription's keys; null for the other platforms. */
  readonly keys: unknown;
}

export async function registerDevice(db: Db, userId: string, device: NewDevice): Promise<{ row: DeviceRow; created: boolean }> {
  const { platform, token, keys } = device;
  return db.transaction(async (tx) => {
    // A deleted user's token may live a few more seconds: nothing new is kept about them.
    if (await isErased(tx, userId)) throw notificationsErrors.recipientNotFound();
    // Serialises one user's registrations, so the cap holds under concurrency.
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext('devices'), hashtext(${userId}))`);
    // And the token's registrations, so that two users taking one token at once cannot both
    // insert it (the second would hit devices_token and answer 500). Always user lock first,
    // then token lock: no two registrations wait on each other in a cycle.
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext('device-token'), hashtext(${`${platform}:${token}`}))`);
    const [existing] = await queryRows<DeviceRow & { user_id: string }>(tx, sql`select * from devices where platform = ${platform} and token = ${token} for update`);
    if (existing !== undefined && String(existing.user_id) === userId) {
      // A browser that subscribed again may bring new keys for the same endpoint: pushes must
      // be encrypted for the keys it holds now.
      if (keys !== null) await tx.execute(sql`update devices set keys = ${JSON.stringify(keys)}::jsonb where id = ${existing.id}`);
      return { row: existing, created: false };
    }
    if (existing !== undefined) await tx.execute(sql`delete from devices where id = ${existing.id}`);
    const [count] = await queryRows<{ n: number }>(tx, sql`select count(*)::int as n from devices where user_id = ${userId}`);
    if (count!.n >= maxDevicesPerUser) throw notificationsErrors.tooManyDevices(maxDevicesPerUser);
    const [row] = await queryRows<DeviceRow>(tx, sql`insert into devices (id, user_id, platform, token, keys)
      values (${newId('dev')}, ${userId}, ${platform}, ${token}, ${keys === null ? null : JSON.stringify(keys)}::jsonb) returning *`);
    return { row: row!, created: true };
  });
}
