// Verifies RFC 9068 access tokens locally: signature against the issuer's JWKS (fetched, cached,
// refetched for an unknown kid at most once per cooldown), an algorithm allowlist (never `none`,
// never HMAC, so a public key cannot be used as a shared secret), issuer, audience, typ at+jwt,
// exp/nbf with a small leeway, then the revocation list. jose never follows jku/x5u/jwk headers.
import { createRemoteJWKSet, customFetch, decodeJwt, errors, jwtVerify, type JWTPayload } from 'jose';
import { platformErrors } from '../errors.ts';
import type { Caller } from './caller.ts';
import type { RevocationList } from './revocation-list.ts';

export interface TrustedIssuer {
  readonly issuer: string;
  /** Where the keys are fetched (may differ from the public issuer URL inside a cluster). */
  readonly jwksUrl: string;
  /** The audience required; with several, any one of them. */
  readonly audience: string | readonly string[];
  /**
   * Whether this issuer vouches for the platform's own services (client_credentials tokens are
   * trusted to act for any user). Only our own auth does; an external issuer's tokens are always
   * users, with subjects prefixed by `external:` so they can never be mistaken for a local user id.
   */
  readonly ownIssuer: boolean;
}

export interface TokenVerifierOptions {
  readonly issuers: readonly TrustedIssuer[];
  readonly algorithms?: readonly string[];
  readonly clockToleranceSec?: number;
  /** How many verified tokens to remember (see below); 0 turns the cache off. */
  readonly cacheSize?: number;
  /** The clock, in epoch milliseconds (tests freeze it). */
  readonly now?: () => number;
  readonly jwksCooldownMs?: number;
  /** Told of each JWKS fetch (metrics: jwks_refreshes_total), so a failing issuer shows before tokens fail. */
  readonly onJwksFetch?: (outcome: 'ok' | 'failed') => void;
  readonly revocations: RevocationList | undefined;
}

export class InvalidTokenError extends Error {}

export type TokenVerifier = (token: string) => Promise<Caller>;

export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  const algorithms = [...(options.algorithms ?? ['ES256', 'EdDSA'])];
  if (algorithms.some((alg) => alg === 'none' || alg.startsWith('HS'))) throw new Error('symmetric and unsigned algorithms are never allowed for access tokens');
  const trusted = new Map(options.issuers.map((i) => [i.issuer, { ...i, keys: keysOf(i.jwksUrl, options.jwksCooldownMs ?? 30_000, options.onJwksFetch) }]));

  // A token is usually presented many times in its life. Having verified the signature and the
  // claims once, the exact same token string needs only its expiry and the revocation list checked
  // again: the signature check costs ~5 % of a cheap request's CPU (docs/benchmarks.md).
  const cacheSize = options.cacheSize ?? 10_000;
  const toleranceSec = options.clockToleranceSec ?? 5;
  const now = options.now ?? Date.now;
  const verified = new Map<string, Caller>();

  return async (token) => {
    const cached = verified.get(token);
    if (cached !== undefined) {
      if (now() / 1000 > cached.expiresAtSec + toleranceSec) {
        verified.delete(token);
        throw new InvalidTokenError('"exp" claim timestamp check failed');
      }
      if (options.revocations?.isRevoked(cached)) throw new InvalidTokenError('revoked');
      return cached;
    }
    let unverified: JWTPayload;
    try {
      unverified = decodeJwt(token);
    } catch {
      throw new InvalidTokenError('malformed token');
    }
    const issuer = trusted.get(String(unverified.iss));
    if (issuer === undefined) throw new InvalidTokenError('untrusted issuer');
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, issuer.keys, {
        issuer: issuer.issuer,
        audience: typeof issuer.audience === 'string' ? issuer.audience : [...issuer.audience],
        algorithms,
        typ: 'at+jwt',
        clockTolerance: toleranceSec,
        currentDate: new Date(now()),
        requiredClaims: ['exp', 'iat', 'sub', 'jti'],
      }));
    } catch (error) {
      // The keys could not be fetched: that is our outage, not the caller's bad token.
      if (error instanceof JwksUnavailableError || !(error instanceof errors.JOSEError)) throw platformErrors.serviceUnavailable('The token issuer cannot be reached; retry later.');
      throw new InvalidTokenError((error as Error).message);
    }
    // jose accepts any `iat`; one in the future would escape a subject's cut-off (and claims a
    // token that does not exist yet), so only the clock leeway is allowed.
    if (typeof payload.iat !== 'number' || payload.iat > now() / 1000 + toleranceSec) throw new InvalidTokenError('"iat" claim in the future');
    const caller = toCaller(payload, issuer.ownIssuer);
    if (options.revocations?.isRevoked(caller)) throw new InvalidTokenError('revoked');
    if (cacheSize > 0) {
      // Oldest first out: a Map iterates in insertion order.
      if (verified.size >= cacheSize) verified.delete(verified.keys().next().value!);
      verified.set(token, caller);
    }
    return caller;
  };
}

class JwksUnavailableError extends Error {}

/**
 * The issuer's keys. Every failure to get them (timeout, refused connection, a 5xx answer) is an
 * outage on our side; only "no key matches this token" says something about the token.
 */
function keysOf(jwksUrl: string, cooldownMs: number, onFetch: ((outcome: 'ok' | 'failed') => void) | undefined) {
  const counted = async (url: string, init: RequestInit) => {
    try {
      const response = await fetch(url, init);
      onFetch?.(response.ok ? 'ok' : 'failed');
      return response;
    } catch (error) {
      onFetch?.('failed');
      throw error;
    }
  };
  const remote = createRemoteJWKSet(new URL(jwksUrl), { cooldownDuration: cooldownMs, timeoutDuration: 5_000, [customFetch]: counted });
  return async (...args: Parameters<typeof remote>) => {
    try {
      return await remote(...args);
    } catch (error) {
      if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys || error instanceof errors.JOSENotSupported) throw error;
      throw new JwksUnavailableError(`JWKS at ${jwksUrl}: ${(error as Error).message}`, { cause: error });
    }
  };
}

function toCaller(payload: JWTPayload, ownIssuer: boolean): Caller {
  const clientId = typeof payload.client_id === 'string' ? payload.client_id : '';
  const scopes = new Set(typeof payload.scope === 'string' ? payload.scope.split(' ').filter(Boolean) : []);
  const role = ownIssuer && (payload.role === 'admin' || payload.role === 'user') ? payload.role : undefined;
  // Only our own auth vouches for services, and only for the platform's own service clients, which
  // it marks with `paymesh_service`; any other client_credentials token is nobody's user.
  const kind = ownIssuer && clientId !== '' && payload.sub === clientId && role === undefined && payload.paymesh_service === true ? 'service' : 'user';
  return {
    kind,
    subject: ownIssuer ? String(payload.sub) : `external:${String(payload.sub)}`,
    clientId,
    role,
    scopes,
    tokenId: String(payload.jti),
    grantId: ownIssuer && typeof payload.gid === 'string' ? payload.gid : undefined,
    issuer: String(payload.iss),
    issuedAtSec: Number(payload.iat),
    issuedAtMs: issuedAtMs(payload, ownIssuer),
    expiresAtSec: Number(payload.exp),
  };
}

/** `iat_ms` is only believed from our own auth, and only inside the `iat` second it refines. */
function issuedAtMs(payload: JWTPayload, ownIssuer: boolean): number {
  const iatMs = Number(payload.iat) * 1000;
  const fine = payload.iat_ms;
  if (ownIssuer && typeof fine === 'number' && Number.isSafeInteger(fine) && fine >= iatMs && fine < iatMs + 1000) return fine;
  return iatMs;
}
