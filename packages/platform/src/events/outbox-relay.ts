// Publishes what the outbox holds and keeps retrying what the transport refused, with backoff,
// until it is accepted: an event committed with its change is never stranded (the weakness of an
// outbox without a relay). Rows are leased, not locked, so replicas share the work without a
// transaction held open across the publish.
import { sql } from '../db/drizzle.ts';
import type { Db } from '../db/open-database.ts';
import { queryRows } from '../db/open-database.ts';
import type { Logger } from '../logger.ts';
import type { EventTransport } from './event.ts';
import { pruneEventTables } from './prune-event-tables.ts';
import { SingleFlight } from '../single-flight.ts';
import { every, type Every } from '../every.ts';
import { detachedFromTrace, inSpanFrom, SpanKind, traceparentOf } from '../tracing/trace-context.ts';

interface OutboxRow {
  id: string;
  subject: string;
  version: number;
  payload: unknown;
  request_id: string | null;
  created_at: string | Date;
  attempts: number;
  traceparent: string | null;
}

export interface OutboxRelayOptions {
  readonly db: Db;
  readonly transport: EventTransport;
  readonly logger: Logger;
  /** How often to look for work when nobody kicks the relay. */
  readonly pollIntervalMs?: number;
  /** Events claimed and published at once: the bounded in-flight window. */
  readonly batchSize?: number;
  /**
   * How long a claim on a window of events lasts: longer than a publish may take (the NATS
   * transport's timeout is 1 s), short enough that a dead relay's events are taken over promptly.
   */
  readonly leaseMs?: number;
  readonly maxBackoffMs?: number;
  /** False while the database cannot be reached: passes are skipped instead of failing each poll. */
  readonly databaseAvailable?: () => boolean;
}

export class OutboxRelay {
  readonly #options: Required<OutboxRelayOptions>;
  #poll: Every | undefined;
  #prune: Every | undefined;
  readonly #flight = new SingleFlight(() => this.#drain(), () => this.#stopped);
  // Stopped until start(): a kick before then (a request served while the embedded launcher still
  // holds the relays) must not publish to consumers that have not subscribed yet.
  #stopped = true;
  /** While stopping: no new publish starts after this time (epoch ms). */
  #deadline = Number.POSITIVE_INFINITY;

  constructor(options: OutboxRelayOptions) {
    this.#options = { pollIntervalMs: 1_000, batchSize: 64, leaseMs: 7_000, maxBackoffMs: 1_000, databaseAvailable: () => true, ...options };
  }

  start(): void {
    this.#stopped = false;
    this.#deadline = Number.POSITIVE_INFINITY;
    this.#schedule();
    this.kick();
  }

  /** Asks for a publish pass now (called after a transaction that enqueued events commits). */
  kick(): void {
    detachedFromTrace(() => this.#flight.run());
  }

  /** Resolves once no pass runs and none is due to follow (the tests' settle() waits on it). */
  async idle(): Promise<void> {
    for (let pass = this.#flight.current; pass !== undefined; pass = this.#flight.current) await pass;
  }

  /**
   * Publishes what is pending, starting no publish after `deadlineMs`, then stops polling. What is
   * left stays in the outbox (its lease released) for the next start or another replica.
   */
  async stop(deadlineMs = 5_000): Promise<void> {
    this.#stopped = true;
    this.#deadline = Date.now() + deadlineMs;
    await Promise.all([this.#poll?.stop(), this.#prune?.stop()]);
    await this.#flight.current;
    while (Date.now() < this.#deadline && (await this.#publishBatch()) > 0) {
      // keep flushing while the deadline allows
    }
  }

  /** Publishes batches until one comes back short: everything due now has been tried. */
  async #drain(): Promise<void> {
    // The next poll after the database is back resumes the work.
    if (!this.#options.databaseAvailable()) return;
    try {
      while (!this.#stopped && (await this.#publishBatch()) === this.#options.batchSize) {
        // a full batch means there may be more
      }
    } catch (error) {
      this.#options.logger.error({ err: error }, 'outbox relay pass failed; will retry');
    }
  }

  /**
   * Claims up to one window of due events and publishes them all at once: the publishes are sent
   * in order on the one connection and their acknowledgements awaited together, so a stalled
   * broker costs one publish timeout per window, not one per event. The lease covers one window
   * (publishes are bounded by the transport's timeout), so nothing needs renewing and a relay that
   * dies holding one frees its events within the lease.
   */
  async #publishBatch(): Promise<number> {
    const { db, transport, logger, batchSize, leaseMs, maxBackoffMs } = this.#options;
    const rows = await queryRows<OutboxRow>(db, sql`
      update outbox set locked_until = now() + make_interval(secs => ${leaseMs / 1000})
      where id in (
        select id from outbox
        where published_at is null and next_attempt_at <= now() and (locked_until is null or locked_until < now())
        order by created_at
        limit ${batchSize}
        for update skip locked)
      returning id, subject, version, payload, request_id, created_at, attempts, traceparent`);
    rows.sort((a, b) => new Date(a.created_at).getTime() - new Date(b.created_at).getTime());
    const ids = (list: readonly string[]) => sql.join(list.map((id) => sql`${id}`), sql`, `);
    // Each publish is a producer span in the trace of the transaction that wrote the event, and the
    // event carries that span on to its consumers (docs/adr/0022-tracing.md).
    // An event written outside any trace (a job's) is published without a span of its own.
    const outcomes = await Promise.allSettled(rows.map((row) => {
      const event = {
        id: row.id, subject: row.subject, version: Number(row.version), data: row.payload, requestId: row.request_id ?? undefined, occurredAt: new Date(row.created_at).toISOString(),
      };
      if (row.traceparent === null) return transport.publish(event);
      return inSpanFrom(row.traceparent, `publish ${row.subject}`, SpanKind.PRODUCER, messagingAttributes(row), (span) => {
        const traceparent = traceparentOf(span);
        return transport.publish(traceparent === undefined ? event : { ...event, traceparent });
      });
    }));
    // Marked once per window, not once per event: under load a per-event update queues behind the
    // requests for a pooled connection and the relay falls far behind. An event published but not
    // yet marked when the process dies is published again; the broker and the consumers dedupe.
    const published = rows.filter((_, i) => outcomes[i]!.status === 'fulfilled').map((row) => row.id);
    if (published.length > 0) {
      await db.execute(sql`update outbox set published_at = now(), locked_until = null, attempts = attempts + 1, last_error = null where id in (${ids(published)})`);
    }
    const failed = rows.flatMap((row, i) => {
      const outcome = outcomes[i]!;
      return outcome.status === 'rejected' ? [{ row, error: outcome.reason as unknown }] : [];
    });
    if (failed.length > 0) {
      const first = failed[0]!;
      logger.warn({ err: first.error, failed: failed.length, of: rows.length, eventId: first.row.id, subject: first.row.subject }, 'event publish failed; will retry');
      // Growing pauses per event (250 ms doubling), capped low: once the broker is back every
      // event must follow within seconds.
      await db.execute(sql`update outbox set attempts = attempts + 1, last_error = ${String(first.error)}, locked_until = null,
        next_attempt_at = now() + make_interval(secs => least(${maxBackoffMs / 1000}, 0.25 * power(2, least(attempts, 16))))
        where id in (${ids(failed.map((f) => f.row.id))})`);
    }
    return rows.length;
  }

  #schedule(): void {
    void this.#poll?.stop();
    void this.#prune?.stop();
    const { logger, db, databaseAvailable } = this.#options;
    // The poll's pass is the relay's own (shared with kicks, one at a time); `every` only times it.
    this.#poll = every({ name: 'outbox relay poll', everyMs: this.#options.pollIntervalMs, logger, run: async () => {
      this.kick();
      await this.#flight.current;
    } });
    this.#prune = every({ name: 'outbox and inbox pruning', everyMs: 60 * 60_000, logger, available: databaseAvailable, run: () => pruneEventTables(db) });
  }
}

/** OpenTelemetry's messaging conventions, as far as they apply to an event leaving the outbox. */
function messagingAttributes(row: OutboxRow): Record<string, string | number> {
  return { 'messaging.operation.type': 'send', 'messaging.destination.name': row.subject, 'messaging.message.id': row.id, 'messaging.message.delivery_attempt': row.attempts + 1 };
}
