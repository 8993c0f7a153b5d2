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
      // A row of a revoked account dated before its revocation escaped the delete (a request was
      // writing it then): it does not exist. Dated by the refresh token chain's start, the
      // session's login, or else the row's creation.
      const rows = await queryRows<{ payload: Payload; consumed_at: string | Date | null }>(db, sql`
        select payload, consumed_at from oidc_models
        where model = ${this.model} and ${condition} and (expires_at is null or expires_at > now())
          and not exists (select 1 from account_revocations r where r.account_id = oidc_models.payload->>'accountId'
            and r.issued_before > to_timestamp(coalesce(oidc_models.payload->>'iiat', oidc_models.payload->>'loginTs', oidc_models.payload->>'iat')::double precision))`);
      const row = rows[0];
      if (row === undefined) return undefined;
      return row.consumed_at === null ? row.payload : { ...row.payload, consumed: Math.floor(new Date(row.consumed_at).getTime() / 1000) };
    }
  };
}

/**
 * Ends everything oidc-provider keeps for an account (sessions, grants, authorization and device
 * codes, refresh tokens, interactions in progress), so that nothing of it can mint another token,
 * and refuses from now on whatever of it is dated before `issuedBeforeSec` (see `#findWhere`).
 */
export async function revokeAccountModels(db: Db, accountId: string, issuedBeforeSec: number): Promise<void> {
  const issuedBefore = new Date(issuedBeforeSec * 1000).toISOString();
  await db.execute(sql`insert into account_revocations (account_id, issued_before) values (${accountId}, ${issuedBefore})
    on conflict (account_id) do update set issued_before = greatest(account_revocations.issued_before, excluded.issued_before)`);
  await db.execute(sql`delete from oidc_models where payload->>'accountId' = ${accountId}`);
  // An interaction names the account inside: the signed-in session it started from, or the login
  // just done on the login page and not yet turned into a session.
  await db.execute(sql`delete from oidc_models where model = 'Interaction'
    and (payload->'session'->>'accountId' = ${accountId} or payload->'result'->'login'->>'accountId' = ${accountId})`);
}

/** Deletes expired rows; run on a timer. */
export async function deleteExpiredModels(db: Db): Promise<void> {
  await db.execute(sql`delete from oidc_models where expires_at < now()`);
}
