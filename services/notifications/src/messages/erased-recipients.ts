// Users erased by user.deleted. Writers about a user (a message, a delivery attempt's log, a new
// device or endpoint) hold a shared lock on that user while they check and write; the erasure
// holds it exclusively. So a write either commits before the erasure (which then removes it) or
// sees the user erased: nothing about them survives.
import { queryRows, sql, type Db } from '@paymesh/platform/db/open-database';

const lockOf = (userId: string) => sql`hashtext('recipient'), hashtext(${userId})`;

/** Call in the transaction that writes about this user; true when they were erased. */
export async function isErased(tx: Db, userId: string): Promise<boolean> {
  await lockRecipients(tx, [userId]);
  return (await erasedAmong(tx, [userId])).size > 0;
}

/** Which of these users were erased (their ids as PostgreSQL prints them): call in the transaction that writes about them, after lockRecipients. */
export async function erasedAmong(tx: Db, userIds: readonly string[]): Promise<Set<string>> {
  const rows = await queryRows<{ user_id: string }>(tx, sql`select user_id::text as user_id from erased_recipients
    where user_id in (select jsonb_array_elements_text(${JSON.stringify(userIds)}::jsonb)::bigint)`);
  return new Set(rows.map((row) => row.user_id));
}

/**
 * The shared lock of each of these users, in one statement and in id order (so two writers never
 * wait on each other in opposite orders). Read whether they were erased in a later statement:
 * one that started before the lock was granted could miss an erasure committed meanwhile.
 */
export async function lockRecipients(tx: Db, userIds: readonly string[]): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock_shared(hashtext('recipient'), hashtext(r))
    from (select distinct jsonb_array_elements_text(${JSON.stringify(userIds)}::jsonb) as r) recipients order by r`);
}

/** Call first in the erasure's transaction: waits for writes under way, and blocks new ones until it commits. */
export async function markErased(tx: Db, userId: string): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(${lockOf(userId)})`);
  await tx.execute(sql`insert into erased_recipients (user_id) values (${userId}) on conflict do nothing`);
}
