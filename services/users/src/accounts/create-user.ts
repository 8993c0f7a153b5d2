import { sql } from '@paymesh/platform/db/open-database';
import { queryRows, type Db } from '@paymesh/platform/db/open-database';
import { enqueueEvent } from '@paymesh/platform/events/enqueue-event';
import { hashPassword } from '../credentials/password-hash.ts';
import { usersErrors } from '../errors.ts';
import type { UserRow } from './user.ts';
import type { Registration } from './validate-registration.ts';

/** Creates an account and announces it; a duplicate username or email (any case) is a 409. */
export async function createUser(db: Db, registration: Registration, role: 'user' | 'admin' = 'user'): Promise<UserRow> {
  const passwordHash = await hashPassword(registration.password);
  try {
    return await db.transaction(async (tx) => {
      const [user] = await queryRows<UserRow>(tx, sql`
        insert into users (username, email, password_hash, role)
        values (${registration.username}, ${registration.email}, ${passwordHash}, ${role})
        returning *`);
      // Ids only: events outlive a deletion (outbox, stream), personal data must not.
      await enqueueEvent(tx, 'user.registered', { user_id: Number(user!.id), role });
      return user!;
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw usersErrors.identityTaken();
    throw error;
  }
}

export function isUniqueViolation(error: unknown): boolean {
  for (let e: unknown = error; e instanceof Error || (typeof e === 'object' && e !== null); e = (e as { cause?: unknown }).cause) {
    if ((e as { code?: string }).code === '23505') return true;
    if ((e as { cause?: unknown }).cause === undefined) break;
  }
  return false;
}
