// What the gateway's web dashboard (served at /, ADR 27) and auth agree on: the built-in client the
// dashboard signs people in with, and its redirect URIs on the platform's public URL.

export const webAppClientId = 'paymesh-web';

/** The dashboard's own pages and files live under this prefix (no service's; the gateway checks at start); `/` serves its first page. */
export const webAppPath = '/app';

/** Where the sign-in comes back with the code: a page of the app itself, which exchanges it. */
export const webAppRedirectPath = `${webAppPath}/signed-in`;

/** Where auth sends a person after the dashboard's sign-out (RP-initiated logout). */
export const webAppSignedOutPath = `${webAppPath}/signed-out`;

const trimmed = (publicUrl: string) => publicUrl.replace(/\/+$/, '');

/** The redirect URI under the public URL (`PUBLIC_URL`: http://localhost:8080, https://paymesh.example.com). */
export function webAppRedirectUri(publicUrl: string): string {
  return `${trimmed(publicUrl)}${webAppRedirectPath}`;
}

/** The post-logout redirect URI under the public URL. */
export function webAppSignedOutUri(publicUrl: string): string {
  return `${trimmed(publicUrl)}${webAppSignedOutPath}`;
}
