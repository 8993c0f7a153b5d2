// The admin API for OAuth clients (apps that sign users in, and third-party back ends using
// client_credentials; build-client.ts has the rules): register, list, read, rotate the secret, delete. Clients live in oidc-provider's storage (model `Client`), so the provider finds
// them like any dynamically registered client; metadata is validated by the provider itself, and
// redirect URIs are matched exactly. Static clients (the platform's services, OAUTH_CLIENTS) are
// configuration and not managed here.
import { noContent } from '@paymesh/platform/openapi/no-content';
import { Type } from '@fastify/type-provider-typebox';
import type { ProviderRef } from '../oidc/provider-ref.ts';
import { protectedRoutes } from '@paymesh/platform/auth/authenticate';
import type { HttpServer } from '@paymesh/platform/http-server';
import { errorAnswer } from '@paymesh/platform/openapi/use-open-api';
import type { Runtime } from '@paymesh/platform/runtime';
import { authErrors } from '../errors.ts';
import { createAdapter } from '../oidc/create-adapter.ts';
import { buildClient, registration, type StoredClient } from './build-client.ts';
import { hashClientSecret, newClientSecret } from './client-secret.ts';
import { deleteClient } from './delete-client.ts';
import { listClients } from './list-clients.ts';
import { clientSchema, clientWithNewSecretSchema, publicClient, registeredClientSchema } from './public-client.ts';

// Any spelling is looked for: an id this API could never have issued is as absent as a deleted one
// (404, as payments answers for a malformed payment id), not a lesson in the id's format.
const idParams = Type.Object({ client_id: Type.String({ maxLength: 200 }) });
const issuedId = /^cli_[A-Za-z0-9_-]{1,64}$/;

/** Every registered client at once: the list is not paged (no `has_more`). */
const clientList = Type.Object({
  object: Type.Literal('list'),
  data: Type.Array(clientSchema),
}, { description: 'The clients registered through this API, oldest first; clients given in configuration are not listed.' });

const notFound = errorAnswer('No such OAuth client (client_not_found).');

export function clientRoutes(app: HttpServer, runtime: Runtime, providerRef: ProviderRef): void {
  const { db } = runtime.database;
  const store = new (createAdapter(db))('Client');

  const load = async (clientId: string): Promise<StoredClient> => {
    // Static clients (the platform's services) are configuration: never found here.
    if (!issuedId.test(clientId)) throw authErrors.clientNotFound();
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
    scope.post('/auth/clients', {
      config,
      schema: {
        body: registration,
        response: {
          201: registeredClientSchema,
          400: errorAnswer('A parameter is not valid, the metadata does not hold together, or it asks for what no client of its kind may have (parameter_missing, parameter_unknown, parameter_invalid, client_metadata_invalid, client_privilege_refused).'),
        },
      },
    }, async (request, reply) => {
      const { client, secret } = buildClient(request.body, Math.floor(Date.now() / 1000));
      await save(client);
      return reply.code(201).send({ ...publicClient(client), ...(secret === undefined ? {} : { client_secret: secret, client_secret_expires_at: 0 }) });
    });

    scope.get('/auth/clients', { config, schema: { response: { 200: clientList } } }, async () => {
      return { object: 'list', data: (await listClients(db)).map(publicClient) } as const;
    });

    scope.get('/auth/clients/:client_id', { config, schema: { params: idParams, response: { 200: clientSchema, 404: notFound } } }, async (request) => publicClient(await load(request.params.client_id)));

    // The new secret replaces the old one at once; it is shown only in this response.
    scope.post('/auth/clients/:client_id/secret', {
      config,
      schema: {
        params: idParams,
        response: {
          200: clientWithNewSecretSchema,
          400: errorAnswer('The client id is not valid (parameter_invalid), or the client has no secret to rotate: it is public, or authenticates with its keys (client_is_public, client_uses_keys).'),
          404: notFound,
        },
      },
    }, async (request) => {
      const client = await load(request.params.client_id);
      if (client.token_endpoint_auth_method === 'none') throw authErrors.publicClientHasNoSecret();
      if (client.token_endpoint_auth_method === 'private_key_jwt') throw authErrors.keyClientHasNoSecret();
      const secret = newClientSecret();
      await save({ ...client, client_secret: hashClientSecret(secret) });
      return { ...publicClient(client), client_secret: secret, client_secret_expires_at: 0 } as const;
    });

    // Its grants end with it (delete-client.ts).
    scope.delete('/auth/clients/:client_id', {
      config,
      // `type: 'null'`: no content in the document; typed undefined so that send() needs no body.
      schema: { params: idParams, response: { 204: noContent('Deleted, with its grants: their access tokens are revoked, their refresh tokens and codes gone.'), 404: notFound } },
    }, async (request, reply) => {
      await load(request.params.client_id);
      await deleteClient(runtime, request.params.client_id);
      return reply.code(204).send();
    });
  });
}
