/** Who is calling, as established from a verified access token. */
export interface Caller {
  readonly kind: 'user' | 'service';
  /** The token's `sub`: a user id for users, the client id for services. */
  readonly subject: string;
  readonly clientId: string;
  readonly role: 'user' | 'admin' | undefined;
  readonly scopes: ReadonlySet<string>;
  readonly tokenId: string;
  readonly issuer: string;
  readonly issuedAtSec: number;
  readonly expiresAtSec: number;
}

export function isAdmin(caller: Caller): boolean {
  return caller.kind === 'user' && caller.role === 'admin';
}

/** A user acting on their own resource, an admin, or a trusted service. */
export function mayActFor(caller: Caller, userId: string): boolean {
  if (caller.kind === 'service') return true;
  return caller.subject === userId || isAdmin(caller);
}
