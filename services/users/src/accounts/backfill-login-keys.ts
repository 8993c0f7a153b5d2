// Fills the login keys (migration 0003) of accounts written before they existed, or by a replica
// still running older code during an upgrade. Runs at every start, before the service listens.
import { loginKey } from '@paymesh/platform/login-key';
import { queryRows, sql, type Db } from '@paymesh/platform/db/open-database';
import type { Logger } from '@paymesh/platform/logger';
import { isUniqueViolation } from './create-user.ts';

const loginColumns = [
  { name: 'username', key: 'username_key', remedy: 'cannot sign in by its username until one of them is renamed' },
  { name: 'email', key: 'email_key', remedy: 'cannot sign in by its email address until one of them changes it' },
] as const;

export async function backfillLoginKeys(db: Db, logger: Logger): Promise<void> {
  let filled = 0;
  for (const column of loginColumns) {
    const [name, key] = [sql.raw(column.name), sql.raw(column.key)];
    const rows = await queryRows<{ id: string; value: string }>(db, sql`select id, ${name} as value from users where ${name} is not null and ${key} is null order by id`);
    for (const row of rows) {
      try {
        // Guarded by the value the key was computed from: a change in between sets its own key.
        await db.execute(sql`update users set ${key} = ${loginKey(row.value)} where id = ${row.id} and ${name} = ${row.value}`);
        filled++;
      } catch (error) {
        if (!isUniqueViolation(error)) throw error;
        // The older account keeps the key; the operator decides which name changes.
        logger.error({ userId: Number(row.id), column: column.name }, `another account's ${column.name} folds to the same login key: this account ${column.remedy}`);
      }
    }
  }
  if (filled > 0) logger.info({ filled }, 'login keys filled in');
}
