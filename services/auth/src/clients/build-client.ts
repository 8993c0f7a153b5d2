// What an admin may register through the client API, turned into oidc-provider client metadata:
// apps that sign users in (authorization code + PKCE) and third-party back ends that act on their
// own (client_credentials), each with the resources (audiences) and scopes it may have. The
// provider validates the metadata itself afterwards; this file holds the platform's own rules:
// a third party never gets the platform-wide audience, auth's API, admin scopes or service scopes.
import { randomBytes } from 'node:crypto';
import { Type, type Static } from '@fastify/type-provider-typebox';
import type { ClientMetadata } from 'oidc-provider';
import { authErrors } from '../errors.ts';
import { adminScopes, authAudience, platformAudience, resourceScopes, serviceOnlyScopes } from '../oidc/scopes.ts';
import { hashClientSecret, newClientSecret } from './client-secret.ts';

const uris = (maxItems: number) => Type.Array(Type.String({ minLength: 1, maxLength: 2000 }), { maxItems });

export const grantTypeSchema = Type.Union([Type.Literal('authorization_code'), Type.Literal('refresh_token'), Type.Literal('client_credentials')]);
/** How a confidential client authenticates; a public one does not (`none`). */
export const confidentialAuthMethodSchema = Type.Union([Type.Literal('client_secret_basic'), Type.Literal('client_secret_post'), Type.Literal('private_key_jwt')]);

export const registration = Type.Object({
  client_name: Type.String({ minLength: 1, maxLength: 100 }),
  type: Type.Union([Type.Literal('public'), Type.Literal('confidential')]),
  grant_types: Type.Optional(Type.Array(grantTypeSchema, { minItems: 1, maxItems: 3, uniqueItems: true })),
  token_endpoint_auth_method: Type.Optional(confidentialAuthMethodSchema),
  // The client's public keys, for private_key_jwt (RFC 7523): never a private key, which the provider refuses.
  jwks: Type.Optional(Type.Object({ keys: Type.Array(Type.Record(Type.String(), Type.Unknown()), { minItems: 1, maxItems: 5 }) }, { additionalProperties: false })),
  redirect_uris: Type.Optional(uris(10)),
  post_logout_redirect_uris: Type.Optional(uris(10)),
  scope: Type.Optional(Type.String({ minLength: 1, maxLength: 1000 })),
  // Per resource indicator (audience), the scopes the client may have there, space-separated.
  resource_scopes: Type.Optional(Type.Record(Type.String({ maxLength: 200 }), Type.String({ minLength: 1, maxLength: 1000 }), { maxProperties: 10 })),
  first_party: Type.Optional(Type.Boolean()),
}, { additionalProperties: false });
export type Registration = Static<typeof registration>;

/** A client as the admin API stores it (buildClient): the provider's metadata, narrowed to what we register. */
export interface StoredClient extends ClientMetadata {
  client_id: string;
  client_id_issued_at: number;
  client_name: string;
  redirect_uris: readonly string[];
  grant_types: readonly Static<typeof grantTypeSchema>[];
  token_endpoint_auth_method: Static<typeof confidentialAuthMethodSchema> | 'none';
  scope: string;
  paymesh_first_party?: boolean;
  paymesh_resource_scopes?: Record<string, string>;
}

/** What a newly registered app may ask for unless told otherwise. */
const defaultScope = 'openid profile email offline_access payments:read payments:write notifications:read notifications:write users:read users:write';
/** Identity scopes, for apps that sign users in and name their resources. */
const identityScopes = 'openid profile email offline_access';

/**
 * What is wrong with a redirect URI, as the end of a sentence, or undefined.
 * - Where a code may be sent (OAuth 2.1, RFC 9700 §4.1): https, or http to the machine itself (a
 *   native app's loopback listener, RFC 8252 §7.3; localhost while developing).
 * - Matching is exact, character for character, so the registered text must be the one spelling
 *   of its origin (lower case, no default port, no shortened IPv4, no spaces); credentials in it
 *   would travel in every redirect, and a `*` reads as a pattern that matching never applies.
 * Other schemes, and what is not a URL at all, are left to the provider's own checks and messages.
 */
function redirectProblem(uri: string): string | undefined {
  if (uri !== uri.trim() || /[\s\u0000-\u001f\u007f]/.test(uri)) return 'contains spaces or control characters.';
  const url = URL.parse(uri);
  if (url === null || (url.protocol !== 'http:' && url.protocol !== 'https:')) return undefined;
  if (url.username !== '' || url.password !== '') return 'carries credentials (user:password@): a redirect would hand them to every browser.';
  if (uri.includes('*')) return 'contains *: redirect URIs are matched exactly, never as patterns.';
  const origin = `${url.protocol}//${url.host}`;
  const rest = uri.slice(origin.length);
  if (!uri.startsWith(origin) || !(rest === '' || rest.startsWith('/') || rest.startsWith('?'))) return `is not written in its one exact spelling: register ${origin}${url.pathname}${url.search} (redirect URIs are compared character for character).`;
  const loopback = url.hostname === 'localhost' || url.hostname === '[::1]' || /^127(\.\d{1,3}){3}$/.test(url.hostname);
  if (url.protocol === 'http:' && !loopback) return 'is neither https nor http on a loopback address (OAuth 2.1: a code sent in clear text on a network can be taken).';
  return undefined;
}

/** The client's metadata and, for a client authenticated by secret, the secret (shown once). */
export function buildClient(body: Registration, nowSec: number): { client: StoredClient; secret: string | undefined } {
  const confidential = body.type === 'confidential';
  const firstParty = body.first_party ?? false;
  const grantTypes = body.grant_types ?? ['authorization_code', 'refresh_token'];
  const signsUsersIn = grantTypes.includes('authorization_code');
  const invalid = authErrors.invalidClientMetadata;

  if (grantTypes.includes('refresh_token') && !signsUsersIn) throw invalid('refresh_token needs authorization_code.', 'grant_types');
  if (grantTypes.includes('client_credentials')) {
    if (!confidential) throw invalid('client_credentials is for confidential clients.', 'grant_types');
    // A machine client acts for nobody: "first party" (no consent, platform-wide tokens) means nothing for it.
    if (firstParty) throw invalid('client_credentials clients are third parties: first_party must be false.', 'first_party');
    if (body.resource_scopes === undefined) throw invalid('A client_credentials client needs resource_scopes: the audiences and scopes it may have.', 'resource_scopes');
  }
  if (signsUsersIn && (body.redirect_uris ?? []).length === 0) throw invalid('An app that signs users in needs redirect_uris.', 'redirect_uris');
  if (!signsUsersIn && (body.redirect_uris !== undefined || body.post_logout_redirect_uris !== undefined)) throw invalid('redirect_uris are for apps that sign users in (authorization_code).', 'redirect_uris');
  for (const [param, list] of [['redirect_uris', body.redirect_uris], ['post_logout_redirect_uris', body.post_logout_redirect_uris]] as const) {
    for (const uri of list ?? []) {
      const problem = redirectProblem(uri);
      if (problem !== undefined) throw invalid(`${param}: ${JSON.stringify(uri.slice(0, 200))} ${problem}`, param);
    }
  }
  if (!confidential && body.token_endpoint_auth_method !== undefined) throw invalid('A public client does not authenticate.', 'token_endpoint_auth_method');
  const authMethod = confidential ? body.token_endpoint_auth_method ?? 'client_secret_basic' : 'none';
  if ((authMethod === 'private_key_jwt') !== (body.jwks !== undefined)) throw invalid('jwks goes with token_endpoint_auth_method private_key_jwt, and only with it.', 'jwks');

  const resources = body.resource_scopes === undefined ? undefined : checkResourceScopes(body.resource_scopes, firstParty);
  if (body.scope !== undefined) checkPrivileges(body.scope.split(' '), firstParty, 'scope');
  const ownScopes = resources === undefined ? [] : Object.values(resources).flatMap((s) => s.split(' '));
  const baseScope = body.scope ?? (!signsUsersIn ? '' : resources === undefined ? defaultScope : identityScopes);
  const scope = [...new Set([...baseScope.split(' '), ...ownScopes])].filter(Boolean).join(' ');

  const secret = authMethod === 'client_secret_basic' || authMethod === 'client_secret_post' ? newClientSecret() : undefined;
  const client: StoredClient = {
    client_id: `cli_${randomBytes(12).toString('base64url')}`,
    client_id_issued_at: nowSec,
    client_name: body.client_name,
    redirect_uris: body.redirect_uris ?? [],
    post_logout_redirect_uris: body.post_logout_redirect_uris ?? [],
    grant_types: grantTypes,
    response_types: signsUsersIn ? ['code'] : [],
    token_endpoint_auth_method: authMethod,
    scope,
    paymesh_first_party: firstParty,
    ...(resources === undefined ? {} : { paymesh_resource_scopes: resources }),
    ...(secret === undefined ? {} : { client_secret: hashClientSecret(secret) }),
    ...(body.jwks === undefined ? {} : { jwks: body.jwks as ClientMetadata['jwks'] }),
  };
  return { client, secret };
}

/** Each resource known, each scope one of that resource's, no privilege a client of this kind cannot hold. */
function checkResourceScopes(requested: Record<string, string>, firstParty: boolean): Record<string, string> {
  // Null prototype: an indicator is data, never a property of Object (`__proto__` would set one).
  const checked: Record<string, string> = Object.create(null);
  for (const [indicator, scope] of Object.entries(requested)) {
    const known = resourceScopes.get(indicator);
    if (known === undefined) throw authErrors.invalidClientMetadata(`Unknown resource ${indicator}; the resources are ${[...resourceScopes.keys()].join(', ')}.`, 'resource_scopes');
    if ((indicator === platformAudience || indicator === authAudience) && !firstParty) throw authErrors.clientPrivilegeRefused(`${indicator} is for the platform's own apps only.`);
    const scopes = [...new Set(scope.split(' ').filter(Boolean))];
    const foreign = scopes.filter((s) => !known.includes(s));
    if (foreign.length > 0) throw authErrors.invalidClientMetadata(`${foreign.join(', ')} ${foreign.length === 1 ? 'is' : 'are'} not a scope of ${indicator}.`, 'resource_scopes');
    checkPrivileges(scopes, firstParty, 'resource_scopes');
    checked[indicator] = scopes.join(' ');
  }
  if (Object.keys(checked).length === 0) throw authErrors.invalidClientMetadata('resource_scopes names no resource.', 'resource_scopes');
  return checked;
}

function checkPrivileges(scopes: readonly string[], firstParty: boolean, param: string): void {
  for (const scope of scopes) {
    if (serviceOnlyScopes.has(scope)) throw authErrors.clientPrivilegeRefused(`${scope} belongs to the platform's own services.`, param);
    if (adminScopes.has(scope) && !firstParty) throw authErrors.clientPrivilegeRefused(`${scope} is for the platform's own apps only.`, param);
  }
}
