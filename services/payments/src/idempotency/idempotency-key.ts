// Idempotency keys with Stripe's semantics. The first request with a key claims it by inserting
// the row (a unique constraint, never check-then-insert); a repeat with the same parameters gets
// the first response back byte for byte; other parameters are an error; a repeat while the first
// is still running is a 409. Keys are scoped to the caller and kept 24 hours.
import { createHmac, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { queryRows, sql, type Db } from '@paymesh/platform/db/open-database';
import { holdWrite, type HeldWrite } from '@paymesh/platform/db/held-writes';
import { paymentsErrors } from '../errors.ts';
import { leaseEnd } from './request-lease.ts';

export const idempotencyKeyTtlHours = 24;

export type Claim =
  /**
   * `token` identifies this claim: only its holder can store the outcome, even after a takeover.
   * `takenOver`: the key's earlier holder died (its lease lapsed) and may have begun the work;
   * `resource` is what it recorded having begun (a refund), for this request to resume.
   */
  | { readonly kind: 'claimed'; readonly token: string; readonly takenOver: boolean; readonly resource: string | undefined }
  | { readonly kind: 'replay'; readonly status: number; readonly body: string };

/**
 * Fingerprint of what the request asks for: method, path and the parsed body, keys sorted. Keyed
 * (HMAC), because a body may hold a card number and a plain hash of it could be brute-forced.
 */
export function requestFingerprint(secret: string, method: string, path: string, body: unknown): string {
  return createHmac('sha256', secret).update(`${method} ${path}\n${canonicalJson(body)}`).digest('hex');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** Printable ASCII, 1 to 255 characters: the key's rule, checked below and stated in the API document. */
const maxKeyLength = 255;
const keyPattern = '^[\\x21-\\x7e]+$';
const keyRegExp = new RegExp(keyPattern);

/** What the API document says of every POST (the header and its 409): ApiDescription.everyPost. */
export const idempotencyKeyDocumented = {
  headers: {
    'idempotency-key': {
      type: 'string', minLength: 1, maxLength: maxKeyLength, pattern: keyPattern,
      description: 'Makes the request safe to retry: a retry with the same key and the same body gets the first answer, and acts once; the same key with another body answers 400 idempotency_key_reused, and one still running 409. Keys are kept 24 hours. Printable ASCII, at most 255 characters.',
    },
  },
  responses: {
    '409': { description: 'A request with this Idempotency-Key is still running (idempotency_key_in_use): retry later.', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
  },
};

export function validateIdempotencyKey(raw: string | string[] | undefined): string | undefined {
  if (raw === undefined) return undefined;
  if (Array.isArray(raw) || raw.length < 1 || raw.length > maxKeyLength || !keyRegExp.test(raw)) throw paymentsErrors.invalidIdempotencyKey();
  return raw;
}

/**
 * Claims the key, or returns the stored outcome of the request that did. A duplicate of a request
 * still running waits up to `waitMs` for its outcome (so that concurrent retries all get the same
 * response), and takes the key over if the running request's lease lapses meanwhile (its process
 * died); it is refused with 409 when neither happens in time.
 */
export async function claimIdempotencyKey(db: Db, scope: string, key: string, fingerprint: string, leaseMs: number, waitMs = 0): Promise<Claim> {
  const deadline = Date.now() + waitMs;
  for (let pause = 5; ; pause = Math.min(pause * 2, 100)) {
    try {
      return await claimOnce(db, scope, key, fingerprint, leaseMs);
    } catch (error) {
      const inUse = error instanceof Error && 'code' in error && error.code === 'idempotency_key_in_use';
      if (!inUse || Date.now() + pause > deadline) throw error;
      await sleep(pause);
    }
  }
}

async function claimOnce(db: Db, scope: string, key: string, fingerprint: string, leaseMs: number): Promise<Claim> {
  const token = randomUUID();
  const claimed = await queryRows(db, sql`
    insert into idempotency_keys (scope, key, request_fingerprint, state, claim_token, lease_expires_at)
    values (${scope}, ${key}, ${fingerprint}, 'in_flight', ${token}, ${leaseEnd(leaseMs)})
    on conflict (scope, key) do nothing returning key`);
  if (claimed.length > 0) return { kind: 'claimed', token, takenOver: false, resource: undefined };
  const [existing] = await queryRows<{ request_fingerprint: string; state: 'in_flight' | 'done'; response_status: number | null; response_body: string | null; lapsed: boolean }>(db, sql`
    select request_fingerprint, state, response_status, response_body, lease_expires_at <= now() as lapsed
    from idempotency_keys where scope = ${scope} and key = ${key}`);
  if (existing === undefined) return claimOnce(db, scope, key, fingerprint, leaseMs); // reaped or released meanwhile
  if (existing.request_fingerprint !== fingerprint) throw paymentsErrors.idempotencyKeyReused();
  if (existing.state === 'done') return { kind: 'replay', status: existing.response_status!, body: existing.response_body! };
  if (existing.lapsed) {
    // The old holder stopped renewing: its process died. Should it still be running after all, it
    // can no longer store an outcome: its transaction fails and is undone, so only one of the two
    // ever takes effect.
    const [taken] = await queryRows<{ resource_id: string | null }>(db, sql`update idempotency_keys set claim_token = ${token}, lease_expires_at = ${leaseEnd(leaseMs)}
      where scope = ${scope} and key = ${key} and state = 'in_flight' and lease_expires_at <= now() returning resource_id`);
    if (taken !== undefined) return { kind: 'claimed', token, takenOver: true, resource: taken.resource_id ?? undefined };
  }
  throw paymentsErrors.idempotencyKeyInUse();
}

export class IdempotencyClaimLostError extends Error {
  constructor() {
    super('the Idempotency-Key was taken over by a retry while this request ran; its outcome is not stored');
    this.name = 'IdempotencyClaimLostError';
  }
}

/**
 * Stores the outcome if this request still holds the key. Call it in the transaction that makes
 * the change: when the claim was taken over, it throws and the change rolls back.
 */
export async function storeIdempotentResponse(db: Db, scope: string, key: string, token: string, status: number, body: string): Promise<void> {
  const response = { scope, key, token, status, body };
  // In payments' commit group, stored with the group's others at its end (held-writes.ts).
  if (!holdWrite(storedResponses, response)) await storedResponses.write(db, [response]);
}

interface StoredResponse { readonly scope: string; readonly key: string; readonly token: string; readonly status: number; readonly body: string }

/** Responses stored in one statement; any whose claim is no longer held fails them all (the group then stores each alone). */
const storedResponses: HeldWrite<StoredResponse> = {
  async write(db, responses) {
    const stored = await queryRows(db, sql`update idempotency_keys k set state = 'done', response_status = x.status, response_body = x.body
      from jsonb_to_recordset(${JSON.stringify(responses)}::jsonb) as x(scope text, key text, token text, status int, body text)
      where k.scope = x.scope and k.key = x.key and k.state = 'in_flight' and k.claim_token = x.token returning k.key`);
    if (stored.length !== responses.length) throw new IdempotencyClaimLostError();
  },
};

/**
 * Records, in the transaction that begins it, what the request began that a retry taking the key
 * over must resume rather than begin again. Throws, rolling that transaction back, when the claim
 * is no longer this request's.
 */
export async function recordIdempotencyResource(tx: Db, scope: string, key: string, token: string, resource: string): Promise<void> {
  const recorded = await queryRows(tx, sql`update idempotency_keys set resource_id = ${resource}
    where scope = ${scope} and key = ${key} and state = 'in_flight' and claim_token = ${token} returning key`);
  if (recorded.length === 0) throw new IdempotencyClaimLostError();
}

/** Whether the claim `token` still holds the key (a retry has not taken it over). */
export async function holdsIdempotencyKey(db: Db, scope: string, key: string, token: string): Promise<boolean> {
  const held = await queryRows(db, sql`select 1 from idempotency_keys where scope = ${scope} and key = ${key} and claim_token = ${token}`);
  return held.length > 0;
}

/** Gives the key up (the request could not be executed, say a dependency was down): a retry runs anew. */
export async function releaseIdempotencyKey(db: Db, scope: string, key: string, token: string): Promise<void> {
  // A claim that recorded what its request began (a refund reserved, maybe sent to the processor)
  // is kept: its lease lapses and the retry takes it over and resumes that refund with the same
  // processor key, where a released key would run anew and refund a second time.
  await db.execute(sql`delete from idempotency_keys where scope = ${scope} and key = ${key} and state = 'in_flight' and claim_token = ${token} and resource_id is null`);
}

export async function deleteExpiredIdempotencyKeys(db: Db): Promise<void> {
  await db.execute(sql`delete from idempotency_keys where created_at < now() - make_interval(hours => ${idempotencyKeyTtlHours})`);
}
