// Sends the recorded deliveries: claims due ones with a lease (so a crashed replica's work is
// taken over when the lease runs out, and two replicas never send the same attempt), hands each to
// its channel, and records the attempt and the delivery's next state in one transaction. A failed
// attempt is tried again after the next delay of the schedule; after the last, the delivery is dead
// (the dead-letter state): visible through the API and the metrics, and redeliverable by hand.
// One nobody wants any more (its device or endpoint went away) is canceled instead.
import type { Logger } from '@paymesh/platform/logger';
import { commitBatch, type CommitBatch } from '@paymesh/platform/db/commit-group';
import { queryRows, sql, type Db } from '@paymesh/platform/db/open-database';
import { detachedFromTrace, inSpanFrom, SpanKind } from '@paymesh/platform/tracing/trace-context';
import { erasedAmong, lockRecipients } from '../messages/erased-recipients.ts';
import { notificationType } from '../messages/notification-types.ts';
import type { ChannelSender, ClaimedDelivery, AttemptResult } from './channel-sender.ts';
import type { DeliveryMetrics } from './delivery-metrics.ts';

export interface DeliveryWorkerOptions {
  readonly db: Db;
  readonly senders: Readonly<Record<ClaimedDelivery['channel'], ChannelSender>>;
  /** The delays between attempts; its length + 1 attempts in all. */
  readonly retryDelaysMs: readonly number[];
  readonly attemptTimeoutMs: number;
  readonly concurrency: number;
  readonly logger: Logger;
  readonly metrics: DeliveryMetrics;
  /** False while the database cannot be reached: the worker waits for the next poll after it is back. */
  readonly databaseAvailable?: () => boolean;
}

/** A Retry-After longer than this is not waited for; the schedule's own delay applies. */
const maxRetryAfterMs = 3_600_000;

export class DeliveryWorker {
  readonly #o: DeliveryWorkerOptions;
  readonly #leaseMs: number;
  readonly #deadlineMs: number;
  /** Attempts that end together are recorded in one transaction (ADR 30), in multi-row statements (ADR 32). */
  readonly #records: CommitBatch<EndedAttempt, number | undefined>;
  #inFlight = new Set<Promise<void>>();
  #filling: Promise<void> | undefined;
  #again = false;
  #stopped = false;
  /** Attempts started so far (drain tells from it whether anything was due). */
  #started = 0;

  constructor(options: DeliveryWorkerOptions) {
    this.#o = options;
    // Long enough that a live attempt always finishes (or times out) before anyone takes it over.
    this.#leaseMs = options.attemptTimeoutMs * 3 + 30_000;
    this.#deadlineMs = options.attemptTimeoutMs * 2 + 15_000;
    this.#records = commitBatch(options.db, { maxSize: Math.max(1, options.concurrency), apply: (tx, records) => this.#apply(tx, records) });
  }

  /** Claims what is due now, awaited (not the attempts it starts): the kit's periodic pass (service.ts's jobs). */
  async pass(): Promise<void> {
    this.kick();
    await this.#filling;
  }

  /** Something may be due now (a commit just recorded deliveries): look without waiting for the poll. */
  kick(): void {
    if (this.#stopped) return;
    if (this.#o.databaseAvailable?.() === false) return;
    if (this.#filling !== undefined) {
      this.#again = true;
      return;
    }
    // Claims serve every kicker's deliveries: they belong to no one's trace; each attempt joins its own.
    this.#filling = detachedFromTrace(() => this.#fill()).finally(() => {
      this.#filling = undefined;
      // A kick that came as the last claim found nothing: look again rather than wait for the poll.
      if (this.#again) this.kick();
    });
  }

  /** Claims what is due now and waits for every attempt it leads to (tests' settle()): false when nothing was due. */
  async drain(): Promise<boolean> {
    const before = this.#started;
    await this.pass();
    while (this.#filling !== undefined || this.#inFlight.size > 0) {
      await this.#filling;
      await Promise.allSettled([...this.#inFlight]);
    }
    return this.#started !== before;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    // A claim under way, and the attempts under way, finish and are recorded; unclaimed work
    // waits for the next start.
    await this.#filling;
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
  }

  async #fill(): Promise<void> {
    try {
      do {
        this.#again = false;
        while (!this.#stopped && this.#inFlight.size < this.#o.concurrency) {
          const batch = await this.#claim(this.#o.concurrency - this.#inFlight.size);
          for (const delivery of batch) {
            const attempt = this.#attempt(delivery).finally(() => {
              this.#inFlight.delete(attempt);
              this.kick();
            });
            this.#inFlight.add(attempt);
            this.#started++;
          }
          if (batch.length === 0) break;
        }
      } while (this.#again && !this.#stopped);
    } catch (error) {
      // The database is unreachable or restarting: the poll tries again.
      this.#o.logger.error({ err: error }, 'claiming deliveries failed');
    }
  }

  #claim(limit: number): Promise<ClaimedDelivery[]> {
    return queryRows<ClaimedDelivery>(this.#o.db, sql`
      update deliveries set attempts = attempts + 1, next_attempt_at = now() + ${`${this.#leaseMs} milliseconds`}::interval
      where id in (
        select id from deliveries where status = 'pending' and next_attempt_at <= now()
        order by next_attempt_at limit ${limit} for update skip locked)
      returning id, recipient_id, type, channel, target_id, payload, attempts, manual, created_at, traceparent`);
  }

  /** One attempt, a span in the trace of the event that recorded the delivery. */
  #attempt(delivery: ClaimedDelivery): Promise<void> {
    return inSpanFrom(delivery.traceparent, `deliver ${delivery.channel}`, SpanKind.CLIENT, {
      'paymesh.delivery.id': delivery.id, 'paymesh.delivery.channel': delivery.channel, 'paymesh.delivery.attempt': delivery.attempts, 'paymesh.notification.type': delivery.type,
    }, () => this.#attemptTraced(delivery));
  }

  async #attemptTraced(delivery: ClaimedDelivery): Promise<void> {
    const started = performance.now();
    let result: AttemptResult;
    let timer: NodeJS.Timeout | undefined;
    try {
      // Each sender bounds its own exchange; this bounds everything else (a users look-up, a pool
      // queue) so the attempt is recorded, and its next time set, well before the lease runs out
      // and another replica could send the same message again.
      const deadline = new Promise<AttemptResult>((resolve) => {
        timer = setTimeout(() => resolve({ outcome: { kind: 'retry', error: `no outcome within ${this.#deadlineMs} ms` } }), this.#deadlineMs);
      });
      result = await Promise.race([this.#o.senders[delivery.channel].send(delivery), deadline]);
    } catch (error) {
      // A sender bug, not the far end's answer: logged loudly, and retried like any failure.
      this.#o.logger.error({ err: error, delivery: delivery.id, channel: delivery.channel }, 'delivery sender threw');
      result = { outcome: { kind: 'retry', error: `internal error: ${(error as Error).message}` } };
    } finally {
      clearTimeout(timer);
    }
    const durationMs = Math.round(performance.now() - started);
    try {
      await this.#record(delivery, result, durationMs);
    } catch (error) {
      // The lease runs out and the delivery is attempted again: at least once, never lost.
      this.#o.logger.error({ err: error, delivery: delivery.id }, 'recording a delivery attempt failed');
    }
  }

  async #record(delivery: ClaimedDelivery, result: AttemptResult, durationMs: number): Promise<void> {
    this.#o.metrics.attempts.inc({ channel: delivery.channel, outcome: result.outcome.kind });
    // A group that fails is recorded again attempt by attempt: the latency is observed once, after the commit.
    const seconds = await this.#records.run({ delivery, result, durationMs });
    if (seconds !== undefined) this.#o.metrics.latency.observe({ channel: delivery.channel }, seconds);
  }

  /**
   * Attempts that ended together, recorded in one transaction: the erasure check, the log and the
   * delivered ones' new state a statement each for the group; the other outcomes (retries, dead
   * letters: rare) one by one. The delivered ones' seconds since the delivery was recorded, in order.
   */
  async #apply(tx: Db, records: readonly EndedAttempt[]): Promise<(number | undefined)[]> {
    const { retryDelaysMs } = this.#o;
    const recipients = records.map(({ delivery }) => delivery.recipient_id);
    await lockRecipients(tx, recipients);
    const erased = await erasedAmong(tx, recipients);
    const logged = records.map(({ delivery, result, durationMs }): LoggedAttempt => {
      // An attempt that ends after its recipient was erased is logged without the far end's words
      // (an SMTP server quotes the address).
      const hidden = erased.has(delivery.recipient_id);
      const { outcome } = result;
      return {
        delivery_id: delivery.id, attempt: delivery.attempts, outcome: outcome.kind, status_code: outcome.statusCode ?? null, duration_ms: durationMs,
        error: hidden || outcome.kind === 'delivered' ? null : storableText(outcome.error.slice(0, 1000)),
        response: hidden || result.response === undefined ? null : storableText(result.response.slice(0, 1024)),
      };
    });
    await logAttempts(tx, logged);
    // Only the holder of the latest claim moves the delivery on; a stale attempt is only logged.
    const delivered = records.filter(({ result }) => result.outcome.kind === 'delivered')
      .map(({ delivery }) => ({ id: delivery.id, attempts: delivery.attempts, secret: notificationType(delivery.type).secret }));
    const seconds = new Map((delivered.length === 0 ? [] : await queryRows<{ id: string; attempts: number; seconds: number }>(tx, sql`
      update deliveries d set status = 'delivered', delivered_at = now(), last_error = null, manual = false,
        payload = case when x.secret then null else d.payload end
      from jsonb_to_recordset(${JSON.stringify(delivered)}::jsonb) as x(id text, attempts int, secret boolean)
      where d.id = x.id and d.attempts = x.attempts and d.status = 'pending'
      returning d.id, d.attempts, extract(epoch from now() - d.created_at)::float8 as seconds`)).map((row) => [`${row.id} ${row.attempts}`, row.seconds]));
    for (const [i, { delivery, result }] of records.entries()) {
      const { outcome } = result;
      if (outcome.kind === 'delivered') continue;
      const { error } = logged[i]!;
      const current = sql`id = ${delivery.id} and attempts = ${delivery.attempts} and status = 'pending'`;
      const delayMs = delivery.attempts <= retryDelaysMs.length && outcome.kind === 'retry' && !delivery.manual
        ? Math.max(retryDelaysMs[delivery.attempts - 1]!, Math.min(outcome.retryAfterMs ?? 0, maxRetryAfterMs))
        : undefined;
      if (delayMs !== undefined) {
        await tx.execute(sql`update deliveries set next_attempt_at = now() + ${`${delayMs} milliseconds`}::interval, last_error = ${error} where ${current}`);
        continue;
      }
      const status = outcome.kind === 'canceled' ? 'canceled' : 'dead';
      const erase = notificationType(delivery.type).secret ? sql`null` : sql`payload`;
      await tx.execute(sql`update deliveries set status = ${status}, last_error = ${error}, payload = ${erase}, manual = false where ${current}`);
      if (outcome.kind === 'invalid_target' && delivery.channel === 'push' && delivery.target_id !== null) {
        // The provider says the token is gone for good: later messages must not try it again.
        await tx.execute(sql`delete from devices where id = ${delivery.target_id}`);
        this.#o.logger.info({ device: delivery.target_id }, 'push provider reported an invalid token: device removed');
      }
    }
    return records.map(({ delivery, result }) => (result.outcome.kind === 'delivered' ? seconds.get(`${delivery.id} ${delivery.attempts}`) : undefined));
  }
}

/** An attempt that has ended, waiting to be recorded with the others that ended meanwhile. */
interface EndedAttempt {
  readonly delivery: ClaimedDelivery;
  readonly result: AttemptResult;
  readonly durationMs: number;
}

interface LoggedAttempt {
  readonly delivery_id: string;
  readonly attempt: number;
  readonly outcome: string;
  readonly status_code: number | null;
  readonly error: string | null;
  readonly response: string | null;
  readonly duration_ms: number;
}

/** The log of attempts, a row each, in one statement. */
async function logAttempts(tx: Db, attempts: readonly LoggedAttempt[]): Promise<void> {
  await tx.execute(sql`insert into delivery_attempts (delivery_id, attempt, outcome, status_code, error, response, duration_ms)
    select delivery_id, attempt, outcome, status_code, error, response, duration_ms
    from jsonb_to_recordset(${JSON.stringify(attempts)}::jsonb)
      as x(delivery_id text, attempt int, outcome text, status_code int, error text, response text, duration_ms int)`);
}

/** PostgreSQL text cannot hold NUL (nor jsonb a lone surrogate): a receiver answering one must not make the attempt unrecordable (and so sent again and again). */
function storableText(text: string): string {
  // Nor can jsonb (a group's rows travel as JSON) hold half of a surrogate pair.
  return text.replaceAll('\u0000', '\uFFFD').toWellFormed();
}
