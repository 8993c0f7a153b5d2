// POST /payments/:id/refunds, in two phases so that money is never returned twice:
//  1. reserve: with the payment row locked, check what is left to refund, raise amount_refunded,
//     and write the refund as `pending` with a pending ledger transfer (refunds → clearing for a
//     card, refunds → wallet for a wallet payment) and `refund.created`. Concurrent refunds of one
//     payment queue on the row lock, so their total can never pass what was received.
//  2. ask the processor, outside any transaction, with the refund id as idempotency key;
//  3. finish: post the pending transfer (succeeded) or void it and give the amount back to the
//     payment (failed), and announce the outcome.
// If the processor cannot be reached, or the process dies after phase 1, the refund stays pending
// (shown as such, as Stripe does) and `resumePendingRefunds` finishes it later with the same key.
// Phase 1 records the refund's id on the request's Idempotency-Key, so a retry of a request that
// died resumes that refund (same processor key) instead of reserving a second one.
import { mayActFor, type Caller } from '@paymesh/platform/auth/caller';
import { queryRows, sql, type Db } from '@paymesh/platform/db/open-database';
import { enqueue } from '@paymesh/platform/events/enqueue';
import { RefundCreated, RefundFailed, RefundSucceeded } from '../events.ts';
import { paymentsErrors } from '../errors.ts';
import { recordIdempotencyResource } from '../idempotency/idempotency-key.ts';
import type { Hold, Outcome, StoreOutcome } from '../idempotency/idempotent-post.ts';
import { accounts } from '../ledger/ledger-accounts.ts';
import { formatAmount } from '../money/parse-amount.ts';
import type { PaymentsContext } from '../payments-context.ts';
import { assertAction } from '../payments/payment-status.ts';
import { lockPayment } from '../payments/payment-store.ts';
import { ProcessorUnavailableError } from '../processor/card-processor.ts';
import { newRefundId, publicRefund, refundColumns, refundEventData, type RefundRow } from './refund.ts';

interface Reserved {
  readonly refund: RefundRow;
  /** The payment's processor authorisation; none for a wallet payment. */
  readonly authorization: string | null;
}

export async function createRefund(ctx: PaymentsContext, caller: Caller, paymentId: string, amount: bigint | undefined, reason: string | undefined, hold: Hold, store: StoreOutcome): Promise<Outcome> {
  const render = (row: RefundRow): Outcome => row.status === 'failed'
    ? { status: 402, body: JSON.stringify(paymentsErrors.refundFailed(row.failure_reason ?? 'refused', { refund: publicRefund(row) }).toBody()) }
    : { status: 200, body: JSON.stringify(publicRefund(row)) };
  const resumed = hold.resource === undefined ? undefined : await resumableRefund(ctx, hold.resource, paymentId);
  if (resumed !== undefined && resumed.refund.status !== 'pending') {
    // Finished by the sweeper after the request that began it died: that is the outcome.
    const outcome = render(resumed.refund);
    await store(ctx.db, outcome);
    return outcome;
  }
  const claim = hold.lease.claim;
  const reserved = resumed ?? await ctx.db.transaction(async (tx) => {
    const reserved = await reserveRefund(ctx, tx, caller, paymentId, amount, reason);
    if (claim !== undefined) await recordIdempotencyResource(tx, claim.scope, claim.key, hold.lease.token, reserved.refund.id);
    return reserved;
  });
  const result = await askProcessor(ctx, reserved.authorization, reserved.refund);
  if (result === undefined) {
    // Pending: the answer is the refund as it stands, and the sweeper will finish it.
    const outcome = render(reserved.refund);
    await store(ctx.db, outcome);
    return outcome;
  }
  let outcome: Outcome | undefined;
  await finishRefund(ctx, reserved.refund.id, result, async (tx, row) => {
    outcome = render(row);
    await store(tx, outcome);
  });
  if (outcome !== undefined) return outcome;
  // The sweeper finished it meanwhile: answer with the refund as it now is.
  const [now] = await queryRows<RefundRow>(ctx.db, sql`select ${refundColumns} from refunds where id = ${reserved.refund.id}`);
  return render(now!);
}

/** The refund that a request which died began under this request's Idempotency-Key. */
async function resumableRefund(ctx: PaymentsContext, refundId: string, paymentId: string): Promise<Reserved | undefined> {
  const [refund] = await queryRows<RefundRow>(ctx.db, sql`select ${refundColumns} from refunds where id = ${refundId} and payment_id = ${paymentId}`);
  if (refund === undefined) return undefined;
  const [payment] = await queryRows<{ processor_authorization: string | null }>(ctx.db, sql`select processor_authorization from payments where id = ${paymentId}`);
  ctx.metrics.resumedAttempts.inc({ operation: 'refund' });
  return { refund, authorization: payment!.processor_authorization };
}

export async function reserveRefund(ctx: PaymentsContext, tx: Db, caller: Caller, paymentId: string, amount: bigint | undefined, reason: string | undefined): Promise<Reserved> {
  const payment = await lockPayment(tx, paymentId, (p) => mayActFor(caller, p.user_id));
  assertAction(payment.status, 'refund');
  const currency = payment.currency.trim();
  const refundable = BigInt(payment.amount_received) - BigInt(payment.amount_refunded);
  if (refundable === 0n) throw paymentsErrors.alreadyRefunded();
  const refunded = amount ?? refundable;
  if (refunded > refundable) throw paymentsErrors.amountTooLarge('amount', `Refund amount ${formatAmount(refunded, currency)} is greater than what is left to refund (${formatAmount(refundable, currency)}).`);
  const id = newRefundId();
  const transferId = await ctx.ledger.transfer(tx, {
    debit: accounts.refunds(currency),
    credit: payment.payment_method_type === 'wallet' ? accounts.wallet(payment.user_id, currency) : accounts.processorClearing(currency),
    amountMinor: refunded,
    currency,
    kind: 'refund',
    pending: true,
    paymentId: payment.id,
    reference: id,
  });
  await tx.execute(sql`update payments set amount_refunded = amount_refunded + ${refunded.toString()}::bigint, updated_at = now() where id = ${payment.id}`);
  const [refund] = await queryRows<RefundRow>(tx, sql`
    insert into refunds (id, payment_id, amount_minor, currency, status, reason, transfer_id, created_by)
    values (${id}, ${payment.id}, ${refunded.toString()}::bigint, ${currency}, 'pending', ${reason ?? null}, ${transferId}, ${`${caller.kind}:${caller.subject}`})
    returning ${refundColumns}`);
  await enqueue(tx, RefundCreated, refundEventData(refund!, payment.user_id));
  return { refund: refund!, authorization: payment.processor_authorization };
}

type Result = { readonly status: 'succeeded'; readonly refund: string | null } | { readonly status: 'failed'; readonly reason: string };

/** The processor's answer, or undefined when it could not be reached (the refund stays pending). */
async function askProcessor(ctx: PaymentsContext, authorization: string | null, refund: Pick<RefundRow, 'id' | 'amount_minor' | 'currency'>): Promise<Result | undefined> {
  // A wallet payment, or one recorded before payment methods existed, is refunded in the ledger alone.
  if (authorization === null) return { status: 'succeeded', refund: null };
  try {
    return await ctx.processor.refund({ authorization, amountMinor: BigInt(refund.amount_minor), currency: refund.currency.trim(), idempotencyKey: refund.id });
  } catch (error) {
    if (!(error instanceof ProcessorUnavailableError)) throw error;
    ctx.runtime.logger.warn({ err: error, refund: refund.id }, 'processor unavailable; the refund stays pending and will be retried');
    return undefined;
  }
}

/** Phase 3. Returns undefined when someone else (the request or the sweeper) finished it first. */
async function finishRefund(ctx: PaymentsContext, refundId: string, result: Result, inTransaction?: (tx: Db, row: RefundRow) => Promise<void>): Promise<RefundRow | undefined> {
  const finished = await ctx.db.transaction(async (tx) => {
    const [pending] = await queryRows<RefundRow & { transfer_id: string; user_id: string }>(tx, sql`
      select r.id, r.payment_id, r.amount_minor, r.currency, r.status, r.reason, r.failure_reason, r.created_at, r.transfer_id, p.user_id
      from refunds r join payments p on p.id = r.payment_id where r.id = ${refundId} for update of r`);
    if (pending === undefined || pending.status !== 'pending') return undefined;
    let row: RefundRow;
    if (result.status === 'succeeded') {
      await ctx.ledger.postPending(tx, pending.transfer_id);
      [row] = await queryRows<RefundRow>(tx, sql`update refunds set status = 'succeeded', processor_refund = ${result.refund}, updated_at = now()
        where id = ${refundId} returning ${refundColumns}`) as [RefundRow];
    } else {
      await ctx.ledger.voidPending(tx, pending.transfer_id);
      await tx.execute(sql`update payments set amount_refunded = amount_refunded - ${pending.amount_minor}::bigint, updated_at = now() where id = ${pending.payment_id}`);
      [row] = await queryRows<RefundRow>(tx, sql`update refunds set status = 'failed', failure_reason = ${result.reason}, updated_at = now()
        where id = ${refundId} returning ${refundColumns}`) as [RefundRow];
    }
    await enqueue(tx, row.status === 'succeeded' ? RefundSucceeded : RefundFailed, refundEventData(row, pending.user_id));
    await inTransaction?.(tx, row);
    return row;
  });
  if (finished === undefined) return undefined;
  if (finished.status === 'succeeded') ctx.metrics.refunded.inc({ currency: finished.currency.trim() }, Number(finished.amount_minor));
  return finished;
}

/** Finishes refunds left pending for longer than `olderThanSec` (processor down, or a crash between phases). */
export async function resumePendingRefunds(ctx: PaymentsContext, olderThanSec: number): Promise<number> {
  const stuck = await queryRows<{ id: string; amount_minor: string; currency: string; authorization: string | null }>(ctx.db, sql`
    select r.id, r.amount_minor, r.currency, p.processor_authorization as authorization from refunds r join payments p on p.id = r.payment_id
    where r.status = 'pending' and r.created_at < now() - make_interval(secs => ${olderThanSec}) order by r.created_at limit 100`);
  let finished = 0;
  for (const refund of stuck) {
    const result = await askProcessor(ctx, refund.authorization, refund);
    if (result !== undefined && (await finishRefund(ctx, refund.id, result)) !== undefined) finished++;
  }
  return finished;
}
