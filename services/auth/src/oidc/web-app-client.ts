// The built-in client of the web dashboard (the gateway's /, ADR 27): a single-page app that signs
// a person in with the authorization code flow and PKCE (oauth4webapi), as a first-party public
// client, keeps its tokens in memory and renews them with rotating refresh tokens.
import type { ClientMetadata } from 'oidc-provider';
import { publicUrlOfIssuer } from '@paymesh/platform/api-reference-client';
import { webAppClientId, webAppRedirectUri, webAppSignedOutUri } from '@paymesh/platform/web-app-client';
import { apiScopes, platformAudience, serviceOnlyScopes } from './scopes.ts';

/** What the dashboard may ask for: every API scope but the services' own; users:admin reaches admins only (interaction-routes.ts). */
export const webAppScopes: readonly string[] = apiScopes.filter((scope) => !serviceOnlyScopes.has(scope));

export function webAppClient(issuer: string): ClientMetadata {
  const publicUrl = publicUrlOfIssuer(issuer);
  return {
    client_id: webAppClientId,
    client_name: 'Paymesh',
    // Public: a page keeps no secret. PKCE (required of every client) binds the code to the tab
    // that asked for it; the code only ever comes back to the app's own page.
    token_endpoint_auth_method: 'none',
    // Refresh tokens rotate on every use (create-provider.ts) and end with the session.
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    redirect_uris: [webAppRedirectUri(publicUrl)],
    post_logout_redirect_uris: [webAppSignedOutUri(publicUrl)],
    scope: ['openid', 'profile', 'email', 'offline_access', ...webAppScopes].join(' '),
    // One of the platform's own apps (no consent page; an admin keeps their role), with the
    // platform-wide audience alone: the dashboard calls every service with one token.
    paymesh_first_party: true,
    paymesh_resource_scopes: { [platformAudience]: webAppScopes.join(' ') },
  };
}
