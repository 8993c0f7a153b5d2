// Token revocation (RFC 7009) and introspection (RFC 7662) that understand our JWT access tokens,
// which oidc-provider does not store and so cannot find. Refresh tokens and the opaque access
// tokens for userinfo are looked up in the provider's storage. Revoking a refresh token ends its
// whole grant, access tokens included.
import { Type } from '@fastify/type-provider-typebox';
import { decodeJwt } from 'jose';
import type { ProviderRef } from '../oidc/provider-ref.ts';
import { InvalidTokenError, type TokenVerifier } from '@paymesh/platform/auth/token-verifier';
import type { Runtime } from '@paymesh/platform/runtime';
import type { HttpServer } from '@paymesh/platform/http-server';
import type { ErrorBody } from '@paymesh/platform/errors';
import { errorBodySchema, formOrJson } from '@paymesh/platform/openapi/use-open-api';
import { TokenRevoked } from '../events.ts';
import { enqueue } from '@paymesh/platform/events/enqueue';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ClientAuthEndpoint, ClientAuthThrottle } from '../throttle/client-auth-throttle.ts';
import { authenticateClient, presentedClient, type AuthenticatedClient } from '../oidc/authenticate-client.ts';
import { revokeGrantTokens } from './revoke-grant-tokens.ts';

/** These endpoints' errors, in OAuth's own shape (RFC 6749 §5.2), not the platform's error object. */
const oauthErrorSchema = <Code extends string>(code: Code, description: string) => Type.Object({
  error: Type.Literal(code),
  error_description: Type.String({ description: 'A sentence for a developer.' }),
}, { description });

/** What both endpoints read (RFC 7009 §2.1, RFC 7662 §2.1); tokenParam() and presentedClient() check it. */
const tokenRequestBody = Type.Object({
  token: Type.String({ maxLength: 8192, description: 'The token: an access token (JWT), a refresh token or an opaque userinfo token.' }),
  token_type_hint: Type.Optional(Type.Union([Type.Literal('access_token'), Type.Literal('refresh_token')], { description: 'Where to look first; the token is found either way.' })),
  client_id: Type.Optional(Type.String({ description: 'With client_secret, for clients that do not use HTTP Basic authentication (client_secret_post).' })),
  client_secret: Type.Optional(Type.String()),
}, { description: 'A form post (as RFC 7009 and 7662 send it) or JSON. The client authenticates with HTTP Basic, or with client_id and client_secret here.' });

const oauthErrors = {
  // A body the platform's parsers refuse (body_malformed…) is answered before the route, with the error object.
  400: Type.Union([oauthErrorSchema('invalid_request', 'The token parameter is missing or too long (invalid_request).'), Type.Unsafe<ErrorBody>(errorBodySchema)], { description: 'The token parameter is missing or too long (OAuth\'s invalid_request), or the body could not be read (the error object: body_malformed, body_too_deep, text_contains_nul, text_not_unicode).' }),
  401: oauthErrorSchema('invalid_client', 'Client authentication failed (invalid_client); WWW-Authenticate: Basic.'),
  429: oauthErrorSchema('invalid_client', 'Too many failed client authentications from this address; Retry-After says when to try again (invalid_client).'),
};

const activeToken = {
  active: Type.Literal(true),
  scope: Type.String({ description: 'The token\'s scopes, space-separated.' }),
  client_id: Type.String({ description: 'The client the token was issued to.' }),
  sub: Type.String({ description: 'Whom the token is for: a user id, or for client_credentials the client id.' }),
  iss: Type.String({ description: 'The issuer.' }),
  exp: Type.Integer({ description: 'When the token expires (Unix seconds).' }),
  iat: Type.Integer({ description: 'When the token was issued (Unix seconds).' }),
};

const introspection = Type.Union([
  Type.Object({ active: Type.Literal(false) }, { description: 'Not a live token, or not one this client may learn about.' }),
  Type.Object({
    ...activeToken,
    token_type: Type.Literal('access_token'),
    aud: Type.Union([Type.String(), Type.Array(Type.String())], { description: 'The services (resource indicators) the token is for.' }),
    jti: Type.String({ description: 'The token id (what revocation lists).' }),
  }, { description: 'A live access token (a JWT) of the platform\'s.' }),
  Type.Object({
    ...activeToken,
    token_type: Type.Union([Type.Literal('access_token'), Type.Literal('refresh_token')]),
    // The provider's stored tokens may lack them (its types say so); ours always have them.
    scope: Type.Optional(activeToken.scope),
    exp: Type.Optional(activeToken.exp),
  }, { description: 'A live refresh token, or an opaque access token for the userinfo endpoint, of the client asking.' }),
], { description: 'What the token is (RFC 7662): `active: false` says nothing more about it.' });

/**
 * `verify` accepts a token for any of the platform's services (auth revokes and describes them
 * all); the revocation list is the runtime's, as everywhere.
 */
/** `isServiceClient`: the platform's own services, the resource servers its access tokens are for. */
export function tokenEndpointRoutes(app: HttpServer, runtime: Runtime, providerRef: ProviderRef, verify: TokenVerifier, clientAuth: ClientAuthThrottle, isServiceClient: (clientId: string) => boolean): void {
  /** Our access token, verified (signature, issuer, audience, expiry, revocation), or undefined. */
  const accessToken = async (token: string) => {
    if (token.split('.').length !== 3) return undefined;
    try {
      const caller = await verify(token);
      // Verified against the platform's audiences, so it names one (or more).
      const audience = decodeJwt(token).aud;
      if (audience === undefined) throw new Error('a verified access token has no aud');
      return { caller, audience };
    } catch (error) {
      // Not a valid token of ours; anything else (the keys could not be fetched) is an outage,
      // answered as one: a 200 would tell the client its token is dead when it is not.
      if (error instanceof InvalidTokenError) return undefined;
      throw error;
    }
  };

  /** An opaque access token: the userinfo endpoint's (docs/adr/0013-oidc-interoperability.md), stored by the provider. */
  const userinfoToken = async (token: string) => {
    const found = await providerRef.current.AccessToken.find(token);
    return found === undefined || found.isExpired ? undefined : found;
  };

  const refreshToken = async (token: string) => {
    const found = await providerRef.current.RefreshToken.find(token);
    if (found === undefined || found.isExpired || found.consumed !== undefined) return undefined;
    return found;
  };

  const tokenParam = (body: unknown): string | undefined => {
    const token = (body as Record<string, unknown> | undefined)?.token;
    return typeof token !== 'string' || token === '' || token.length > 8_192 ? undefined : token;
  };

  // These endpoints answer errors in OAuth's own shape (RFC 6749 §5.2), which OAuth clients parse.
  const oauthError = (reply: FastifyReply, status: number, error: string, description: string) => {
    if (status === 401) reply.header('www-authenticate', 'Basic realm="paymesh"');
    return reply.code(status).header('cache-control', 'no-store').send({ error, error_description: description });
  };

  /**
   * The client, authenticated under the failure throttle (client-auth-throttle.ts); undefined after
   * the error has been answered (401, or 429 with Retry-After). `confidentialOnly`: a public client
   * is a failure here.
   */
  const authenticated = async (endpoint: ClientAuthEndpoint, request: FastifyRequest, reply: FastifyReply, confidentialOnly: boolean): Promise<AuthenticatedClient | undefined> => {
    const presented = presentedClient(request.headers.authorization, request.body);
    const ticket = await clientAuth.begin(endpoint, presented.clientId, request.ip);
    if ('retryAfterSec' in ticket) {
      reply.header('retry-after', String(ticket.retryAfterSec));
      oauthError(reply, 429, 'invalid_client', 'too many failed client authentications from this address; retry later');
      return undefined;
    }
    const client = await authenticateClient(providerRef.current, presented);
    const ok = client !== undefined && (client.confidential || !confidentialOnly);
    await clientAuth.settle(ticket, ok ? 'succeeded' : 'failed');
    if (!ok) {
      oauthError(reply, 401, 'invalid_client', 'client authentication failed');
      return undefined;
    }
    return client;
  };

  // RFC 7009: 200 whether or not the token was valid (nothing is revealed); only the client the
  // token was issued to may revoke it.
  app.post('/auth/token/revocation', {
    config: { public: true, documentedBody: { schema: tokenRequestBody, consumes: formOrJson } },
    schema: { response: { 200: Type.Object({}, { description: 'Done, or there was nothing to revoke: a token that is not valid, or not the client\'s, is answered alike (RFC 7009).' }), ...oauthErrors } },
  }, async (request, reply) => {
    const client = await authenticated('revocation', request, reply, false);
    if (client === undefined) return reply;
    const token = tokenParam(request.body);
    if (token === undefined) return oauthError(reply, 400, 'invalid_request', 'missing required parameter token');
    const access = await accessToken(token);
    const opaque = access === undefined ? await userinfoToken(token) : undefined;
    if (access !== undefined) {
      if (access.caller.clientId === client.clientId) {
        const revoked: TokenRevoked = { jti: access.caller.tokenId, expiresAt: access.caller.expiresAtSec };
        await runtime.database.db.transaction(async (tx) => {
          await runtime.revocations.add(revoked, tx);
          await enqueue(tx, TokenRevoked, revoked);
        });
      }
    } else if (opaque !== undefined) {
      // Stored by the provider, which refuses it once deleted.
      if (opaque.clientId === client.clientId) await opaque.destroy();
    } else {
      const refresh = await refreshToken(token);
      if (refresh !== undefined && refresh.clientId === client.clientId && refresh.grantId !== undefined) {
        // The grant's access tokens are revoked first: if that fails, nothing was destroyed and a
        // retry finds the refresh token again.
        await revokeGrantTokens(runtime, refresh.grantId);
        await Promise.all([providerRef.current.RefreshToken.adapter.revokeByGrantId(refresh.grantId), providerRef.current.Grant.adapter.destroy(refresh.grantId)]);
      }
    }
    return reply.code(200).header('cache-control', 'no-store').send({});
  });

  // RFC 7662, for confidential clients (resource servers, back ends).
  app.post('/auth/token/introspection', { config: { public: true, documentedBody: { schema: tokenRequestBody, consumes: formOrJson } }, schema: { response: { 200: introspection, ...oauthErrors } } }, async (request, reply) => {
    const client = await authenticated('introspection', request, reply, true);
    if (client === undefined) return reply;
    const token = tokenParam(request.body);
    if (token === undefined) return oauthError(reply, 400, 'invalid_request', 'missing required parameter token');
    reply.header('cache-control', 'no-store');
    const access = await accessToken(token);
    if (access !== undefined) {
      const { audience, caller } = access;
      // RFC 7662 §4: described to the client it was issued to and to the platform's services (the
      // resource servers it is for); to any other client it is as inactive as an unknown token,
      // or any partner could learn who is behind another app's token and what it may do.
      if (caller.clientId !== client.clientId && !isServiceClient(client.clientId)) return { active: false } as const;
      return { active: true, token_type: 'access_token', scope: [...caller.scopes].join(' '), client_id: caller.clientId, sub: caller.subject, iss: caller.issuer, aud: audience, exp: caller.expiresAtSec, iat: caller.issuedAtSec, jti: caller.tokenId } as const;
    }
    // A userinfo token is for no resource server: only its own client learns about it.
    const opaque = await userinfoToken(token);
    if (opaque !== undefined && opaque.clientId === client.clientId) {
      return { active: true, token_type: 'access_token', scope: opaque.scope, client_id: opaque.clientId, sub: opaque.accountId, iss: providerRef.current.issuer, exp: opaque.exp, iat: opaque.iat } as const;
    }
    const refresh = await refreshToken(token);
    // A refresh token is only described to the client it belongs to.
    if (refresh !== undefined && refresh.clientId === client.clientId) {
      return { active: true, token_type: 'refresh_token', scope: refresh.scope, client_id: refresh.clientId, sub: refresh.accountId, iss: providerRef.current.issuer, exp: refresh.exp, iat: refresh.iat } as const;
    }
    return { active: false } as const;
  });
}
