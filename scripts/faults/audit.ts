// What the fault runner checks after each scenario, read off the services' own databases and
// compared with what the load client saw: no acknowledged payment lost or doubled, none created
// that nobody asked for, the ledger's invariants, one inbox notification per succeeded payment,
// unread counts that moved by exactly that, keys that recovered, and how late things were.
import { queryRows, sql, type Db } from '@paymesh/platform/db/open-database';
// The payments service exports only its app; the runner reaches its invariant checker, as the benchmark does.
import { checkLedgerInvariants } from '../../services/payments/src/ledger/check-invariants.ts';
import { worst409Seconds, type LoadRecord } from './load-client.ts';

/** A key may answer 409 for at most this long after its request died (issue 12 §4). */
export const max409Seconds = 5;
/** A notification may arrive at most this long after its payment, or after the fault ended. */
export const maxNotificationDelaySeconds = 5;

/** Where a scenario's rows start: everything after this was written during it. */
export interface AuditBaseline {
  readonly paymentSeq: string;
  readonly notificationId: string;
}

export interface AuditInput {
  readonly payments: Db;
  readonly notifications: Db;
  readonly baseline: AuditBaseline;
  readonly record: LoadRecord;
  /** Unread counts per user id (from the API) before the load and after the notifications settled. */
  readonly unreadBefore: ReadonlyMap<string, number>;
  readonly unreadAfter: ReadonlyMap<string, number>;
  /** When the fault ended (ms since the epoch): notifications are late from then on, not before. */
  readonly recoveredAt: number;
}

export interface AuditResult {
  readonly payments: number;
  readonly acked: number;
  readonly lost: number;
  readonly dup: number;
  readonly phantom: number;
  readonly ledgerViolations: number;
  readonly notificationsMissing: number;
  readonly notificationsExtra: number;
  readonly unreadOff: number;
  readonly worst409Seconds: number;
  readonly worstNotificationSeconds: number;
  /** The median of the same delays: a few late ones or all of them. */
  readonly medianNotificationSeconds: number;
  readonly errors: number;
  /** Each failed rule, in words; empty when the scenario passed. */
  readonly failures: string[];
}

export async function readBaseline(payments: Db, notifications: Db): Promise<AuditBaseline> {
  const [p] = await queryRows<{ seq: string }>(payments, sql`select coalesce(max(seq), 0)::text as seq from payments`);
  const [n] = await queryRows<{ id: string }>(notifications, sql`select coalesce(max(id), 0)::text as id from notifications`);
  return { paymentSeq: p!.seq, notificationId: n!.id };
}

interface PaymentRow { id: string; user_id: string; amount_minor: string; status: string; description: string | null; created_ms: number }
interface NotificationRow { recipient_id: string; type: string; payment_id: string | null; sent_ms: number }

export function paymentsSince(payments: Db, baseline: AuditBaseline): Promise<PaymentRow[]> {
  return queryRows<PaymentRow>(payments, sql`
    select id, user_id::text, amount_minor::text, status, description, (extract(epoch from created_at) * 1000)::float8 as created_ms
    from payments where seq > ${baseline.paymentSeq}::bigint`);
}

export async function auditScenario(input: AuditInput): Promise<AuditResult> {
  const failures: string[] = [];
  const { record } = input;
  const rows = await paymentsSince(input.payments, input.baseline);
  const byKey = new Map<string, PaymentRow[]>();
  let phantom = 0;
  for (const row of rows) {
    const outcome = row.description === null ? undefined : record.keys.get(row.description);
    if (outcome === undefined) {
      phantom++;
      continue;
    }
    byKey.set(outcome.key, [...(byKey.get(outcome.key) ?? []), row]);
    if (row.user_id !== outcome.userId || BigInt(row.amount_minor) !== outcome.amountMinor) failures.push(`payment ${row.id} does not match its request ${outcome.key}`);
  }
  let acked = 0;
  let lost = 0;
  let dup = 0;
  for (const outcome of record.keys.values()) {
    const stored = byKey.get(outcome.key) ?? [];
    if (stored.length > 1) dup += stored.length - 1;
    if (outcome.paymentId === undefined) continue;
    acked++;
    if (!stored.some((row) => row.id === outcome.paymentId)) lost++;
  }
  if (lost > 0) failures.push(`${lost} acknowledged payments are not stored`);
  if (dup > 0) failures.push(`${dup} payments stored twice for one key`);
  if (phantom > 0) failures.push(`${phantom} payments nobody asked for`);
  const unanswered = record.keys.size - acked;
  if (unanswered > 0) failures.push(`${unanswered} keys never acknowledged before their deadline`);

  const violations = await checkLedgerInvariants(input.payments);
  if (violations.length > 0) failures.push(`ledger: ${violations.slice(0, 3).map((v) => `${v.rule} (${v.detail})`).join('; ')}`);

  // One payment.succeeded notification per succeeded payment, to its payer, and no other payment
  // notification (sign-up messages written before the load are not the load's).
  const notifications = await queryRows<NotificationRow>(input.notifications, sql`
    select recipient_id::text, type, data->>'payment_id' as payment_id, (extract(epoch from sent_at) * 1000)::float8 as sent_ms
    from notifications where id > ${input.baseline.notificationId}::bigint and type like 'payment.%'`);
  const succeeded = new Map(rows.filter((row) => row.status === 'succeeded').map((row) => [row.id, row]));
  const seen = new Map<string, number>();
  let notificationsExtra = 0;
  let worstNotificationMs = 0;
  const delaysMs: number[] = [];
  for (const n of notifications) {
    const payment = n.payment_id === null ? undefined : succeeded.get(n.payment_id);
    if (n.type !== 'payment.succeeded' || payment === undefined || payment.user_id !== n.recipient_id) {
      notificationsExtra++;
      continue;
    }
    seen.set(payment.id, (seen.get(payment.id) ?? 0) + 1);
    if (seen.get(payment.id)! > 1) notificationsExtra++;
    delaysMs.push(n.sent_ms - Math.max(payment.created_ms, input.recoveredAt));
    worstNotificationMs = Math.max(worstNotificationMs, delaysMs.at(-1)!);
  }
  const notificationsMissing = [...succeeded.keys()].filter((id) => !seen.has(id)).length;
  if (notificationsMissing > 0) failures.push(`${notificationsMissing} succeeded payments without their notification`);
  if (notificationsExtra > 0) failures.push(`${notificationsExtra} notifications too many`);

  // Nothing else writes to these inboxes during the run: each unread count grows by its payer's succeeded payments.
  const perUser = new Map<string, number>();
  for (const row of succeeded.values()) perUser.set(row.user_id, (perUser.get(row.user_id) ?? 0) + 1);
  let unreadOff = 0;
  for (const [userId, before] of input.unreadBefore) {
    if ((input.unreadAfter.get(userId) ?? Number.NaN) - before !== (perUser.get(userId) ?? 0)) unreadOff++;
  }
  if (unreadOff > 0) failures.push(`${unreadOff} users' unread counts are off`);

  const worst409 = worst409Seconds(record);
  if (worst409 > max409Seconds) failures.push(`a key answered 409 for ${worst409.toFixed(1)} s (limit ${max409Seconds} s)`);
  const worstNotificationSeconds = Math.max(0, worstNotificationMs / 1000);
  if (worstNotificationSeconds > maxNotificationDelaySeconds) failures.push(`a notification came ${worstNotificationSeconds.toFixed(1)} s after its payment or the recovery (limit ${maxNotificationDelaySeconds} s)`);

  return {
    payments: record.keys.size, acked, lost, dup, phantom,
    ledgerViolations: violations.length,
    notificationsMissing, notificationsExtra, unreadOff,
    worst409Seconds: worst409, worstNotificationSeconds,
    medianNotificationSeconds: Math.max(0, (delaysMs.sort((a, b) => a - b)[Math.floor(delaysMs.length / 2)] ?? 0) / 1000),
    errors: [...record.errors.values()].reduce((a, b) => a + b, 0),
    failures,
  };
}
