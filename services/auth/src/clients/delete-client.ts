// A client's grants end with it: their live access tokens are revoked everywhere first, then its
// refresh tokens, codes and grants are deleted, and the client itself.
import { queryRows, sql } from '@paymesh/platform/db/open-database';
import type { Runtime } from '@paymesh/platform/runtime';
import { createAdapter } from '../oidc/create-adapter.ts';
import { revokeGrantTokens } from '../revocation/revoke-grant-tokens.ts';

export async function deleteClient(runtime: Runtime, clientId: string): Promise<void> {
  const { db } = runtime.database;
  const grants = await queryRows<{ id: string }>(db, sql`select id from oidc_models where model = 'Grant' and payload->>'clientId' = ${clientId}`);
  for (const { id } of grants) await revokeGrantTokens(runtime, id);
  await new (createAdapter(db))('Client').destroy(clientId);
  await db.execute(sql`delete from oidc_models where model <> 'Client' and payload->>'clientId' = ${clientId}`);
}
