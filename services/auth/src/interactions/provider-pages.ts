// The pages oidc-provider renders itself, through our hooks or its own templates: the logout
// confirmation and the signed-out page, its error page, and its self-submitting form_post pages
// (an authorization response with response_mode=form_post; a logout without a session). They get
// the headers of our own pages, and the logout confirmation's post the same Origin check.
import type Provider from 'oidc-provider';
import { formPostOrigin, htmlPageHeaders } from '@paymesh/platform/html-page';
import { errorPage } from './render-page.ts';
import { guardedRoute } from '../oidc/provider-route-paths.ts';

type Middleware = Parameters<Provider['use']>[0];

export function providerPages(options: { publicOrigin: string }): Middleware {
  const { 'content-security-policy': pageCsp, ...otherHeaders } = htmlPageHeaders();
  // A form_post page adds the hash of its inline script to the script-src it finds in the CSP
  // (oidc-provider's helpers/script_src_sha.js), so the CSP is there before the page is made: an
  // empty script-src allows no script but that one.
  const beforeRendering = `${pageCsp}; script-src`;
  return async (ctx, next) => {
    // The route the provider's router will serve, however its path is spelled (case, trailing slash).
    if (guardedRoute(ctx.method, ctx.path) === 'end_session_confirm' && formPostOrigin(ctx.get('origin') || undefined, options.publicOrigin) === 'foreign') {
      ctx.status = 403;
      ctx.set({ ...otherHeaders, 'content-security-policy': pageCsp });
      ctx.body = errorPage('This form was not sent from the sign-out page. Start again from the application.');
      return;
    }
    ctx.set('content-security-policy', beforeRendering);
    await next();
    if (!ctx.response.is('html')) {
      // Not a page (JSON, JWKS, an empty redirect): its headers are not ours to set.
      ctx.remove('content-security-policy');
      return;
    }
    if (ctx.response.get('content-security-policy') === beforeRendering) ctx.set('content-security-policy', pageCsp);
    ctx.set(otherHeaders);
  };
}
