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

// Every route the provider serves (its defaults for those create-provider.ts does not rename), for
// naming a request's route in metrics: `/auth/token`, `/auth/authorize/:uid`, never the raw path.
const everyRoute = new Router()
  .get('discovery', '/.well-known/openid-configuration', noop)
  .get('authorization', providerRoutePaths.authorization, noop)
  .post('authorization', providerRoutePaths.authorization, noop)
  .get('resume', `${providerRoutePaths.authorization}/:uid`, noop)
  .get('jwks', providerRoutePaths.jwks, noop)
  .post('token', providerRoutePaths.token, noop)
  .post('introspection', `${providerRoutePaths.token}/introspection`, noop)
  .post('revocation', `${providerRoutePaths.token}/revocation`, noop)
  .get('userinfo', providerRoutePaths.userinfo, noop)
  .post('userinfo', providerRoutePaths.userinfo, noop)
  .get('end_session', providerRoutePaths.end_session, noop)
  .post('end_session', providerRoutePaths.end_session, noop)
  .post('end_session_confirm', `${providerRoutePaths.end_session}/confirm`, noop)
  .get('end_session_success', `${providerRoutePaths.end_session}/success`, noop)
  .post('pushed_authorization_request', providerRoutePaths.pushed_authorization_request, noop)
  .post('registration', '/reg', noop)
  .get('client', '/reg/:clientId', noop)
  .put('client', '/reg/:clientId', noop)
  .delete('client', '/reg/:clientId', noop);

/**
 * The template of the provider route a request reaches, under the issuer's mount path; `unmatched`
 * for anything else (CORS preflights, unknown paths) so the label stays bounded.
 */
export function providerRouteTemplate(method: string, path: string, mount = '/auth'): string {
  const matched = everyRoute.match(method === 'HEAD' ? 'GET' : method, path);
  return matched === undefined ? 'unmatched' : `${mount}${matched.route.path}`;
}
