// A processor operation that moves or holds money (an authorisation, a capture, a void) is recorded
// before the processor hears of it, in a statement of its own, and forgotten in the transaction that
// records its outcome. A crash between the processor's answer and that commit therefore leaves a
// row behind: the client's retry with the same Idempotency-Key adopts it and calls the processor
// again with the same key, so the processor answers with the same charge instead of making a second
// one; if nobody retries, the reconciler settles it (reconcile-attempts.ts). A row is held by the
// lease of one request (request-lease.ts) and changes hands only in guarded statements, so an
// attempt is either recorded by one request or settled at the processor, never both.
import { randomBytes } from 'node:crypto';
import { queryRows, sql, type Db } from '@paymesh/platform/db/open-database';
import { holdWrite, type HeldWrite } from '@paymesh/platform/db/held-writes';
import { IdempotencyClaimLostError } from '../idempotency/idempotency-key.ts';
import { leaseEnd, type RequestLease } from '../idempotency/request-lease.ts';
import type { CardMethod } from './card-details.ts';
import { ProcessorUnavailableError, type AuthorizeRequest } from './card-processor.ts';

export type AttemptParameters =
  | {
    readonly operation: 'authorize';
    /** The payment (pay_…) or top-up (wtu_…) it pays for. */
    readonly targetId: string;
    readonly method: CardMethod;
    readonly amountMinor: bigint;
    readonly currency: string;
    readonly capture: boolean;
    readonly authenticated: boolean;
  }
  | { readonly operation: 'capture'; readonly targetId: string; readonly authorization: string; readonly amountMinor: bigint; readonly currency: string }
  | { readonly operation: 'void'; readonly targetId: string; readonly authorization: string };

export type ProcessorAttempt<P extends AttemptParameters = AttemptParameters> = P & {
  readonly id: string;
  /** The token of the request holding it (its lease's). */
  readonly holder: string;
  /** Adopted from a request that died, which may have called the processor. */
  readonly adopted: boolean;
  /** Whether the processor may have acted on it: once called (see `callProcessor`), or from the start when adopted. */
  sent: boolean;
  /** The reconciler's failed tries at settling it so far. */
  readonly tries: number;
};

/** The attempt failed to record its outcome because it is no longer this request's (adopted or settled by another). */
export class AttemptLostError extends Error {
  constructor() {
    super('the processor attempt was adopted or settled by another while this request ran; its outcome is not recorded');
    this.name = 'AttemptLostError';
  }
}

/** The processor's idempotency key for one step of an attempt: a retry that adopts it reaches the same operation. */
export function processorKey(attempt: { readonly id: string }, step: 'authorize' | 'capture' | 'void' | 'refund'): string {
  return `${attempt.id}:${step}`;
}

export function authorizeRequest(attempt: ProcessorAttempt<Extract<AttemptParameters, { operation: 'authorize' }>>): AuthorizeRequest {
  const { method, amountMinor, currency, authenticated, capture } = attempt;
  return { token: method.token, amountMinor, currency, authenticated, capture, idempotencyKey: processorKey(attempt, 'authorize') };
}

interface AttemptRow {
  id: string;
  operation: AttemptParameters['operation'];
  target_id: string;
  payment_method: CardMethod | null;
  processor_authorization: string | null;
  amount_minor: string | null;
  currency: string | null;
  capture: boolean;
  authenticated: boolean;
  holder: string;
  tries: number;
}

const attemptColumns = sql.raw('id, operation, target_id, payment_method, processor_authorization, amount_minor, currency, capture, authenticated, holder, tries');

function fromRow(row: AttemptRow): ProcessorAttempt {
  const base = { id: row.id, holder: row.holder, targetId: row.target_id, adopted: true, sent: true, tries: Number(row.tries) };
  switch (row.operation) {
    case 'authorize':
      return { ...base, operation: 'authorize', method: row.payment_method!, amountMinor: BigInt(row.amount_minor!), currency: row.currency!.trim(), capture: row.capture, authenticated: row.authenticated };
    case 'capture':
      return { ...base, operation: 'capture', authorization: row.processor_authorization!, amountMinor: BigInt(row.amount_minor!), currency: row.currency!.trim() };
    case 'void':
      return { ...base, operation: 'void', authorization: row.processor_authorization! };
  }
}

/**
 * The attempt that a request which died began under this request's Idempotency-Key, now held by
 * this request. The holder changes in one statement, so the old request, were it still running,
 * could neither record nor undo it any more.
 */
export async function adoptAttempt<O extends AttemptParameters['operation']>(db: Db, lease: RequestLease, operation: O): Promise<ProcessorAttempt<Extract<AttemptParameters, { operation: O }>> | undefined> {
  if (lease.claim === undefined) return undefined;
  const [row] = await queryRows<AttemptRow>(db, sql`update processor_attempts set holder = ${lease.token}, lease_expires_at = ${leaseEnd(lease.leaseMs)}
    where idempotency_scope = ${lease.claim.scope} and idempotency_key = ${lease.claim.key} and operation = ${operation} and state = 'started'
    returning ${attemptColumns}`);
  return row === undefined ? undefined : fromRow(row) as ProcessorAttempt<Extract<AttemptParameters, { operation: O }>>;
}

/**
 * Records a new attempt, committed before the processor is called. Undefined when it may not begin:
 * another operation on its target is in doubt, or the target payment is no longer in `status`
 * (checked under the payment's row lock, so a concurrent action that changed it is seen). Throws
 * when the request lost its Idempotency-Key meanwhile.
 */
export async function startAttempt<P extends AttemptParameters>(db: Db, lease: RequestLease, parameters: P, status?: string): Promise<ProcessorAttempt<P> | undefined> {
  const id = `att_${randomBytes(12).toString('base64url')}`;
  const p = parameters as AttemptParameters;
  const method = p.operation === 'authorize' ? JSON.stringify(p.method) : null;
  const authorization = p.operation === 'authorize' ? null : p.authorization;
  const amount = p.operation === 'void' ? null : p.amountMinor.toString();
  const currency = p.operation === 'void' ? null : p.currency;
  const claim = lease.claim;
  const claimHeld = claim === undefined ? sql`true` : sql`exists (select 1 from idempotency_keys
    where scope = ${claim.scope} and key = ${claim.key} and claim_token = ${lease.token} and state = 'in_flight' for update)`;
  const targetAsExpected = status === undefined ? sql`true` : sql`exists (select 1 from payments where id = ${p.targetId} and status = ${status} for update)`;
  const started = await queryRows(db, sql`
    insert into processor_attempts (id, operation, target_id, idempotency_scope, idempotency_key, payment_method, processor_authorization,
      amount_minor, currency, capture, authenticated, state, holder, lease_expires_at)
    select ${id}, ${p.operation}, ${p.targetId}, ${claim?.scope ?? null}, ${claim?.key ?? null}, ${method}::jsonb, ${authorization},
      ${amount}::bigint, ${currency}, ${p.operation === 'authorize' && p.capture}, ${p.operation === 'authorize' && p.authenticated}, 'started', ${lease.token}, ${leaseEnd(lease.leaseMs)}
    where ${claimHeld} and ${targetAsExpected}
    on conflict (target_id) where state <> 'failed' do nothing
    returning id`);
  if (started.length > 0) return { ...parameters, id, holder: lease.token, adopted: false, sent: false, tries: 0 };
  if (claim !== undefined) {
    const held = await queryRows(db, sql`select 1 from idempotency_keys where scope = ${claim.scope} and key = ${claim.key} and claim_token = ${lease.token} and state = 'in_flight'`);
    if (held.length === 0) throw new IdempotencyClaimLostError();
  }
  return undefined;
}

/** Calls the processor for the attempt, keeping track of whether the processor may have acted. */
export async function callProcessor<T>(attempt: ProcessorAttempt, call: () => Promise<T>): Promise<T> {
  attempt.sent = true;
  try {
    return await call();
  } catch (error) {
    // The processor says it did nothing; an adopted attempt was sent before, by the request that died.
    if (error instanceof ProcessorUnavailableError && !attempt.adopted) attempt.sent = false;
    throw error;
  }
}

/**
 * Forgets the attempt in the transaction that records its outcome; throws (rolling it back) when it
 * is no longer this holder's: adopted by a retry, or taken by the reconciler.
 */
export async function finishAttempt(tx: Db, attempt: ProcessorAttempt): Promise<void> {
  const mine = { id: attempt.id, holder: attempt.holder };
  // In payments' commit group, forgotten with the group's others at its end (held-writes.ts).
  if (!holdWrite(finishedAttempts, mine)) await finishedAttempts.write(tx, [mine]);
}

/** Attempts forgotten in one statement; any no longer ours fails them all (the group then finishes each alone). */
const finishedAttempts: HeldWrite<{ readonly id: string; readonly holder: string }> = {
  async write(tx, attempts) {
    const gone = await queryRows(tx, sql`delete from processor_attempts a using jsonb_to_recordset(${JSON.stringify(attempts)}::jsonb) as x(id text, holder text)
      where a.id = x.id and a.holder = x.holder returning a.id`);
    if (gone.length !== attempts.length) throw new AttemptLostError();
  },
};

/** Forgets an attempt that holds nothing at the processor (never sent, declined, or settled), if still this holder's. */
export async function dropAttempt(db: Db, attempt: ProcessorAttempt): Promise<void> {
  await db.execute(sql`delete from processor_attempts where id = ${attempt.id} and holder = ${attempt.holder}`);
}

/**
 * Marks the attempt abandoned (it will not be recorded; what it holds must be given back). False
 * when it is no longer this holder's: whoever holds it now decides.
 */
export async function abandonAttempt(db: Db, attempt: ProcessorAttempt): Promise<boolean> {
  const marked = await queryRows(db, sql`update processor_attempts set state = 'abandoned' where id = ${attempt.id} and holder = ${attempt.holder} and state = 'started' returning id`);
  return marked.length > 0;
}

/** Locks the attempt's row in `tx` if it is still this holder's: false when another has taken it (its hold lapsed). */
export async function holdsAttempt(tx: Db, attempt: ProcessorAttempt): Promise<boolean> {
  const rows = await queryRows(tx, sql`select 1 from processor_attempts where id = ${attempt.id} and holder = ${attempt.holder} and state = 'abandoned' for update`);
  return rows.length > 0;
}

/** Counts a failed try at settling the attempt, if still this holder's; its hold is kept until it lapses. */
export async function countFailedTry(db: Db, attempt: ProcessorAttempt, error: unknown): Promise<void> {
  await db.execute(sql`update processor_attempts set tries = tries + 1, last_error = ${String((error as Error)?.message ?? error).slice(0, 500)}
    where id = ${attempt.id} and holder = ${attempt.holder} and state = 'abandoned'`);
}

/** Marks the attempt failed (kept as the record of it, no longer in doubt), in `tx`, if still this holder's. */
export async function failAttempt(tx: Db, attempt: ProcessorAttempt, error: unknown): Promise<boolean> {
  const rows = await queryRows(tx, sql`update processor_attempts set state = 'failed', tries = tries + 1, last_error = ${String((error as Error)?.message ?? error).slice(0, 500)}
    where id = ${attempt.id} and holder = ${attempt.holder} and state = 'abandoned' returning id`);
  return rows.length > 0;
}

/**
 * Takes up to `limit` attempts that nobody holds any more: started ones whose lease lapsed more
 * than `graceSec` ago (their request died and its client did not retry in time), and abandoned ones
 * whose settling did not finish. They are held by `token` for `holdMs` from now on.
 */
export async function takeStrandedAttempts(db: Db, token: string, graceSec: number, holdMs: number, limit: number): Promise<ProcessorAttempt[]> {
  const rows = await queryRows<AttemptRow>(db, sql`
    update processor_attempts set state = 'abandoned', holder = ${token}, lease_expires_at = ${leaseEnd(holdMs)}
    where id in (select id from processor_attempts
      where (state = 'started' and lease_expires_at < now() - make_interval(secs => ${graceSec})) or (state = 'abandoned' and lease_expires_at < now())
      order by created_at limit ${limit} for update skip locked)
    returning ${attemptColumns}`);
  return rows.map(fromRow);
}
