// A registered OAuth client as the admin API shows it: never the secret (it is shown once, when
// issued, beside the client), nor its digest.
import { Type, type Static } from '@fastify/type-provider-typebox';
import { confidentialAuthMethodSchema, grantTypeSchema, type StoredClient } from './build-client.ts';

export const clientSchema = Type.Object({
  client_id: Type.String({ description: 'The client id (`cli_…`).' }),
  client_name: Type.String(),
  type: Type.Union([Type.Literal('public'), Type.Literal('confidential')], { description: 'public: an app that cannot keep a secret (a browser or mobile app), which authenticates nowhere and uses PKCE; confidential: a back end that authenticates at the token endpoint.' }),
  token_endpoint_auth_method: Type.Union([Type.Literal('none'), ...confidentialAuthMethodSchema.anyOf], { description: 'none for a public client.' }),
  redirect_uris: Type.Array(Type.String()),
  post_logout_redirect_uris: Type.Array(Type.String()),
  grant_types: Type.Array(grantTypeSchema),
  scope: Type.String({ description: 'The scopes the client may ask for, space-separated.' }),
  resource_scopes: Type.Union([Type.Record(Type.String(), Type.String()), Type.Null()], { description: 'Per resource indicator (audience), the scopes the client may have there, space-separated; null when the client registered none.' }),
  first_party: Type.Boolean({ description: 'One of the platform\'s own apps: no consent screen, and the platform-wide audience.' }),
  client_id_issued_at: Type.Integer({ description: 'When the client was registered (Unix seconds).' }),
}, { description: 'A registered OAuth client. Never its secret, nor the secret\'s digest.' });

export type PublicClient = Static<typeof clientSchema>;

const secretFields = {
  client_secret: Type.String({ description: 'The client secret, shown this once: it is stored only as a digest.' }),
  client_secret_expires_at: Type.Literal(0, { description: '0: the secret does not expire (RFC 7591).' }),
};

/** A client just registered: with its secret when it authenticates by one (client_secret_basic, client_secret_post). */
export const registeredClientSchema = Type.Object({
  ...clientSchema.properties,
  client_secret: Type.Optional(secretFields.client_secret),
  client_secret_expires_at: Type.Optional(secretFields.client_secret_expires_at),
}, { description: 'The client registered. A client that authenticates by secret gets it here, once.' });

/** A client with the secret that has just replaced its old one. */
export const clientWithNewSecretSchema = Type.Object({ ...clientSchema.properties, ...secretFields }, { description: 'The client with its new secret, shown this once; the old secret no longer works.' });

export function publicClient(client: StoredClient): PublicClient {
  return {
    client_id: client.client_id,
    client_name: client.client_name,
    type: client.token_endpoint_auth_method === 'none' ? 'public' : 'confidential',
    token_endpoint_auth_method: client.token_endpoint_auth_method,
    // Copies: the stored metadata's arrays are read-only.
    redirect_uris: [...client.redirect_uris],
    post_logout_redirect_uris: [...(client.post_logout_redirect_uris ?? [])],
    grant_types: [...client.grant_types],
    scope: client.scope,
    resource_scopes: client.paymesh_resource_scopes ?? null,
    first_party: client.paymesh_first_party === true,
    client_id_issued_at: client.client_id_issued_at,
  };
}
