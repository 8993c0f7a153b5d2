// The gateway routes by path prefix and blocks some prefixes (service-to-service endpoints). A path
// that the gateway and a service could read differently (`/users/./internal`, `%2e`, `%2f`, `//`,
// `\`, `;` parameters) could pass the block yet reach the blocked route, so it is refused rather than
// normalised: a client that sends one is not a browser following a link, and normalising would mean
// guessing how each upstream router reads it.

/** Whether the path part of a raw request target is one every router reads the same way. */
export function isPlainPath(rawUrl: string): boolean {
  const path = rawUrl.split('?')[0]!;
  if (!path.startsWith('/')) return false;
  // Backslashes (some routers read them as `/`), `;` matrix parameters (Tomcat, Spring), NUL.
  if (/[\\;\x00-\x20\x7f]/.test(path)) return false;
  // Percent-encoded dots, separators, backslashes, semicolons, percent signs (double encoding) and controls.
  if (/%(2e|2f|5c|3b|25|0[0-9a-f]|1[0-9a-f]|7f)/i.test(path)) return false;
  let decoded: string;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    return false;
  }
  const segments = decoded.split('/').slice(1);
  for (const [i, segment] of segments.entries()) {
    // An empty segment is only allowed last (the optional trailing slash).
    if (segment === '' && i !== segments.length - 1) return false;
    // `.`, `..` and trailing dots (`internal.`, which some file-system-backed servers strip).
    if (segment.endsWith('.')) return false;
  }
  return true;
}

/** Whether a (plain) path falls under one of the blocked prefixes, whatever its letter case. */
export function isBlockedPath(rawUrl: string, blockedPrefixes: readonly string[]): boolean {
  const path = decodeURIComponent(rawUrl.split('?')[0]!).toLowerCase();
  return blockedPrefixes.some((prefix) => path === prefix || path.startsWith(`${prefix}/`));
}
