// Accounts for admins, in id order; `starting_after` is the last id of the previous page.
import { queryRows, sql, type Db, type SQL } from '@paymesh/platform/db/open-database';
import type { UserRow } from '../accounts/user.ts';
import { pageOf } from '@paymesh/platform/pagination';

export interface UserFilters {
  readonly startingAfter: string | undefined;
  /** A prefix of the username or the email address, any case. */
  readonly prefix: string | undefined;
  readonly role: 'user' | 'admin' | undefined;
  /** Deleted accounts are tombstones: listed only when asked for. */
  readonly status: 'active' | 'disabled' | 'deleted' | undefined;
  readonly emailVerified: boolean | undefined;
}

export async function listUsers(db: Db, filters: UserFilters, limit: number): Promise<{ rows: UserRow[]; hasMore: boolean }> {
  const prefix = filters.prefix === undefined ? undefined : `${filters.prefix.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  const where: SQL[] = [
    filters.startingAfter === undefined ? sql`true` : sql`id > ${filters.startingAfter}`,
    prefix === undefined ? sql`true` : sql`(lower(username) like ${prefix} or lower(email) like ${prefix})`,
    filters.role === undefined ? sql`true` : sql`role = ${filters.role}`,
    filters.status === undefined ? sql`status <> 'deleted'` : sql`status = ${filters.status}`,
    filters.emailVerified === undefined ? sql`true` : filters.emailVerified ? sql`email_verified_at is not null` : sql`email_verified_at is null`,
  ];
  const rows = await queryRows<UserRow>(db, sql`select * from users where ${sql.join(where, sql` and `)} order by id limit ${limit + 1}`);
  return pageOf(rows, limit);
}
