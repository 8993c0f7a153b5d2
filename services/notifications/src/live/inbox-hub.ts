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
import { boundToCurrentTrace, inChildSpan, SpanKind } from '@paymesh/platform/tracing/trace-context';
import { inboxHead, inboxSince } from '../inbox/inbox-store.ts';
import { publicNotification } from '../inbox/notification.ts';

/** Streams one user may hold open on one replica (tabs and devices); more is refused with 429. */
export const maxStreamsPerUser = 10;

/** Notifications one push sends a stream at most; a stream further behind gets the rest in the pushes that follow. */
const maxPushed = 500;

interface Stream {
  readonly response: ServerResponse;
  /** The token the stream was opened with: the stream lives no longer than it does. */
  readonly caller: Caller;
  /** The newest notification id this stream has shown (its SSE event id); undefined until its first push. */
  lastId: bigint | undefined;
  /** The unread count this stream showed last: a refresh that finds nothing new and the same count writes nothing. */
  lastCount: number | undefined;
}

/**
 * One user's streams on this replica. Their pushes run one after the other, so no stream shows an
 * older count after a newer one. A change is pushed to all of them with one read per distinct
 * position (usually one: streams that saw the same pushes stand at the same id), not one per
 * stream, and changes that arrive while a push is waiting its turn are covered by that push.
 */
interface Follower {
  readonly streams: Set<Stream>;
  queue: Promise<void>;
  /** A refresh waits in the queue and has not read yet: a further change needs none of its own. */
  refreshWaiting: boolean;
  /** Runs the waiting refresh in the trace of the latest change it covers (the one that is traced to the streams). */
  inLatestTrace: (push: () => Promise<void>) => Promise<void>;
}

export class InboxHub {
  readonly #db: Db;
  readonly #logger: Logger;
  readonly #followers = new Map<string, Follower>();
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
      for (const stream of this.#allStreams()) if (revocations.isRevoked(stream.caller)) endStream(stream, 'token_revoked');
    });
  }

  /** A comment line on every stream: run now and then (service.ts's jobs), it keeps proxies from closing an idle stream. */
  keepAlive(): void {
    for (const stream of this.#allStreams()) stream.response.write(': keep-alive\n\n');
  }

  /** Streams open now: each leaves the count when its response closes (the client went, its token ended, the service stops). */
  get openStreams(): number {
    let open = 0;
    for (const follower of this.#followers.values()) open += follower.streams.size;
    return open;
  }

  hasRoom(recipientId: string): boolean {
    return (this.#followers.get(recipientId)?.streams.size ?? 0) < maxStreamsPerUser;
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
    const stream: Stream = { response, caller, lastId: undefined, lastCount: undefined };
    let follower = this.#followers.get(recipientId);
    if (follower === undefined) this.#followers.set(recipientId, (follower = { streams: new Set(), queue: Promise.resolve(), refreshWaiting: false, inLatestTrace: (push) => push() }));
    const streams = follower.streams;
    streams.add(stream);
    // The stream ends when its token does (the client reconnects with a fresh one).
    const cancelExpiry = this.#clock.at(caller.expiresAtSec * 1000, () => endStream(stream, 'token_expired'));
    response.on('close', () => {
      cancelExpiry();
      streams.delete(stream);
      if (streams.size === 0 && this.#followers.get(recipientId)?.streams === streams) this.#followers.delete(recipientId);
    });
    this.#enqueue(recipientId, follower, true, () => this.#start(recipientId, stream, lastEventId), [stream]);
  }

  /** The user's inbox changed (the inbox.changed broadcast): their streams get what is new and the count. */
  refresh(recipientId: string): void {
    const follower = this.#followers.get(recipientId);
    if (follower === undefined) return;
    follower.inLatestTrace = boundToCurrentTrace((push: () => Promise<void>) => push());
    if (follower.refreshWaiting) return;
    follower.refreshWaiting = true;
    this.#enqueue(recipientId, follower, false, () => {
      follower.refreshWaiting = false;
      return this.#push(recipientId, follower);
    }, follower.streams);
  }

  #enqueue(recipientId: string, follower: Follower, fresh: boolean, push: () => Promise<void>, streams: Iterable<Stream>): void {
    // In the trace of the change that caused it (the inbox.changed event, the latest of those a
    // refresh covers; the stream's request for its first push), when one is traced.
    const traced = () => inChildSpan('sse push', SpanKind.INTERNAL, { 'paymesh.stream.fresh': fresh }, push);
    const send = fresh ? traced : () => follower.inLatestTrace(traced);
    follower.queue = follower.queue.then(send).catch((error: unknown) => {
      this.#logger.warn({ err: error, recipientId }, 'inbox stream refresh failed; closing the streams it was for (their clients reconnect)');
      for (const stream of streams) stream.response.end();
    });
  }

  /** A new stream's first push: from now (only later notifications are pushed), or what it missed after Last-Event-ID. */
  async #start(recipientId: string, stream: Stream, lastEventId: bigint | undefined): Promise<void> {
    if (isClosed(stream)) return;
    if (lastEventId === undefined) {
      const { newestId, unread } = await inboxHead(this.#db, recipientId);
      if (isClosed(stream)) return;
      stream.response.write(countEvent(unread));
      stream.lastId = newestId;
      stream.lastCount = unread;
      return;
    }
    stream.lastId = lastEventId;
    await this.#pushTo(recipientId, lastEventId, [stream]);
  }

  /** Every started stream of the user gets what came after its position: one read per distinct position. */
  async #push(recipientId: string, follower: Follower): Promise<void> {
    const atPosition = new Map<bigint, Stream[]>();
    for (const stream of follower.streams) {
      if (stream.lastId === undefined || isClosed(stream)) continue;
      const same = atPosition.get(stream.lastId);
      if (same === undefined) atPosition.set(stream.lastId, [stream]);
      else same.push(stream);
    }
    for (const [lastId, streams] of atPosition) await this.#pushTo(recipientId, lastId, streams);
  }

  async #pushTo(recipientId: string, lastId: bigint, streams: readonly Stream[]): Promise<void> {
    const { rows, unread } = await inboxSince(this.#db, recipientId, lastId, maxPushed);
    // Each notification serialised once for all the streams it goes to.
    const events = rows.map((row) => `id: ${row.id}\nevent: notification\ndata: ${JSON.stringify(publicNotification(row))}\n\n`).join('');
    const newest = rows.length > 0 ? BigInt(rows.at(-1)!.id) : lastId;
    // One write per stream (one chunk, one system call on each hop), the count after the notifications.
    const push = events + countEvent(unread);
    for (const stream of streams) {
      if (isClosed(stream)) continue;
      // Announcements of changes an earlier refresh already covered (they arrive while it reads) find
      // nothing new: nothing to say.
      if (rows.length === 0 && stream.lastCount === unread) continue;
      stream.response.write(push);
      stream.lastId = newest;
      stream.lastCount = unread;
    }
    // Far behind (a reconnect after a long absence): the rest follows at once, not at the next change.
    if (rows.length === maxPushed) this.refresh(recipientId);
  }

  *#allStreams(): Iterable<Stream> {
    for (const follower of this.#followers.values()) yield* follower.streams;
  }

  /** Ends every stream (the service is stopping; clients reconnect elsewhere with Last-Event-ID). */
  async close(): Promise<void> {
    this.#stopFollowingRevocations();
    for (const stream of [...this.#allStreams()]) stream.response.end();
    this.#followers.clear();
  }
}

function isClosed(stream: Stream): boolean {
  return stream.response.writableEnded || stream.response.destroyed;
}

function countEvent(unread: number): string {
  return `event: unread_count\ndata: ${JSON.stringify({ unread })}\n\n`;
}

/** Says why (an `end` event the client can read), then closes: its reconnect with the same token is refused. */
function endStream(stream: Stream, reason: 'token_expired' | 'token_revoked'): void {
  if (isClosed(stream)) return;
  stream.response.end(`event: end\ndata: ${JSON.stringify({ reason })}\n\n`);
}
