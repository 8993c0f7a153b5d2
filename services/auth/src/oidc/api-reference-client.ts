// The built-in client of the API reference site (the gateway's /docs, ADR 26): Swagger UI signs a
// person in with the authorization code flow and PKCE, as a first-party public client, and uses
// the token for the site's "try it" requests to every service.
import type { ClientMetadata } from 'oidc-provider';
import { apiReferenceClientId, apiReferenceRedirectUri, publicUrlOfIssuer } from '@paymesh/platform/api-reference-client';
import { apiScopes, platformAudience, serviceOnlyScopes } from './scopes.ts';

/**
 * What a person trying the API may ask for: every API scope but the services' own. users:admin
 * reaches admins only: the sign-in grants what the user's role allows (interaction-routes.ts).
 */
export const apiReferenceScopes: readonly string[] = apiScopes.filter((scope) => !serviceOnlyScopes.has(scope));

export function apiReferenceClient(issuer: string): ClientMetadata {
  return {
    client_id: apiReferenceClientId,
    client_name: 'Paymesh API reference',
    // Public: a page keeps no secret. PKCE (required of every client) binds the code to the page
    // that asked for it, and the code is only ever sent to the site's own redirect page.
    token_endpoint_auth_method: 'none',
    // No refresh token: the site keeps its token in memory for 15 minutes, then signs in again.
    grant_types: ['authorization_code'],
    response_types: ['code'],
    redirect_uris: [apiReferenceRedirectUri(publicUrlOfIssuer(issuer))],
    // The site's Authorize dialog lists every scope of the document. The identity scopes are
    // allowed so that ticking one does not fail the sign-in (they open no API); offline_access is
    // dropped by the provider for a client without the refresh_token grant.
    scope: ['openid', 'profile', 'email', ...apiReferenceScopes].join(' '),
    // One of the platform's own apps (no consent page; an admin keeps their role), with the
    // platform-wide audience alone: the "try it" requests go to every service with one token.
    paymesh_first_party: true,
    paymesh_resource_scopes: { [platformAudience]: apiReferenceScopes.join(' ') },
  };
}
