// What users changed of the catalogue's defaults, per type and channel: only those rows are stored.
import { queryRows, sql, type Db } from '@paymesh/platform/db/open-database';
import { notificationsErrors } from '../errors.ts';
import { isErased } from '../messages/erased-recipients.ts';
import type { Channel } from '../messages/notification-types.ts';

export interface PreferenceChoice {
  readonly type: string;
  readonly channel: Channel;
  readonly enabled: boolean;
}

/** The user's stored choices, keyed `type/channel`. */
export async function storedPreferences(db: Db, userId: string): Promise<Map<string, boolean>> {
  const rows = await queryRows<PreferenceChoice>(db, sql`
    select type, channel, enabled from preferences where user_id = ${userId}`);
  return new Map(rows.map((r) => [`${r.type}/${r.channel}`, r.enabled]));
}

/** Stores the choices, all or none; a deleted user's are refused (404). */
export async function savePreferences(db: Db, userId: string, choices: readonly PreferenceChoice[]): Promise<void> {
  await db.transaction(async (tx) => {
    // A deleted user's token may live a few more seconds: nothing new is kept about them.
    if (await isErased(tx, userId)) throw notificationsErrors.recipientNotFound();
    for (const c of choices) {
      await tx.execute(sql`insert into preferences (user_id, type, channel, enabled) values (${userId}, ${c.type}, ${c.channel}, ${c.enabled})
        on conflict (user_id, type, channel) do update set enabled = excluded.enabled, updated_at = now()`);
    }
  });
}
