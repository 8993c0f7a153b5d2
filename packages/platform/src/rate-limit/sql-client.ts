// rate-limiter-flexible's PostgreSQL store speaks to a node-postgres pool (`query({ text, values })`
// answering `{ rows, rowCount }`). The kit's database is PGlite in embedded mode and a pg pool
// otherwise, both behind drizzle: this adapter sends the store's statements through drizzle, so
// both work, and the database's availability tracking sees them like any other query.
import { sql, type Db, type SQL } from '../db/open-database.ts';

interface StoreQuery {
  readonly text: string;
  readonly values?: readonly unknown[];
}

export interface SqlClient {
  query(query: StoreQuery): Promise<{ rows: Record<string, unknown>[]; rowCount: number }>;
}

export function sqlClientOf(db: Db): SqlClient {
  return {
    async query({ text, values = [] }) {
      const result = await db.execute(withParameters(text, values)) as unknown as { rows: Record<string, unknown>[]; rowCount?: number | null; affectedRows?: number };
      // node-postgres counts rows in rowCount; PGlite counts changed rows in affectedRows and
      // leaves a select's count to rows.length.
      const rowCount = result.rows.length > 0 ? result.rows.length : (result.rowCount ?? result.affectedRows ?? 0);
      return { rows: result.rows, rowCount };
    },
  };
}

/** `$1`, `$2`… replaced by drizzle parameters (never spliced into the text). */
function withParameters(text: string, values: readonly unknown[]): SQL {
  const parts = text.split(/\$(\d+)/);
  const chunks: SQL[] = [];
  for (let i = 0; i < parts.length; i++) {
    if (i % 2 === 0) chunks.push(sql.raw(parts[i]!));
    else chunks.push(sql`${values[Number(parts[i]) - 1]}`);
  }
  return sql.join(chunks);
}
