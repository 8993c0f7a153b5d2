// The authorization code flow's interactions: the login page, and consent (skipped for the
// platform's first-party clients). oidc-provider sends the browser here with an interaction
// cookie; we answer with a page, and finish the interaction with its result.
import { Type } from '@fastify/type-provider-typebox';
import type Provider from 'oidc-provider';
import type { ProviderRef } from '../oidc/provider-ref.ts';
import type { Client, InteractionResults } from 'oidc-provider';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { HttpServer } from '@paymesh/platform/http-server';
import type { Logger } from '@paymesh/platform/logger';
import type { ServiceClient } from '@paymesh/platform/service-client';
import { checkCredentials } from '../login/check-credentials.ts';
import type { DeviceCookie } from '../throttle/device-cookie.ts';
import type { LoginThrottle } from '../throttle/login-throttle.ts';
import { announceNewLogin } from '../login/announce-new-login.ts';
import { lookupAccount } from '../oidc/find-account.ts';
import { userScopes } from '../oidc/scopes.ts';
import { formPostOrigin, htmlPageHeaders } from '@paymesh/platform/html-page';
import { consentPage, errorPage, loginPage } from './render-page.ts';
import { csrfToken, csrfTokenMatches } from './csrf-token.ts';

export interface InteractionOptions {
  readonly provider: ProviderRef;
  readonly users: ServiceClient;
  readonly logger: Logger;
  /** Shared with POST /auth/login: failures count the same wherever they happen. */
  readonly throttle: LoginThrottle;
  /** The signed device cookie: a browser that signed in before is spared the account's slowdown. */
  readonly devices: DeviceCookie;
  /** Signs the forms' CSRF tokens (the provider's newest cookie key). */
  readonly csrfKey: string;
  /** Whether a client is one of the platform's own apps, whose users are not asked for consent. */
  readonly isFirstParty: (clientId: string, metadata: Record<string, unknown>) => boolean;
  /** The public origin of the pages (the issuer's), for the Origin check. */
  readonly publicOrigin: string;
}

const formBody = Type.Object({
  csrf: Type.String({ maxLength: 200 }),
  username: Type.Optional(Type.String({ maxLength: 1000 })),
  password: Type.Optional(Type.String({ maxLength: 2000 })),
});
const params = Type.Object({ uid: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' }) });

export function interactionRoutes(app: HttpServer, options: InteractionOptions): void {
  const { provider: providerRef, users, logger, csrfKey, isFirstParty, throttle, devices } = options;
  const base = (uid: string) => `/auth/interaction/${uid}`;
  const expired = 'This sign-in link has expired or belongs to another window. Start again from the application.';
  const notFromPage = 'This form was not sent from the sign-in page. Start again from the application.';

  const html = (reply: FastifyReply, status: number, body: string) => reply.code(status).headers(htmlPageHeaders()).send(body);

  /** The interaction this browser is in, or an error page (expired, another tab, no cookie). */
  const details = async (request: FastifyRequest<{ Params: { uid: string } }>, reply: FastifyReply) => {
    try {
      const found = await providerRef.current.interactionDetails(request.raw, reply.raw);
      if (found.uid !== request.params.uid) return undefined;
      return found;
    } catch (error) {
      logger.info({ err: error }, 'interaction not found');
      return undefined;
    }
  };

  const finish = async (request: FastifyRequest, reply: FastifyReply, result: InteractionResults, merge: boolean) => {
    // The provider answers the browser itself (a redirect back into the authorization flow).
    reply.hijack();
    await providerRef.current.interactionFinished(request.raw, reply.raw, result, { mergeWithLastSubmission: merge });
  };

  /**
   * A form post we accept: the interaction's own CSRF token, from our own origin or from a client
   * that sends no Origin. A foreign origin or `null` is refused even with the right token.
   */
  const fromOurPage = (request: FastifyRequest<{ Body: { csrf: string } }>, uid: string) =>
    formPostOrigin(request.headers.origin, options.publicOrigin) !== 'foreign' && csrfTokenMatches(csrfKey, uid, request.body.csrf);

  /** The consent result: what the client asked for, limited to what this user's role allows. */
  const grantFor = async (interaction: Awaited<ReturnType<Provider['interactionDetails']>>, client: Client | undefined): Promise<string | undefined> => {
    const accountId = interaction.session?.accountId;
    if (accountId === undefined) return undefined;
    const account = await lookupAccount(users, accountId);
    if (account === undefined) return undefined;
    const firstParty = client !== undefined && isFirstParty(client.clientId, client.metadata());
    // A third-party app never acts as an admin, whoever signs in.
    const allowed = new Set(userScopes(firstParty ? account.role : 'user'));
    const clientId = String(interaction.params.client_id);
    const grant = interaction.grantId === undefined ? new providerRef.current.Grant({ accountId, clientId }) : await providerRef.current.Grant.find(interaction.grantId);
    if (grant === undefined) return undefined;
    const missing = interaction.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[]; missingResourceScopes?: Record<string, string[]> };
    if (missing.missingOIDCScope !== undefined) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims !== undefined) grant.addOIDCClaims(missing.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
      const granted = scopes.filter((s) => allowed.has(s));
      const refused = scopes.filter((s) => !allowed.has(s));
      if (granted.length > 0) grant.addResourceScope(indicator, granted.join(' '));
      // Recorded as refused so that the provider does not ask again (and loop).
      if (refused.length > 0) grant.rejectResourceScope(indicator, refused.join(' '));
    }
    return grant.save();
  };

  app.get('/auth/interaction/:uid', { config: { public: true }, schema: { params } }, async (request, reply) => {
    const interaction = await details(request, reply);
    if (interaction === undefined) return html(reply, 400, errorPage(expired));
    const client = await providerRef.current.Client.find(String(interaction.params.client_id));
    const clientName = client?.clientName ?? String(interaction.params.client_id);
    const csrf = csrfToken(csrfKey, interaction.uid);
    if (interaction.prompt.name === 'login') {
      return html(reply, 200, loginPage({ action: `${base(interaction.uid)}/login`, csrf, clientName }));
    }
    if (interaction.prompt.name === 'consent') {
      if (client !== undefined && isFirstParty(client.clientId, client.metadata())) {
        const grantId = await grantFor(interaction, client);
        if (grantId === undefined) return html(reply, 400, errorPage('Your account is not available.'));
        return finish(request, reply, { consent: { grantId } }, true);
      }
      const missing = interaction.prompt.details as { missingOIDCScope?: string[]; missingResourceScopes?: Record<string, string[]> };
      // An API scope is both an OIDC scope to the provider and a resource scope: list it once.
      const scopes = [...new Set([...(missing.missingOIDCScope ?? []), ...Object.values(missing.missingResourceScopes ?? {}).flat()])];
      return html(reply, 200, consentPage({ action: `${base(interaction.uid)}/confirm`, abortAction: `${base(interaction.uid)}/abort`, csrf, clientName, scopes }));
    }
    return html(reply, 400, errorPage('This step of sign-in is not supported.'));
  });

  app.post('/auth/interaction/:uid/login', { config: { public: true }, schema: { params, body: formBody } }, async (request, reply) => {
    const interaction = await details(request, reply);
    if (interaction === undefined || interaction.prompt.name !== 'login') return html(reply, 400, errorPage(expired));
    if (!fromOurPage(request, interaction.uid)) return html(reply, 403, errorPage(notFromPage));
    const { username = '', password = '' } = request.body;
    const client = await providerRef.current.Client.find(String(interaction.params.client_id));
    const retry = (status: number, error: string) =>
      html(reply, status, loginPage({ action: `${base(interaction.uid)}/login`, csrf: csrfToken(csrfKey, interaction.uid), clientName: client?.clientName ?? String(interaction.params.client_id), username, error }));
    if (username === '' || password === '') return retry(401, 'Invalid username or password.');
    // Counted like POST /auth/login: before the account is looked at, known or not.
    const outcome = await throttle.attempt(username, { ip: request.ip, device: devices.read(request.headers.cookie) }, async () =>
      username.length > 254 || [...password].length > 1024 ? undefined : checkCredentials(users, logger, username, password), announceNewLogin(request));
    if (outcome.status === 'refused') {
      reply.header('retry-after', String(outcome.retryAfterSec));
      return retry(429, 'Too many failed sign-ins; try again later.');
    }
    if (outcome.status === 'failed') return retry(401, 'Invalid username or password.');
    devices.set(reply.raw, outcome.device);
    return finish(request, reply, { login: { accountId: outcome.value.id } }, false);
  });

  app.post('/auth/interaction/:uid/confirm', { config: { public: true }, schema: { params, body: formBody } }, async (request, reply) => {
    const interaction = await details(request, reply);
    if (interaction === undefined || interaction.prompt.name !== 'consent') return html(reply, 400, errorPage(expired));
    if (!fromOurPage(request, interaction.uid)) return html(reply, 403, errorPage(notFromPage));
    const grantId = await grantFor(interaction, await providerRef.current.Client.find(String(interaction.params.client_id)));
    if (grantId === undefined) return html(reply, 400, errorPage('Your account is not available.'));
    return finish(request, reply, { consent: { grantId } }, true);
  });

  app.post('/auth/interaction/:uid/abort', { config: { public: true }, schema: { params, body: formBody } }, async (request, reply) => {
    const interaction = await details(request, reply);
    if (interaction === undefined) return html(reply, 400, errorPage(expired));
    if (!fromOurPage(request, interaction.uid)) return html(reply, 403, errorPage(notFromPage));
    return finish(request, reply, { error: 'access_denied', error_description: 'The user denied the request.' }, false);
  });
}
