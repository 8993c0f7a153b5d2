// Runs a POST under Stripe's idempotency rules (idempotency-key.ts). The handler executes the
// request and returns its outcome; it calls `store` inside the transaction that makes the change,
// so a committed change always has its stored response. A refusal raised while executing is the
// outcome too; an outage is not (the key is released and a retry runs anew, unless the request
// recorded what it began, a refund: then its lease lapses and the retry resumes it). Validation happens
// before `run`: a request that failed it has stored nothing. Every request, with a key or not,
// runs under a lease (request-lease.ts) that holds its claim and its processor attempts.
import { createHmac } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Counter } from 'prom-client';
import { AppError } from '@paymesh/platform/errors';
import type { Db } from '@paymesh/platform/db/open-database';
import type { Logger } from '@paymesh/platform/logger';
import { paymentsErrors } from '../errors.ts';
import { claimIdempotencyKey, holdsIdempotencyKey, IdempotencyClaimLostError, releaseIdempotencyKey, requestFingerprint, storeIdempotentResponse, validateIdempotencyKey } from './idempotency-key.ts';
import { LeaseKeeper, type RequestLease } from './request-lease.ts';

export interface Outcome {
  readonly status: number;
  readonly body: string;
}

export type StoreOutcome = (tx: Db, outcome: Outcome) => Promise<void>;

/** What a running request holds, as its handler sees it. */
export interface Hold {
  /** Its lease: the token that holds the key's claim and the processor attempts the request begins. */
  readonly lease: RequestLease;
  /** The key was taken over from a request that died: what that one began is resumed, not begun again. */
  readonly takenOver: boolean;
  /** What that request recorded having begun (`recordIdempotencyResource`): a refund's id. */
  readonly resource: string | undefined;
}

export interface IdempotentPostsOptions {
  readonly db: Db;
  readonly fingerprintKey: string;
  readonly waitMs: number;
  readonly leaseMs: number;
  readonly logger: Logger;
  readonly replays: Counter<'route'>;
  readonly takeovers: Counter<'route'>;
}

export class IdempotentPosts {
  readonly #options: IdempotentPostsOptions;
  /** A key of its own, derived from the fingerprint key, so the two uses never share one. */
  readonly #secret: string;
  readonly leases: LeaseKeeper;

  constructor(options: IdempotentPostsOptions) {
    this.#options = options;
    this.leases = new LeaseKeeper(options.db, options.leaseMs, options.logger);
    this.#secret = createHmac('sha256', options.fingerprintKey).update('paymesh idempotency request fingerprint').digest('base64url');
  }

  /** What the request asks for, keyed; `/payments/` and `/payments` are the same path. */
  fingerprint(method: string, path: string, body: unknown): string {
    return requestFingerprint(this.#secret, method, path.replace(/(.)\/+$/, '$1'), body);
  }

  /** Validates the Idempotency-Key header early, with the rest of the request. */
  key(request: FastifyRequest): string | undefined {
    return validateIdempotencyKey(request.headers['idempotency-key']);
  }

  async run(request: FastifyRequest, reply: FastifyReply, key: string | undefined, execute: (hold: Hold, store: StoreOutcome) => Promise<Outcome>): Promise<FastifyReply> {
    const send = (outcome: Outcome) => reply.code(outcome.status).type('application/json; charset=utf-8').send(outcome.body);
    const { db, leaseMs } = this.#options;
    if (key === undefined) {
      // No key, nothing to claim; the lease still holds the processor attempts the request begins.
      const lease = this.leases.hold();
      try {
        return send(await execute({ lease, takenOver: false, resource: undefined }, async () => {}));
      } finally {
        this.leases.release(lease);
      }
    }
    const caller = request.caller;
    const scope = `${caller.kind}:${caller.subject}`;
    const path = request.url.split('?')[0]!;
    const route = request.routeOptions.url ?? path;
    const fingerprint = this.fingerprint(request.method, path, request.body);
    const claim = await claimIdempotencyKey(db, scope, key, fingerprint, leaseMs, this.#options.waitMs);
    if (claim.kind === 'replay') {
      this.#options.replays.inc({ route });
      reply.header('idempotent-replayed', 'true');
      return send({ status: claim.status, body: claim.body });
    }
    const { token } = claim;
    if (claim.takenOver) this.#options.takeovers.inc({ route });
    const lease = this.leases.hold({ scope, key, token });
    let stored = false;
    try {
      const outcome = await execute({ lease, takenOver: claim.takenOver, resource: claim.resource }, async (tx, o) => {
        await storeIdempotentResponse(tx, scope, key, token, o.status, o.body);
        stored = true;
      });
      if (!stored) await storeIdempotentResponse(db, scope, key, token, outcome.status, outcome.body);
      return send(outcome);
    } catch (error) {
      // A request that stalled past its lease and was taken over by a retry is not a fault of ours:
      // the key is the retry's now, and so is its outcome (what this request began was rolled back
      // or is resumed by the retry), whatever this request then met (its own check, or a row the
      // retry had already written). Asked before the release below, which deletes our own claim.
      const lost = error instanceof IdempotencyClaimLostError
        || (!(error instanceof AppError) && !(await holdsIdempotencyKey(db, scope, key, token).catch(() => true)));
      // Both only touch a key this request still holds in flight: an outcome that committed, or a
      // claim a retry took over, stays as it is.
      if (error instanceof AppError && error.statusCode < 500) await storeIdempotentResponse(db, scope, key, token, error.statusCode, JSON.stringify(error.toBody())).catch(() => undefined);
      else await releaseIdempotencyKey(db, scope, key, token);
      if (lost) throw paymentsErrors.idempotencyClaimLost();
      throw error;
    } finally {
      this.leases.release(lease);
    }
  }
}
