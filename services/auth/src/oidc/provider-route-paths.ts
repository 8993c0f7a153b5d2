// Which of the provider's routes a request will reach, decided by oidc-provider's own router
// (case-folded, one trailing slash tolerated, and whatever a later version adds), so a check of
// ours keyed on a route can never be skipped by another spelling of its path.
import Router from 'oidc-provider/lib/helpers/router.js';

/** The provider's routes under the issuer (create-provider.ts passes them to oidc-provider). */
export const providerRoutePaths = {
  authorization: '/authorize',
  jwks: '/jwks',
  token: '/token',
  userinfo: '/me',
  end_session: '/session/end',
  pushed_authorization_request: '/request',
} as const;

/** The routes our own hooks act on: where clients authenticate, and the logout confirmation. */
export type GuardedRoute = 'token' | 'pushed_authorization_request' | 'end_session_confirm';

const noop = () => undefined;
const router = new Router()
  .post('token', providerRoutePaths.token, noop)
  .post('pushed_authorization_request', providerRoutePaths.pushed_authorization_request, noop)
  .post('end_session_confirm', `${providerRoutePaths.end_session}/confirm`, noop);

/** The guarded route a request with this method and (Koa `ctx.path`) path reaches, if any. */
export function guardedRoute(method: string, path: string): GuardedRoute | undefined {
  return router.match(method, path)?.route.name as GuardedRoute | undefined;
}
