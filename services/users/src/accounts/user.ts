import { sql } from '@paymesh/platform/db/open-database';
import { queryRows, type Db } from '@paymesh/platform/db/open-database';

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

/** What the API shows of a user. Never the hash. */
export function publicUser(row: UserRow) {
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
  if (!/^[1-9]\d{0,17}$/.test(id)) return undefined;
  const rows = await queryRows<UserRow>(db, options.forUpdate === true
    ? sql`select * from users where id = ${id} for update`
    : sql`select * from users where id = ${id}`);
  return rows[0];
}

export async function findUserByLogin(db: Db, login: string): Promise<UserRow | undefined> {
  const rows = await queryRows<UserRow>(db, sql`select * from users where lower(username) = lower(${login}) or lower(email) = lower(${login}) limit 1`);
  return rows[0];
}
