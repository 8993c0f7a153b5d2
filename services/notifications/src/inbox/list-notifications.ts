// One page of a user's inbox, newest first; `starting_after` is a notification id from the
// previous page, resolved among the same user's notifications (another user's id is no cursor).
import { queryRows, sql, type Db } from '@paymesh/platform/db/open-database';
import { notificationsErrors } from '../errors.ts';
import type { NotificationRow } from './notification.ts';
import { pageOf } from '@paymesh/platform/pagination';

export interface InboxPage {
  readonly limit: number;
  readonly startingAfter: string | undefined;
  readonly unreadOnly: boolean;
}

export async function listNotifications(db: Db, recipientId: string, page: InboxPage): Promise<{ rows: NotificationRow[]; hasMore: boolean }> {
  let cursor = sql`true`;
  if (page.startingAfter !== undefined) {
    const [found] = await queryRows<{ id: string }>(db, sql`select id from notifications where id = ${page.startingAfter} and recipient_id = ${recipientId}`);
    if (found === undefined) throw notificationsErrors.invalidCursor();
    cursor = sql`id < ${found.id}`;
  }
  const unread = page.unreadOnly ? sql`read_at is null` : sql`true`;
  const rows = await queryRows<NotificationRow>(db, sql`
    select * from notifications where recipient_id = ${recipientId} and ${cursor} and ${unread}
    order by id desc limit ${page.limit + 1}`);
  return pageOf(rows, page.limit);
}
