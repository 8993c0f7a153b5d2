// OAUTH_CLIENTS: the apps registered at start. Checked here for what oidc-provider would only
// notice at the first request: each entry an object with a client id; redirect URIs matched
// exactly by the provider (no wildcards, so there is nothing to normalise).
import type { ClientMetadata } from 'oidc-provider';

export function parseRegisteredClients(raw: string): ClientMetadata[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (error) {
    throw new Error(`OAUTH_CLIENTS is not valid JSON: ${(error as Error).message}`);
  }
  if (!Array.isArray(parsed)) throw new Error('OAUTH_CLIENTS must be a JSON array of client metadata objects');
  return parsed.map((entry: unknown, index) => {
    if (typeof entry !== 'object' || entry === null || typeof (entry as { client_id?: unknown }).client_id !== 'string') {
      throw new Error(`OAUTH_CLIENTS[${index}] needs a string client_id`);
    }
    // Apps sign users in; only the platform's own services (SERVICE_CLIENTS) use client_credentials.
    const grantTypes = (entry as { grant_types?: unknown }).grant_types;
    if (Array.isArray(grantTypes) && grantTypes.some((g) => g !== 'authorization_code' && g !== 'refresh_token')) {
      throw new Error(`OAUTH_CLIENTS[${index}]: only authorization_code and refresh_token grants are allowed for apps`);
    }
    return entry as ClientMetadata;
  });
}
