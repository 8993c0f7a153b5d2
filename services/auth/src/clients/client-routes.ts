// The admin API for OAuth clients (the apps that sign users in): register, list, read, rotate the
// secret, delete. Clients live in oidc-provider's storage (model `Client`), so the provider finds
// them like any dynamically registered client; metadata is validated by the provider itself, and
// redirect URIs are matched exactly. Static clients (the platform's services, OAUTH_CLIENTS) are
// configuration and not managed here.
import { randomBytes } from 'node:crypto';
import { Type } from '@fastify/type-provider-typebox';
import type { ProviderRef } from '../oidc/create-provider.ts';
import type { ClientMetadata } from 'oidc-provider';
import { isAdmin } from '@paymesh/platform/auth/caller';
import { protectedRoutes } from '@paymesh/platform/auth/authenticate';
import { platformErrors } from '@paymesh/platform/errors';
import { queryRows, sql, type Db } from '@paymesh/platform/db/open-database';
import type { HttpServer } from '@paymesh/platform/http-server';
import type { Runtime } from '@paymesh/platform/runtime';
import { authErrors } from '../errors.ts';
import { createAdapter } from '../oidc/create-adapter.ts';
import { revokeGrantTokens } from '../revocation/revoke-grant-tokens.ts';

/** What a newly registered app may ask for unless told otherwise. */
const defaultScope = 'openid profile email offline_access payments:read payments:write notifications:read notifications:write users:read';

const registration = Type.Object({
  client_name: Type.String({ minLength: 1, maxLength: 100 }),
  type: Type.Union([Type.Literal('public'), Type.Literal('confidential')]),
  redirect_uris: Type.Array(Type.String({ minLength: 1, maxLength: 2000 }), { minItems: 1, maxItems: 10 }),
  post_logout_redirect_uris: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 2000 }), { maxItems: 10 })),
  scope: Type.Optional(Type.String({ minLength: 1, maxLength: 1000 })),
  first_party: Type.Optional(Type.Boolean()),
}, { additionalProperties: false });

const idParams = Type.Object({ client_id: Type.String({ pattern: '^cli_[A-Za-z0-9_-]{1,64}$' }) });

interface StoredClient extends ClientMetadata {
  client_id: string;
  client_id_issued_at: number;
  paymesh_first_party?: boolean;
}

/** The API's view: never the secret (it is shown once, when issued). */
function publicClient(client: StoredClient) {
  return {
    client_id: client.client_id,
    client_name: client.client_name,
    type: client.token_endpoint_auth_method === 'none' ? 'public' : 'confidential',
    redirect_uris: client.redirect_uris,
    post_logout_redirect_uris: client.post_logout_redirect_uris ?? [],
    grant_types: client.grant_types,
    scope: client.scope,
    first_party: client.paymesh_first_party === true,
    client_id_issued_at: client.client_id_issued_at,
  };
}

export function clientRoutes(app: HttpServer, runtime: Runtime, providerRef: ProviderRef): void {
  const { db } = runtime.database;
  const store = new (createAdapter(db))('Client');

  const load = async (clientId: string): Promise<StoredClient> => {
    const found = (await store.find(clientId)) as StoredClient | undefined;
    if (found === undefined) throw authErrors.clientNotFound();
    return found;
  };

  /** Saves after the provider's own validation; a refusal names the offending metadata. */
  const save = async (client: StoredClient) => {
    try {
      await providerRef.current.Client.validate(client);
    } catch (error) {
      const { error_description: description } = error as { error_description?: string };
      throw authErrors.invalidClientMetadata(description ?? 'The client metadata is not valid.');
    }
    await store.upsert(client.client_id, client as never, undefined);
  };

  protectedRoutes(app, runtime.verify, (scope) => {
    scope.addHook('preHandler', async (request) => {
      if (!isAdmin(request.caller)) throw platformErrors.forbidden('Only admins manage OAuth clients.');
    });

    scope.post('/auth/clients', { schema: { body: registration } }, async (request, reply) => {
      const body = request.body;
      const confidential = body.type === 'confidential';
      const secret = confidential ? randomBytes(32).toString('base64url') : undefined;
      const client: StoredClient = {
        client_id: `cli_${randomBytes(12).toString('base64url')}`,
        client_id_issued_at: Math.floor(Date.now() / 1000),
        client_name: body.client_name,
        redirect_uris: body.redirect_uris,
        post_logout_redirect_uris: body.post_logout_redirect_uris ?? [],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: confidential ? 'client_secret_basic' : 'none',
        scope: body.scope ?? defaultScope,
        paymesh_first_party: body.first_party ?? false,
        ...(secret === undefined ? {} : { client_secret: secret }),
      };
      await save(client);
      return reply.code(201).send({ ...publicClient(client), ...(secret === undefined ? {} : { client_secret: secret, client_secret_expires_at: 0 }) });
    });

    scope.get('/auth/clients', async () => {
      const rows = await queryRows<{ payload: StoredClient }>(db as Db, sql`select payload from oidc_models where model = 'Client' order by (payload->>'client_id_issued_at')::bigint, id`);
      return { object: 'list', data: rows.map((r) => publicClient(r.payload)) };
    });

    scope.get('/auth/clients/:client_id', { schema: { params: idParams } }, async (request) => publicClient(await load(request.params.client_id)));

    // The new secret replaces the old one at once; it is shown only in this response.
    scope.post('/auth/clients/:client_id/secret', { schema: { params: idParams } }, async (request) => {
      const client = await load(request.params.client_id);
      if (client.token_endpoint_auth_method === 'none') throw authErrors.publicClientHasNoSecret();
      const secret = randomBytes(32).toString('base64url');
      await save({ ...client, client_secret: secret });
      return { ...publicClient(client), client_secret: secret, client_secret_expires_at: 0 };
    });

    // Its grants end with it: their live access tokens are revoked everywhere first, then its
    // refresh tokens, codes and grants are deleted.
    scope.delete('/auth/clients/:client_id', { schema: { params: idParams } }, async (request, reply) => {
      await load(request.params.client_id);
      const grants = await queryRows<{ id: string }>(db, sql`select id from oidc_models where model = 'Grant' and payload->>'clientId' = ${request.params.client_id}`);
      for (const { id } of grants) await revokeGrantTokens(runtime, id);
      await store.destroy(request.params.client_id);
      await db.execute(sql`delete from oidc_models where model <> 'Client' and payload->>'clientId' = ${request.params.client_id}`);
      return reply.code(204).send();
    });
  });
}
