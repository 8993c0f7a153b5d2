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

/** The id of the user's newest notification (0 when there is none) and their unread count, in one snapshot. */
export async function inboxHead(db: Db, recipientId: string): Promise<{ newestId: bigint; unread: number }> {
  const [row] = await queryRows<{ newest: string | null; unread: string | null }>(db, sql`
    select (select max(id) from notifications where recipient_id = ${recipientId})::text as newest,
      (select unread from inbox_heads where recipient_id = ${recipientId})::text as unread`);
  return { newestId: BigInt(row?.newest ?? 0), unread: Number(row?.unread ?? 0) };
}

/**
 * The user's notifications after `afterId` (oldest first, at most `limit`) and their unread count,
 * in one statement: one snapshot, so the count is the count with exactly those notifications.
 */
export async function inboxSince(db: Db, recipientId: string, afterId: bigint, limit: number): Promise<{ rows: NotificationRow[]; unread: number }> {
  // Always one row at least (the left joins); a row without an id means no notification after `afterId`.
  const rows = await queryRows<NotificationRow & { unread_count: string | null }>(db, sql`
    select h.unread::text as unread_count, n.*
    from (select ${recipientId}::bigint as rid) r
    left join inbox_heads h on h.recipient_id = r.rid
    left join lateral (select * from notifications where recipient_id = r.rid and id > ${afterId.toString()} order by id limit ${limit}) n on true
    order by n.id`);
  return {
    rows: rows.filter((row) => row.id !== null).map(({ unread_count: _, ...row }) => row),
    unread: Number(rows[0]?.unread_count ?? 0),
  };
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
