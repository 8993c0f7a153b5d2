import { Type, type Static } from '@fastify/type-provider-typebox';
import { sql } from '@paymesh/platform/db/open-database';
import { queryRows, type Db } from '@paymesh/platform/db/open-database';
import { localUserId, type Caller } from '@paymesh/platform/auth/caller';
import { platformErrors } from '@paymesh/platform/errors';
import { isNormalizedLogin, loginKey } from '@paymesh/platform/login-key';
import { usersErrors } from '../errors.ts';
import { isNumericId } from '@paymesh/platform/ids';

export interface UserRow {
  id: string;
  username: string | null;
  email: string | null;
  password_hash: string | null;
  display_name: string | null;
  role: 'user' | 'admin';
  status: 'active' | 'disabled' | 'deleted';
  email_verified_at: string | Date | null;
  pending_email: string | null;
  created_at: string | Date;
}

/** A user as the API shows it (publicUser writes it). */
export const userSchema = Type.Object({
  id: Type.Integer({ description: 'The user id.' }),
  username: Type.Union([Type.String(), Type.Null()], { description: 'Null once the account is deleted.' }),
  email: Type.Union([Type.String(), Type.Null()], { description: 'The address in use (mail goes here). Null once the account is deleted.' }),
  display_name: Type.Union([Type.String(), Type.Null()]),
  email_verified: Type.Boolean({ description: 'Whether `email` was confirmed by its emailed link.' }),
  pending_email: Type.Union([Type.String(), Type.Null()], { description: 'A new address waiting for its confirmation link to be followed; `email` stays in use until then.' }),
  role: Type.Union([Type.Literal('user'), Type.Literal('admin')]),
  status: Type.Union([Type.Literal('active'), Type.Literal('disabled'), Type.Literal('deleted')], { description: 'A disabled user cannot log in, pay or use a live token; a deleted account is a tombstone with its personal data erased.' }),
  created_at: Type.String({ format: 'date-time', description: 'When the account was created (ISO 8601, UTC).' }),
}, { description: 'A user account. Never its password or hash.' });
export type PublicUser = Static<typeof userSchema>;

/** What the API shows of a user. Never the hash. */
export function publicUser(row: UserRow): PublicUser {
  return {
    id: Number(row.id),
    username: row.username,
    email: row.email,
    display_name: row.display_name,
    email_verified: row.email_verified_at !== null,
    // An address waiting for its confirmation link; the one above stays in use until then.
    pending_email: row.pending_email,
    role: row.role,
    status: row.status,
    created_at: new Date(row.created_at).toISOString(),
  };
}

export async function findUserById(db: Db, id: string, options: { forUpdate?: boolean } = {}): Promise<UserRow | undefined> {
  // The plain form only: '007' is not user 7 (ids compare as strings in access checks).
  if (!isNumericId(id)) return undefined;
  const rows = await queryRows<UserRow>(db, options.forUpdate === true
    ? sql`select * from users where id = ${id} for update`
    : sql`select * from users where id = ${id}`);
  return rows[0];
}

/** The accounts with these ids (plain numeric spellings, as findUserById), in no particular order. */
export async function findUsersByIds(db: Db, ids: readonly string[]): Promise<UserRow[]> {
  const plain = ids.filter(isNumericId);
  if (plain.length === 0) return [];
  return queryRows<UserRow>(db, sql`select * from users where id in (select jsonb_array_elements_text(${JSON.stringify(plain)}::jsonb)::bigint)`);
}

/**
 * The account whose username or email has the login key of `login` (the one folding auth counts
 * guesses by). A name not in NFC is no account's: every stored name is NFC.
 */
export async function findUserByLogin(db: Db, login: string): Promise<UserRow | undefined> {
  if (!isNormalizedLogin(login)) return undefined;
  const key = loginKey(login);
  const rows = await queryRows<UserRow>(db, sql`select * from users where username_key = ${key} or email_key = ${key} limit 1`);
  return rows[0];
}

/** The caller's own account, if it may still act: a deleted one is gone (404), a disabled one is frozen (403). */
export function activeAccount(user: UserRow | undefined): UserRow {
  if (user === undefined || user.status === 'deleted') throw usersErrors.userNotFound();
  if (user.status !== 'active') throw platformErrors.forbidden('This account is disabled.');
  return user;
}

/**
 * Whether the admin a token names still is one. A token carries the role it was issued with; a
 * demotion or a disabling reaches the token only when auth's revocation has travelled (and spares
 * tokens of the change's own second), so the routes that administer accounts ask the table.
 */
export async function stillAdmin(db: Db, caller: Caller): Promise<boolean> {
  const user = await findUserById(db, localUserId(caller));
  return user?.role === 'admin' && user.status === 'active';
}
