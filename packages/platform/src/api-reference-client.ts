// What the gateway's API reference site (/docs) and auth agree on: the built-in client the site
// signs people in with, and its redirect URI on the platform's public URL (ADR 26).

export const apiReferenceClientId = 'paymesh-docs';

/** Where the gateway serves the site; no service's prefix (the gateway checks at start). */
export const apiReferencePath = '/docs';

/** The page the sign-in ends on: it hands the code back to the reference page that opened it. */
export const apiReferenceRedirectPath = `${apiReferencePath}/oauth2-redirect.html`;

/** The redirect URI under the public URL (`PUBLIC_URL`: http://localhost:8080, https://paymesh.example.com). */
export function apiReferenceRedirectUri(publicUrl: string): string {
  return `${publicUrl.replace(/\/+$/, '')}${apiReferenceRedirectPath}`;
}

/**
 * The public URL behind an issuer: the gateway routes /auth to auth, so the issuer is
 * `<PUBLIC_URL>/auth` in every way Paymesh runs (npm start, distributed, compose, Kubernetes); an
 * issuer not ending in /auth is taken to be served at the root of its origin.
 */
export function publicUrlOfIssuer(issuer: string): string {
  const trimmed = issuer.replace(/\/+$/, '');
  return trimmed.endsWith('/auth') ? trimmed.slice(0, -'/auth'.length) : new URL(trimmed).origin;
}
