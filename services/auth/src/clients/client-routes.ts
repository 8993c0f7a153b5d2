// The admin API for OAuth clients (apps that sign users in, and third-party back ends using
// client_credentials; build-client.ts has the rules): register, list, read, rotate the secret, delete. Clients live in oidc-provider's storage (model `Client`), so the provider finds
// them like any dynamically registered client; metadata is validated by the provider itself, and
// redirect URIs are matched exactly. Static clients (the platform's services, OAUTH_CLIENTS) are
// configuration and not managed here.
import { Type } from '@fastify/type-provider-typebox';
import type { ProviderRef } from '../oidc/provider-ref.ts';
import { protectedRoutes } from '@paymesh/platform/auth/authenticate';
import type { HttpServer } from '@paymesh/platform/http-server';
import type { Runtime } from '@paymesh/platform/runtime';
import { authErrors } from '../errors.ts';
import { createAdapter } from '../oidc/create-adapter.ts';
import { buildClient, registration, type StoredClient } from './build-client.ts';
import { hashClientSecret, newClientSecret } from './client-secret.ts';
import { deleteClient } from './delete-client.ts';
import { listClients } from './list-clients.ts';

const idParams = Type.Object({ client_id: Type.String({ pattern: '^cli_[A-Za-z0-9_-]{1,64}$' }) });

/** The API's view: never the secret (it is shown once, when issued), nor its digest. */
function publicClient(client: StoredClient) {
  return {
    client_id: client.client_id,
    client_name: client.client_name,
    type: client.token_endpoint_auth_method === 'none' ? 'public' : 'confidential',
    token_endpoint_auth_method: client.token_endpoint_auth_method,
    redirect_uris: client.redirect_uris,
    post_logout_redirect_uris: client.post_logout_redirect_uris ?? [],
    grant_types: client.grant_types,
    scope: client.scope,
    resource_scopes: client.paymesh_resource_scopes ?? null,
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

  // Only admins manage OAuth clients.
  const config = { callers: ['admin'] } as const;
  protectedRoutes(app, runtime.verify, (scope) => {
    scope.post('/auth/clients', { config, schema: { body: registration } }, async (request, reply) => {
      const { client, secret } = buildClient(request.body, Math.floor(Date.now() / 1000));
      await save(client);
      return reply.code(201).send({ ...publicClient(client), ...(secret === undefined ? {} : { client_secret: secret, client_secret_expires_at: 0 }) });
    });

    scope.get('/auth/clients', { config }, async () => {
      return { object: 'list', data: (await listClients(db)).map(publicClient) };
    });

    scope.get('/auth/clients/:client_id', { config, schema: { params: idParams } }, async (request) => publicClient(await load(request.params.client_id)));

    // The new secret replaces the old one at once; it is shown only in this response.
    scope.post('/auth/clients/:client_id/secret', { config, schema: { params: idParams } }, async (request) => {
      const client = await load(request.params.client_id);
      if (client.token_endpoint_auth_method === 'none') throw authErrors.publicClientHasNoSecret();
      if (client.token_endpoint_auth_method === 'private_key_jwt') throw authErrors.keyClientHasNoSecret();
      const secret = newClientSecret();
      await save({ ...client, client_secret: hashClientSecret(secret) });
      return { ...publicClient(client), client_secret: secret, client_secret_expires_at: 0 };
    });

    // Its grants end with it (delete-client.ts).
    scope.delete('/auth/clients/:client_id', { config, schema: { params: idParams } }, async (request, reply) => {
      await load(request.params.client_id);
      await deleteClient(runtime, request.params.client_id);
      return reply.code(204).send();
    });
  });
}
