// Access tokens are JWTs verified without calling auth, so a revoked token would stay valid until
// it expires. Auth announces revocations as events; every service keeps them (in memory for the
// hot path, in its own database across restarts) and refuses matching tokens. An entry only
// needs to live as long as the longest access token.
import { sql } from '../db/drizzle.ts';
import type { Db } from '../db/open-database.ts';
import { queryRows } from '../db/open-database.ts';
import type { Logger } from '../logger.ts';
import type { EventEnvelope, EventTransport, Subscription } from '../events/event.ts';
import { every, type Every } from '../every.ts';
import { followBroadcast } from '../events/follow-broadcast.ts';
import type { Metrics } from '../metrics.ts';
import { TokenRevoked } from './token-revoked.ts';

/** Longer than the token verifier's clock leeway (5 s). */
const keepAfterExpirySec = 60;

export class RevocationList {
  readonly #tokens = new Map<string, number>();
  readonly #grants = new Map<string, number>();
  readonly #subjects = new Map<string, { issuedBeforeMs: number; expiresAt: number }>();
  readonly #listeners = new Set<() => void>();
  readonly #db: Db;
  readonly #logger: Logger;
  readonly #metrics: Pick<Metrics, 'eventsDeadLettered'>;
  #subscription: Subscription | undefined;
  #pruning: Every | undefined;

  constructor(db: Db, logger: Logger, metrics: Pick<Metrics, 'eventsDeadLettered'>) {
    this.#db = db;
    this.#logger = logger;
    this.#metrics = metrics;
  }

  isRevoked(token: { tokenId: string; subject: string; issuedAtMs: number; grantId: string | undefined }): boolean {
    if (this.#tokens.has(token.tokenId)) return true;
    if (token.grantId !== undefined && this.#grants.has(token.grantId)) return true;
    const subject = this.#subjects.get(token.subject);
    return subject !== undefined && token.issuedAtMs < subject.issuedBeforeMs;
  }

  /**
   * Calls `listener` after each revocation is recorded (here or from the event), so that what
   * outlives a request (a live stream) can check its token again. Returns the unsubscribe.
   */
  onRevoked(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Loads what this service stored, then follows the event (replaying `replayMs` of history) as `follower`, the service. */
  async start(transport: EventTransport, replayMs: number, follower: string): Promise<void> {
    const rows = await queryRows<{ key: string; issued_before: string | Date | null; expires_at: string | Date }>(this.#db,
      sql`select key, issued_before, expires_at from revocations where expires_at > now()`);
    for (const row of rows) {
      const expiresAt = toSeconds(row.expires_at);
      if (row.key.startsWith('jti:')) this.#tokens.set(row.key.slice(4), expiresAt);
      else if (row.key.startsWith('gid:')) this.#grants.set(row.key.slice(4), expiresAt);
      else this.#subjects.set(row.key.slice(4), { issuedBeforeMs: new Date(row.issued_before ?? row.expires_at).getTime(), expiresAt });
    }
    this.#subscription = await followBroadcast(transport, TokenRevoked, (event) => this.#onEvent(event), { follower, replayMs, logger: this.#logger, metrics: this.#metrics });
    // Memory is pruned even while the database is away (its delete then fails, logged, and waits).
    this.#pruning = every({ name: 'revocation pruning', everyMs: 60_000, run: () => this.prune(), logger: this.#logger });
  }

  /** Records a revocation locally (auth calls this for its own tokens before the event travels). */
  async add(revoked: TokenRevoked, tx: Db = this.#db): Promise<void> {
    // Memory first: this instance refuses the token from now on even if the write below fails
    // (the write only serves restarts, which the transport's replay also covers).
    if (revoked.jti !== undefined) this.#tokens.set(revoked.jti, revoked.expiresAt);
    if (revoked.grantId !== undefined) this.#grants.set(revoked.grantId, Math.max(this.#grants.get(revoked.grantId) ?? 0, revoked.expiresAt));
    const issuedBeforeMs = revoked.issuedBeforeMs ?? (revoked.issuedBefore === undefined ? undefined : revoked.issuedBefore * 1000);
    if (revoked.sub !== undefined && issuedBeforeMs !== undefined) {
      const current = this.#subjects.get(revoked.sub);
      this.#subjects.set(revoked.sub, {
        issuedBeforeMs: Math.max(current?.issuedBeforeMs ?? 0, issuedBeforeMs),
        expiresAt: Math.max(current?.expiresAt ?? 0, revoked.expiresAt),
      });
    }
    for (const listener of this.#listeners) listener();
    const expiresAt = new Date(revoked.expiresAt * 1000).toISOString();
    if (revoked.jti !== undefined) {
      await tx.execute(sql`insert into revocations (key, expires_at) values (${'jti:' + revoked.jti}, ${expiresAt}) on conflict (key) do nothing`);
    }
    if (revoked.grantId !== undefined) {
      await tx.execute(sql`insert into revocations (key, expires_at) values (${'gid:' + revoked.grantId}, ${expiresAt})
        on conflict (key) do update set expires_at = greatest(revocations.expires_at, excluded.expires_at)`);
    }
    if (revoked.sub !== undefined && issuedBeforeMs !== undefined) {
      const issuedBefore = new Date(issuedBeforeMs).toISOString();
      await tx.execute(sql`insert into revocations (key, issued_before, expires_at) values (${'sub:' + revoked.sub}, ${issuedBefore}, ${expiresAt})
        on conflict (key) do update set issued_before = greatest(revocations.issued_before, excluded.issued_before), expires_at = greatest(revocations.expires_at, excluded.expires_at)`);
    }
  }

  async #onEvent(event: EventEnvelope<TokenRevoked>): Promise<void> {
    await this.add(event.data);
    this.#logger.info({ eventId: event.id, jti: event.data.jti, grantId: event.data.grantId, sub: event.data.sub }, 'token revocation recorded');
  }

  async prune(nowSec = Math.floor(Date.now() / 1000)): Promise<void> {
    // Kept past `exp` by more than the verifier's clock leeway, which still accepts a token then.
    const until = nowSec - keepAfterExpirySec;
    for (const [jti, expiresAt] of this.#tokens) if (expiresAt < until) this.#tokens.delete(jti);
    for (const [grantId, expiresAt] of this.#grants) if (expiresAt < until) this.#grants.delete(grantId);
    for (const [sub, entry] of this.#subjects) if (entry.expiresAt < until) this.#subjects.delete(sub);
    await this.#db.execute(sql`delete from revocations where expires_at < now() - make_interval(secs => ${keepAfterExpirySec})`).catch((error: unknown) => this.#logger.warn({ err: error }, 'pruning revocations failed'));
  }

  async stop(): Promise<void> {
    await this.#pruning?.stop();
    await this.#subscription?.stop();
  }
}

function toSeconds(value: string | Date): number {
  return Math.floor(new Date(value).getTime() / 1000);
}
