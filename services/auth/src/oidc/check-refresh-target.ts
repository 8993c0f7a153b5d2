// A refresh that asks for a resource it cannot have is refused before its refresh token rotates.
//
// oidc-provider resolves the refresh's resource only after it has consumed the presented refresh
// token and saved its successor (lib/actions/grants/refresh_token.js): refusing there loses the new
// refresh token with the error response, and the client's next attempt with the one it holds counts
// as a reuse, which revokes the whole grant. So the same resolution (lib/helpers/resolve_resource.js,
// with useGrantedResource false and userinfo on) runs here first, from the rotateRefreshToken hook:
// the last point before the rotation, after the reuse detection.
import assert from 'node:assert/strict';
import { errors, type Client, type KoaContextWithOIDC, type ResourceServer } from 'oidc-provider';

export function checkRefreshTarget(ctx: KoaContextWithOIDC, resourceServerFor: (indicator: string, client: Client) => ResourceServer): void {
  const { RefreshToken: refreshToken, Client: client } = ctx.oidc.entities;
  assert.ok(refreshToken !== undefined && client !== undefined, 'called by the refresh_token grant, with its refresh token and client');
  const requested = (ctx.oidc.params as { resource?: string | string[] } | undefined)?.resource;
  const granted = new Set([refreshToken.resource ?? []].flat());
  let target: string;
  if (Array.isArray(requested)) {
    throw new errors.InvalidTarget('only one resource indicator may be requested per access token');
  } else if (requested !== undefined) {
    target = requested;
  } else {
    const scope = (ctx.oidc.params as { scope?: string } | undefined)?.scope;
    const scopes = scope === undefined ? refreshToken.scopes : new Set(scope.split(' '));
    // No resource named: an `openid` grant gets the userinfo token, a grant without resources an
    // audience-less one; nothing to check.
    if (scopes.has('openid') || granted.size === 0) return;
    if (granted.size > 1) throw new errors.InvalidTarget('this grant has several resources: name one with the resource parameter');
    target = [...granted][0]!;
  }
  if (!granted.has(target)) throw new errors.InvalidTarget(`${target} is not a resource of this grant`);
  // The client's policy may have changed since the grant (a registered resource removed).
  resourceServerFor(target, client);
}
