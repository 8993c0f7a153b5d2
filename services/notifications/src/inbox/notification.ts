import { sql } from '@paymesh/platform/db/open-database';
import { queryRows, type Db } from '@paymesh/platform/db/open-database';

export interface NotificationRow {
  id: string;
  recipient_id: string;
  type: string;
  title: string | null;
  message: string;
  data: Record<string, unknown>;
  sent_at: string | Date;
  read_at: string | Date | null;
}

/** The contract's shape ({id, message, sent_at, read_at}) plus what the richer inbox needs. */
export function publicNotification(row: NotificationRow) {
  return {
    id: Number(row.id),
    message: row.message,
    sent_at: new Date(row.sent_at).toISOString(),
    read_at: row.read_at === null ? null : new Date(row.read_at).toISOString(),
    type: row.type,
    title: row.title,
    data: row.data,
  };
}

export interface NewNotification {
  readonly recipientId: string;
  readonly type: string;
  readonly title: string | undefined;
  readonly message: string;
  readonly data: Record<string, unknown>;
}

export async function insertNotification(db: Db, input: NewNotification): Promise<NotificationRow> {
  const [row] = await queryRows<NotificationRow>(db, sql`
    insert into notifications (recipient_id, type, title, message, data)
    values (${input.recipientId}, ${input.type}, ${input.title ?? null}, ${input.message}, ${JSON.stringify(input.data)}::jsonb)
    returning *`);
  return row!;
}
