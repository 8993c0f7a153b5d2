// Live inbox streams (Server-Sent Events). Every change to a user's inbox, on any replica,
// announces `inbox.changed` through the outbox in the transaction that makes it; every replica
// receives it (a broadcast) and refreshes the streams it holds for that user: the notifications
// they have not seen yet, then the unread count, read from the database after the change
// committed. A count is never kept or adjusted in memory, so it cannot drift: the last count a
// stream shows is the database's.
import type { ServerResponse } from 'node:http';
import type { Caller } from '@paymesh/platform/auth/caller';
import type { RevocationList } from '@paymesh/platform/auth/revocation-list';
import type { Clock } from '@paymesh/platform/clock';
import type { Db } from '@paymesh/platform/db/open-database';
import type { Logger } from '@paymesh/platform/logger';
import { inChildSpan, SpanKind } from '@paymesh/platform/tracing/trace-context';
import { newestNotificationId, notificationsAfter, unreadCount } from '../inbox/inbox-store.ts';
import { publicNotification } from '../inbox/notification.ts';

/** Streams one user may hold open on one replica (tabs and devices); more is refused with 429. */
export const maxStreamsPerUser = 10;

interface Stream {
  readonly response: ServerResponse;
  /** The token the stream was opened with: the stream lives no longer than it does. */
  readonly caller: Caller;
  /** The newest notification id this stream has shown (its SSE event id). */
  lastId: bigint;
  /** Refreshes run one after the other, so a stream never shows an older count after a newer one. */
  queue: Promise<void>;
}

export class InboxHub {
  readonly #db: Db;
  readonly #logger: Logger;
  readonly #streams = new Map<string, Set<Stream>>();
  readonly #stopFollowingRevocations: () => void;
  readonly #clock: Clock;

  constructor(db: Db, logger: Logger, revocations: RevocationList, clock: Clock) {
    this.#db = db;
    this.#logger = logger;
    this.#clock = clock;
    // A token is checked once, when its stream opens; a stream outlives that request by hours. So
    // every revocation (logout, RFC 7009, a password change, a disabled or deleted account, here or
    // on any replica through the event) checks every open stream's token again.
    this.#stopFollowingRevocations = revocations.onRevoked(() => {
      for (const streams of this.#streams.values()) {
        for (const stream of streams) if (revocations.isRevoked(stream.caller)) endStream(stream, 'token_revoked');
      }
    });
  }

  /** A comment line on every stream: run now and then (service.ts's jobs), it keeps proxies from closing an idle stream. */
  keepAlive(): void {
    for (const streams of this.#streams.values()) for (const stream of streams) stream.response.write(': keep-alive\n\n');
  }

  /** Streams open now: each leaves the count when its response closes (the client went, its token ended, the service stops). */
  get openStreams(): number {
    let open = 0;
    for (const streams of this.#streams.values()) open += streams.size;
    return open;
  }

  hasRoom(recipientId: string): boolean {
    return (this.#streams.get(recipientId)?.size ?? 0) < maxStreamsPerUser;
  }

  /** Starts a stream: what came after `lastEventId` (a reconnect's catch-up), then the count, then live changes. */
  open(recipientId: string, caller: Caller, response: ServerResponse, lastEventId: bigint | undefined): void {
    response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store, no-transform',
      'x-content-type-options': 'nosniff',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    response.write('retry: 3000\n\n');
    const stream: Stream = { response, caller, lastId: lastEventId ?? -1n, queue: Promise.resolve() };
    let streams = this.#streams.get(recipientId);
    if (streams === undefined) this.#streams.set(recipientId, (streams = new Set()));
    streams.add(stream);
    // The stream ends when its token does (the client reconnects with a fresh one).
    const cancelExpiry = this.#clock.at(caller.expiresAtSec * 1000, () => endStream(stream, 'token_expired'));
    response.on('close', () => {
      cancelExpiry();
      streams.delete(stream);
      if (streams.size === 0) this.#streams.delete(recipientId);
    });
    this.#enqueue(recipientId, stream, lastEventId === undefined);
  }

  refresh(recipientId: string): void {
    for (const stream of this.#streams.get(recipientId) ?? []) this.#enqueue(recipientId, stream, false);
  }

  #enqueue(recipientId: string, stream: Stream, fresh: boolean): void {
    // In the trace of the change that caused it (the inbox.changed event), when one is traced.
    const send = () => inChildSpan('sse push', SpanKind.INTERNAL, { 'paymesh.stream.fresh': fresh }, () => this.#send(recipientId, stream, fresh));
    stream.queue = stream.queue.then(send).catch((error: unknown) => {
      this.#logger.warn({ err: error, recipientId }, 'inbox stream refresh failed; closing it (the client reconnects)');
      stream.response.end();
    });
  }

  async #send(recipientId: string, stream: Stream, fresh: boolean): Promise<void> {
    if (stream.response.writableEnded || stream.response.destroyed) return;
    if (fresh) {
      // A new stream starts from now: only later notifications are pushed.
      stream.lastId = await newestNotificationId(this.#db, recipientId);
    } else {
      for (const row of await notificationsAfter(this.#db, recipientId, stream.lastId, 500)) {
        stream.response.write(`id: ${row.id}\nevent: notification\ndata: ${JSON.stringify(publicNotification(row))}\n\n`);
        stream.lastId = BigInt(row.id);
      }
    }
    stream.response.write(`event: unread_count\ndata: ${JSON.stringify({ unread: await unreadCount(this.#db, recipientId) })}\n\n`);
  }

  /** Ends every stream (the service is stopping; clients reconnect elsewhere with Last-Event-ID). */
  async close(): Promise<void> {
    this.#stopFollowingRevocations();
    for (const streams of this.#streams.values()) for (const stream of streams) stream.response.end();
    this.#streams.clear();
  }
}

/** Says why (an `end` event the client can read), then closes: its reconnect with the same token is refused. */
function endStream(stream: Stream, reason: 'token_expired' | 'token_revoked'): void {
  if (stream.response.writableEnded || stream.response.destroyed) return;
  stream.response.end(`event: end\ndata: ${JSON.stringify({ reason })}\n\n`);
}
