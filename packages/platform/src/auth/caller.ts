import { platformErrors } from '../errors.ts';
import { isNumericId } from '../ids.ts';

/** Who is calling, as established from a verified access token. */
export interface Caller {
  readonly kind: 'user' | 'service';
  /** The token's `sub`: a user id for users, the client id for services. */
  readonly subject: string;
  readonly clientId: string;
  readonly role: 'user' | 'admin' | undefined;
  readonly scopes: ReadonlySet<string>;
  readonly tokenId: string;
  /** The grant (authorization) the token was issued under, when the issuer says so (`gid`). */
  readonly grantId: string | undefined;
  readonly issuer: string;
  readonly issuedAtSec: number;
  /**
   * When the token was issued, in epoch ms: our auth's `iat_ms` claim when it agrees with `iat`,
   * otherwise the start of the `iat` second (the earliest it can have been issued, so a cut made
   * within that second refuses it).
   */
  readonly issuedAtMs: number;
  readonly expiresAtSec: number;
}

/**
 * The caller's local user id. A user signed in at an external issuer has a subject like
 * `external:<sub>` that names no account here: they are refused until accounts can be linked.
 */
export function localUserId(caller: Caller): string {
  if (caller.kind !== 'user' || !isNumericId(caller.subject)) throw platformErrors.forbidden('This identity is not linked to a Paymesh user.');
  return caller.subject;
}

/** An admin acting through a token that carries the admin scope (first-party tokens only). */
export function isAdmin(caller: Caller): boolean {
  return caller.kind === 'user' && caller.role === 'admin' && caller.scopes.has('users:admin');
}

/** A user acting on their own resource, an admin, or a trusted service. */
export function mayActFor(caller: Caller, userId: string): boolean {
  if (caller.kind === 'service') return true;
  return caller.subject === userId || isAdmin(caller);
}
