// Reading a user's inbox, and the changes a user makes to it (read, unread, delete). Each change
// runs in a transaction that announces it to the live streams when it changed something.
import { queryRows, sql, type Db } from '@paymesh/platform/db/open-database';
import { announceInboxChange } from './announce-inbox-change.ts';
import type { NotificationRow } from './notification.ts';

/** Kept beside the inbox's head by the database's own triggers on notifications (migration 0006), so it cannot drift: one row to read. */
export async function unreadCount(db: Db, recipientId: string): Promise<number> {
  const [row] = await queryRows<{ n: string }>(db, sql`select unread::text as n from inbox_heads where recipient_id = ${recipientId}`);
  return Number(row?.n ?? 0);
}

/** The id of the user's newest notification (0 when there is none). */
export async function newestNotificationId(db: Db, recipientId: string): Promise<bigint> {
  const [newest] = await queryRows<{ id: string | null }>(db, sql`select max(id)::text as id from notifications where recipient_id = ${recipientId}`);
  return BigInt(newest?.id ?? 0);
}

/** The user's notifications after `afterId`, oldest first, at most `limit`. */
export function notificationsAfter(db: Db, recipientId: string, afterId: bigint, limit: number): Promise<NotificationRow[]> {
  return queryRows<NotificationRow>(db, sql`
    select * from notifications where recipient_id = ${recipientId} and id > ${afterId.toString()} order by id limit ${limit}`);
}

/** Runs a change of one user's inbox in a transaction that announces it to the live streams. */
async function changeInbox<T>(db: Db, recipientId: string, change: (tx: Db) => Promise<T[]>): Promise<T[]> {
  return db.transaction(async (tx) => {
    const result = await change(tx);
    if (result.length > 0) await announceInboxChange(tx, recipientId);
    return result;
  });
}

/** Marks one of the user's notifications read; the first read time is kept. False: no such notification of theirs. */
export async function markRead(db: Db, recipientId: string, id: string): Promise<boolean> {
  const rows = await changeInbox(db, recipientId, (tx) => queryRows<{ id: string }>(tx, sql`
    update notifications set read_at = coalesce(read_at, now()) where id = ${id} and recipient_id = ${recipientId} returning id`));
  return rows.length > 0;
}

/** Marks one of the user's notifications read (keeping the first read time) or unread. */
export async function setRead(db: Db, recipientId: string, id: string, read: boolean): Promise<NotificationRow | undefined> {
  const readAt = read ? sql`coalesce(read_at, now())` : sql`null`;
  const [row] = await changeInbox(db, recipientId, (tx) => queryRows<NotificationRow>(tx, sql`
    update notifications set read_at = ${readAt} where id = ${id} and recipient_id = ${recipientId} returning *`));
  return row;
}

/** Marks every unread notification of the user read; returns how many. */
export async function markAllRead(db: Db, recipientId: string): Promise<number> {
  const rows = await changeInbox(db, recipientId, (tx) => queryRows<{ id: string }>(tx, sql`
    update notifications set read_at = now() where recipient_id = ${recipientId} and read_at is null returning id`));
  return rows.length;
}

/** Deletes one of the user's notifications. False: no such notification of theirs. */
export async function deleteNotification(db: Db, recipientId: string, id: string): Promise<boolean> {
  const rows = await changeInbox(db, recipientId, (tx) => queryRows<{ id: string }>(tx, sql`
    delete from notifications where id = ${id} and recipient_id = ${recipientId} returning id`));
  return rows.length > 0;
}
