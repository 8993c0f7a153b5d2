import { isAdmin, localUserId, type Caller } from '@paymesh/platform/auth/caller';
import { sql, type SQL } from '@paymesh/platform/db/open-database';

export interface DeliveryRow {
  id: string;
  recipient_id: string;
  notification_id: string | null;
  type: string;
  channel: 'email' | 'push' | 'webhook';
  target_id: string | null;
  status: 'pending' | 'delivered' | 'dead' | 'canceled';
  attempts: number;
  next_attempt_at: string | Date;
  last_error: string | null;
  created_at: string | Date;
  delivered_at: string | Date | null;
  seq: string;
  payload_erased?: boolean;
}

export interface AttemptRow { attempt: number; attempted_at: string | Date; outcome: string; status_code: number | null; error: string | null; response: string | null; duration_ms: number }

/**
 * Who sees a delivery: email and push ones are their recipient's; a webhook delivery belongs to the
 * endpoint's owner (an admin's endpoint for every user is not the users' to inspect). Admins see all.
 */
export function visibleTo(caller: Caller): SQL {
  if (isAdmin(caller)) return sql`true`;
  const me = localUserId(caller);
  return sql`((d.channel <> 'webhook' and d.recipient_id = ${me})
    or (d.channel = 'webhook' and d.target_id in (select id from webhook_endpoints where owner_id = ${me})))`;
}

export function publicDelivery(row: DeliveryRow, attempts?: AttemptRow[]) {
  return {
    id: row.id,
    object: 'delivery',
    channel: row.channel,
    type: row.type,
    status: row.status,
    notification_id: row.notification_id === null ? null : Number(row.notification_id),
    device_id: row.channel === 'push' ? row.target_id : undefined,
    webhook_endpoint_id: row.channel === 'webhook' ? row.target_id : undefined,
    recipient_id: Number(row.recipient_id),
    attempts: row.attempts,
    last_error: row.last_error,
    next_attempt_at: row.status === 'pending' ? new Date(row.next_attempt_at).toISOString() : null,
    created_at: new Date(row.created_at).toISOString(),
    delivered_at: row.delivered_at === null ? null : new Date(row.delivered_at).toISOString(),
    ...(attempts === undefined ? {} : {
      attempt_log: attempts.map((a) => ({
        attempt: a.attempt,
        attempted_at: new Date(a.attempted_at).toISOString(),
        outcome: a.outcome,
        status_code: a.status_code,
        error: a.error,
        response: a.response,
        duration_ms: a.duration_ms,
      })),
    }),
  };
}
