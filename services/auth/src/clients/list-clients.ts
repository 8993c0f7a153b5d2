// The clients registered through the admin API, oldest first (static clients are configuration).
import { queryRows, sql, type Db } from '@paymesh/platform/db/open-database';
import type { StoredClient } from './build-client.ts';

export async function listClients(db: Db): Promise<StoredClient[]> {
  const rows = await queryRows<{ payload: StoredClient }>(db, sql`select payload from oidc_models where model = 'Client' order by (payload->>'client_id_issued_at')::bigint, id`);
  return rows.map((r) => r.payload);
}
