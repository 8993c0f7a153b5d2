import { Type, type Static } from '@fastify/type-provider-typebox';
import { sql } from '@paymesh/platform/db/open-database';
import { queryRows, type Db } from '@paymesh/platform/db/open-database';
import { announceInboxChange } from './announce-inbox-change.ts';

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

/** A notification as the API shows it (publicNotification); also each live stream's `notification` event. */
export const notificationSchema = Type.Object({
  id: Type.Integer({ description: 'The notification\'s id; ids grow with time, so the newest has the largest.' }),
  message: Type.String(),
  sent_at: Type.String({ format: 'date-time' }),
  read_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], { description: 'When it was first marked read; null while unread.' }),
  type: Type.String({ description: 'The notification type (`payment.succeeded`, `message`, or a custom type an admin or service sent; GET /notifications/preferences lists the catalogue).' }),
  title: Type.Union([Type.String(), Type.Null()]),
  data: Type.Record(Type.String(), Type.Unknown(), { description: 'The sender\'s details (a payment\'s id and amount, `action_url` …); `{}` when none.' }),
}, { description: 'A notification in the user\'s inbox.' });

export type PublicNotification = Static<typeof notificationSchema>;

/** The contract's shape ({id, message, sent_at, read_at}) plus what the richer inbox needs. */
export function publicNotification(row: NotificationRow): PublicNotification {
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

/** Inserts and announces it to live streams; call it in a transaction. */
export async function insertNotification(tx: Db, input: NewNotification): Promise<NotificationRow> {
  // Held until commit: this recipient's next notification waits, so ids follow commit order.
  await tx.execute(sql`insert into inbox_heads (recipient_id, last_insert_at) values (${input.recipientId}, now())
    on conflict (recipient_id) do update set last_insert_at = excluded.last_insert_at`);
  await announceInboxChange(tx, input.recipientId);
  const [row] = await queryRows<NotificationRow>(tx, sql`
    insert into notifications (recipient_id, type, title, message, data)
    values (${input.recipientId}, ${input.type}, ${input.title ?? null}, ${input.message}, ${JSON.stringify(input.data)}::jsonb)
    returning *`);
  return row!;
}
