// oidc-provider's storage adapter on this service's database (PGlite or PostgreSQL).
import { sql } from '@paymesh/platform/db/open-database';
import { queryRows, type Db } from '@paymesh/platform/db/open-database';

type Payload = Record<string, unknown> & { grantId?: string; userCode?: string; uid?: string; consumed?: number };

export function createAdapter(db: Db) {
  return class PostgresAdapter {
    readonly model: string;

    constructor(model: string) {
      this.model = model;
    }

    async upsert(id: string, payload: Payload, expiresInSec: number | undefined): Promise<void> {
      const expiresAt = expiresInSec === undefined ? null : new Date(Date.now() + expiresInSec * 1000).toISOString();
      await db.execute(sql`
        insert into oidc_models (model, id, payload, grant_id, user_code, uid, expires_at)
        values (${this.model}, ${id}, ${JSON.stringify(payload)}::jsonb, ${payload.grantId ?? null}, ${payload.userCode ?? null}, ${payload.uid ?? null}, ${expiresAt})
        on conflict (model, id) do update set payload = excluded.payload, grant_id = excluded.grant_id,
          user_code = excluded.user_code, uid = excluded.uid, expires_at = excluded.expires_at`);
    }

    async find(id: string): Promise<Payload | undefined> {
      return this.#findWhere(sql`id = ${id}`);
    }

    async findByUserCode(userCode: string): Promise<Payload | undefined> {
      return this.#findWhere(sql`user_code = ${userCode}`);
    }

    async findByUid(uid: string): Promise<Payload | undefined> {
      return this.#findWhere(sql`uid = ${uid}`);
    }

    async consume(id: string): Promise<void> {
      await db.execute(sql`update oidc_models set consumed_at = now() where model = ${this.model} and id = ${id}`);
    }

    async destroy(id: string): Promise<void> {
      await db.execute(sql`delete from oidc_models where model = ${this.model} and id = ${id}`);
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      await db.execute(sql`delete from oidc_models where grant_id = ${grantId}`);
    }

    async #findWhere(condition: ReturnType<typeof sql>): Promise<Payload | undefined> {
      const rows = await queryRows<{ payload: Payload; consumed_at: string | Date | null }>(db, sql`
        select payload, consumed_at from oidc_models
        where model = ${this.model} and ${condition} and (expires_at is null or expires_at > now())`);
      const row = rows[0];
      if (row === undefined) return undefined;
      return row.consumed_at === null ? row.payload : { ...row.payload, consumed: Math.floor(new Date(row.consumed_at).getTime() / 1000) };
    }
  };
}

/** Deletes expired rows; run on a timer. */
export async function deleteExpiredModels(db: Db): Promise<void> {
  await db.execute(sql`delete from oidc_models where expires_at < now()`);
}
