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
  created_at: string | Date;
}

/** What the API shows of a user. Never the hash. */
export function publicUser(row: UserRow) {
  return {
    id: Number(row.id),
    username: row.username,
    email: row.email,
    display_name: row.display_name,
    role: row.role,
    status: row.status,
    created_at: new Date(row.created_at).toISOString(),
  };
}

export async function findUserById(db: Db, id: string, options: { forUpdate?: boolean } = {}): Promise<UserRow | undefined> {
  if (!/^\d{1,18}$/.test(id)) return undefined;
  const rows = await queryRows<UserRow>(db, options.forUpdate === true
    ? sql`select * from users where id = ${id} for update`
    : sql`select * from users where id = ${id}`);
  return rows[0];
}

export async function findUserByLogin(db: Db, login: string): Promise<UserRow | undefined> {
  const rows = await queryRows<UserRow>(db, sql`select * from users where lower(username) = lower(${login}) or lower(email) = lower(${login}) limit 1`);
  return rows[0];
}
