import { Type, type Static } from '@fastify/type-provider-typebox';
import { sql } from '@paymesh/platform/db/open-database';
import { queryRows, type Db } from '@paymesh/platform/db/open-database';
import { announceInboxChanges } from './announce-inbox-change.ts';

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

/**
 * Notifications in one statement per table (a group of events' messages, or one), each announced
 * to its recipient's live streams with the request id and trace of the change that made it.
 * Returns their rows in the order of `inputs`.
 */
export async function insertNotifications(tx: Db, inputs: readonly (NewNotification & { readonly requestId: string | undefined; readonly traceparent: string | undefined })[]): Promise<NotificationRow[]> {
  if (inputs.length === 0) return [];
  // Held until commit: a recipient's next notification waits, so ids follow commit order. Taken
  // in id order, in one statement, before any id is drawn.
  const recipients = JSON.stringify([...new Set(inputs.map((input) => input.recipientId))]);
  await tx.execute(sql`insert into inbox_heads (recipient_id, last_insert_at)
    select r::bigint, now() from jsonb_array_elements_text(${recipients}::jsonb) as r order by 1
    on conflict (recipient_id) do update set last_insert_at = excluded.last_insert_at`);
  // One announcement per inbox: the streams read everything new in it.
  await announceInboxChanges(tx, inputs.filter((input, i) => inputs.findIndex((other) => other.recipientId === input.recipientId) === i));
  const rows = JSON.stringify(inputs.map((input, n) => ({ n, recipient_id: input.recipientId, type: input.type, title: input.title ?? null, message: input.message, data: input.data })));
  // PostgreSQL inserts the rows of INSERT … SELECT … ORDER BY in that order and returns them in the
  // order it inserted them; the identity column draws in that order too.
  const inserted = await queryRows<NotificationRow>(tx, sql`
    insert into notifications (recipient_id, type, title, message, data)
    select recipient_id, type, title, message, data
    from jsonb_to_recordset(${rows}::jsonb) as x(n int, recipient_id bigint, type text, title text, message text, data jsonb) order by n
    returning *`);
  // Checked, not assumed: a row matched to the wrong input would put one user's notification id
  // in another's deliveries. Thrown, the group rolls back and each message is dispatched alone.
  if (inserted.length !== inputs.length || inserted.some((row, k) => String(row.recipient_id) !== inputs[k]!.recipientId || row.message !== inputs[k]!.message)) {
    throw new Error(`the notifications inserted do not match their inputs in order (${inserted.length} rows for ${inputs.length})`);
  }
  return inserted;
}
