import { queryRows, sql, type Db } from '@paymesh/platform/db/open-database';
import { isCatalogued, type Channel, type NotificationType } from '../messages/notification-types.ts';

/**
 * The channels a message of this type goes to for this user: the type's, minus what they switched
 * off. A custom type (an admin's) follows the user's choices for `message`.
 */
export async function enabledChannels(db: Db, userId: string, type: NotificationType): Promise<Set<Channel>> {
  const enabled = new Set(type.channels);
  if (type.locked) return enabled;
  const rows = await queryRows<{ channel: Channel; enabled: boolean }>(db, sql`
    select channel, enabled from preferences where user_id = ${userId} and type = ${isCatalogued(type.type) ? type.type : 'message'}`);
  for (const row of rows) if (!row.enabled) enabled.delete(row.channel);
  return enabled;
}
