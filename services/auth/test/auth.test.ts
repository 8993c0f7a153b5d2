// The auth service through the gateway: discovery and keys, the access token it mints on login,
// login and logout failures, the token endpoint's client_credentials grant, revocation of a
// deleted user's tokens, and the token checks every service applies.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair, importJWK, jwtVerify, SignJWT, type JWK, type JWTPayload } from 'jose';
import * as oidc from 'openid-client';
import { adminPassword, Api, backends, eventually, serviceClientsEnv, startTestPlatform, type TestEnv, type TestPlatform } from '@paymesh/app/testing';
import { queryRows, sql } from '@paymesh/platform/db/open-database';

// Client secrets known to this test, so that the client_credentials grant can be exercised with
// the right secret too. The launcher keeps given SERVICE_CLIENTS (ports.ts runSecrets).
const secrets = { users: randomBytes(32).toString('base64url'), payments: randomBytes(32).toString('base64url'), notifications: randomBytes(32).toString('base64url') };
const env: TestEnv = {
  OAUTH_CLIENTS: JSON.stringify([{ client_id: 'probe-app', token_endpoint_auth_method: 'none', redirect_uris: ['http://localhost:5173/callback'], grant_types: ['authorization_code'], response_types: ['code'], scope: 'openid' }]),
  ...serviceClientsEnv(secrets),
};

// The contract's login token is first-party and platform-wide; service tokens name one service.
const audience = 'urn:paymesh:platform';
const usersAudience = 'urn:paymesh:users';
const basic = (clientId: string, secret: string) => `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64')}`;

for (const backend of backends()) {
  describe(`auth (${backend})`, () => {
    let platform: TestPlatform;
    let issuer: string;

    before(async () => {
      platform = await startTestPlatform(backend, { env });
      issuer = `http://localhost:${platform.embedded!.plan.gateway}/auth`;
    });
    after(async () => {
      await platform?.stop();
    });

    const jwks = async () => (await platform.api.call<{ keys: JWK[] }>('GET', '/auth/jwks')).body;
    const signingKey = async () => {
      const [row] = await queryRows<{ private_jwk: JWK }>(platform.embedded!.services.auth.runtime.database.db,
        sql`select private_jwk from signing_keys where not_before <= now() order by not_before desc limit 1`);
      return row!.private_jwk;
    };
    const clientCredentials = (clientId: string, secret: string, form: Record<string, string>) =>
      platform.api.call('POST', '/auth/token', { headers: { authorization: basic(clientId, secret) }, form: { grant_type: 'client_credentials', ...form } });

    describe('discovery and keys', () => {
      test('the discovery document names the issuer the services trust: http://localhost:<gateway port>/auth', async () => {
        const discovery = await platform.api.call('GET', '/auth/.well-known/openid-configuration');
        assert.equal(discovery.status, 200);
        assert.equal(discovery.body.issuer, issuer);
        assert.match(discovery.body.token_endpoint, /\/auth\/token$/);
        assert.match(discovery.body.jwks_uri, /\/auth\/jwks$/);
      });

      test('OAuth 2.1: no implicit or password grant, code-only responses, S256-only PKCE', async () => {
        const { body } = await platform.api.call('GET', '/auth/.well-known/openid-configuration');
        assert.ok(Array.isArray(body.grant_types_supported));
        assert.ok(!body.grant_types_supported.includes('implicit'));
        assert.ok(!body.grant_types_supported.includes('password'));
        assert.ok(body.grant_types_supported.includes('client_credentials'));
        assert.ok(body.grant_types_supported.includes('authorization_code'));
        assert.deepEqual(body.response_types_supported, ['code']);
        assert.deepEqual(body.code_challenge_methods_supported, ['S256']);
      });

      test('an implicit authorization request is refused with unsupported_response_type', async () => {
        const query = new URLSearchParams({ response_type: 'token', client_id: 'probe-app', redirect_uri: 'http://localhost:5173/callback', scope: 'openid' });
        const response = await fetch(`${platform.gatewayUrl}/auth/authorize?${query}`, { redirect: 'manual', signal: AbortSignal.timeout(5_000) });
        await response.body?.cancel();
        assert.ok(response.status === 302 || response.status === 303, `status ${response.status}`);
        const location = new URL(response.headers.get('location')!);
        assert.equal(new URLSearchParams(location.hash.slice(1)).get('error'), 'unsupported_response_type');
        assert.ok(!location.hash.includes('access_token'));
      });

      test('/auth/jwks publishes only public EC P-256 keys for ES256, never a private part', async () => {
        const { keys } = await jwks();
        assert.ok(keys.length >= 1);
        for (const key of keys) {
          assert.equal(key.kty, 'EC');
          assert.equal(key.crv, 'P-256');
          assert.equal(key.alg, 'ES256');
          assert.equal(typeof key.kid, 'string');
          for (const secretPart of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k']) assert.ok(!(secretPart in key), `jwk has ${secretPart}`);
        }
      });
    });

    describe('login', () => {
      test('the login token is an RFC 9068 access token: typ at+jwt, ES256, known kid, signature verifies', async () => {
        const alice = await platform.api.signUp();
        const header = decodeProtectedHeader(alice.token);
        assert.equal(header.typ, 'at+jwt');
        assert.equal(header.alg, 'ES256');
        const { keys } = await jwks();
        assert.ok(keys.some((k) => k.kid === header.kid));
        const { payload } = await jwtVerify(alice.token, createLocalJWKSet({ keys }), { issuer, audience, typ: 'at+jwt', algorithms: ['ES256'] });
        assert.equal(payload.sub, String(alice.id));
      });

      test("the login token's claims: iss, aud urn:paymesh:platform, sub = user id, role, scope, jti, lifetime at most 15 minutes", async () => {
        const alice = await platform.api.signUp();
        const response = await platform.api.call('POST', '/auth/login', { json: { username: alice.username, password: alice.password } });
        assert.equal(response.status, 200);
        assert.equal(response.body.token, response.body.access_token);
        assert.equal(response.body.token_type, 'Bearer');
        const claims = decodeJwt(response.body.token);
        assert.equal(claims.iss, issuer);
        assert.deepEqual([claims.aud].flat(), [audience]);
        assert.equal(claims.sub, String(alice.id));
        assert.equal(claims.role, 'user');
        assert.equal(typeof claims.jti, 'string');
        const scopes = String(claims.scope).split(' ');
        for (const scope of ['payments:read', 'payments:write', 'notifications:read']) assert.ok(scopes.includes(scope), scope);
        assert.ok(!scopes.includes('users:admin'));
        assert.ok(!scopes.includes('users:credentials'));
        assert.equal(response.body.scope, claims.scope);
        const lifetime = claims.exp! - claims.iat!;
        assert.ok(lifetime > 0 && lifetime <= 900, `lifetime ${lifetime}`);
        assert.ok(response.body.expires_in > 0 && response.body.expires_in <= 900);
        assert.ok(Math.abs(claims.iat! - Date.now() / 1000) < 60);
      });

      test("the admin's token carries role admin and users:admin", async () => {
        const claims = decodeJwt(await platform.api.adminToken());
        assert.equal(claims.role, 'admin');
        assert.ok(String(claims.scope).split(' ').includes('users:admin'));
      });

      test('two logins give two tokens with different jti', async () => {
        const alice = await platform.api.signUp();
        const second = await platform.api.login(alice.username, alice.password);
        assert.notEqual(decodeJwt(alice.token).jti, decodeJwt(second).jti);
      });

      test('login accepts a form-encoded body and a trailing slash', async () => {
        const alice = await platform.api.signUp();
        const response = await platform.api.call('POST', '/auth/login/', { form: { username: alice.username, password: alice.password } });
        assert.equal(response.status, 200);
        assert.equal(decodeJwt(response.body.token).sub, String(alice.id));
      });

      test('a wrong password and an unknown user both give 401 with identical bodies', async () => {
        const alice = await platform.api.signUp();
        const wrong = await platform.api.call('POST', '/auth/login', { json: { username: alice.username, password: `${alice.password}x` } });
        const unknown = await platform.api.call('POST', '/auth/login', { json: { username: `nobody_${randomBytes(4).toString('hex')}`, password: alice.password } });
        assert.equal(wrong.status, 401);
        assert.equal(unknown.status, 401);
        assert.deepEqual(wrong.body, unknown.body);
        assert.equal(wrong.body.error.code, 'invalid_credentials');
        assert.ok(!('token' in wrong.body));
      });

      test('missing or non-string fields give 400 naming the field and what is wrong; other fields are ignored, as the contract\'s clients may send them', async () => {
        const cases: [unknown, string, string][] = [
          [{}, 'username', 'parameter_missing'],
          [{ password: 'x' }, 'username', 'parameter_missing'],
          [{ username: 'admin' }, 'password', 'parameter_missing'],
          [{ username: 'admin', password: '' }, 'password', 'parameter_missing'],
          [{ username: 'admin', password: null }, 'password', 'parameter_missing'],
          [{ username: 'admin', password: 12345678 }, 'password', 'parameter_invalid'],
          [{ username: ['admin'], password: 'x' }, 'username', 'parameter_invalid'],
          [{ username: { $ne: '' }, password: 'x' }, 'username', 'parameter_invalid'],
          [{ user: 'admin', password: 'x' }, 'username', 'parameter_missing'],
          ['null', 'username', 'parameter_missing'],
        ];
        for (const [body, param, code] of cases) {
          const response = await platform.api.call('POST', '/auth/login', { json: body });
          assert.equal(response.status, 400, JSON.stringify(body));
          assert.deepEqual([response.body.error.param, response.body.error.code], [param, code], JSON.stringify(body));
        }
        const form = await platform.api.call('POST', '/auth/login', { form: { username: 'admin', password: adminPassword, submit: 'Sign in' } });
        assert.equal(form.status, 200, JSON.stringify(form.body));
        const json = await platform.api.call('POST', '/auth/login', { json: { username: 'admin', password: adminPassword, remember_me: true } });
        assert.equal(json.status, 200, JSON.stringify(json.body));
        const empty = await platform.api.call('POST', '/auth/login');
        assert.equal(empty.status, 400);
      });
    });

    describe('logout', () => {
      test('logout without a token is 401 Authorization header missing', async () => {
        const response = await platform.api.call('POST', '/auth/logout');
        assert.equal(response.status, 401);
        assert.equal(response.body.message, 'Authorization header missing');
      });

      test('logging out twice: the second is 401 Invalid token', async () => {
        const alice = await platform.api.signUp();
        const first = await platform.api.call('POST', '/auth/logout', { token: alice.token });
        assert.equal(first.status, 200);
        const second = await platform.api.call('POST', '/auth/logout', { token: alice.token });
        assert.equal(second.status, 401);
        assert.equal(second.body.message, 'Invalid token');
      });

      test("logout revokes the presented token only: the same user's other token keeps working", async () => {
        const alice = await platform.api.signUp();
        const other = await platform.api.login(alice.username, alice.password);
        assert.equal((await platform.api.call('POST', '/auth/logout', { token: alice.token })).status, 200);
        await eventually(async () => ((await platform.api.call('GET', '/payments', { token: alice.token })).status === 401 ? true : undefined), { timeoutMs: 1_000 });
        assert.equal((await platform.api.call('GET', '/payments', { token: other })).status, 200);
        assert.equal((await platform.api.call('GET', '/users/me', { token: other })).status, 200);
      });

      test('logout with a garbage token is 401 Invalid token', async () => {
        const response = await platform.api.call('POST', '/auth/logout', { token: 'abc.def.ghi' });
        assert.equal(response.status, 401);
        assert.equal(response.body.message, 'Invalid token');
      });
    });

    describe('token endpoint', () => {
      test('a wrong secret for payments-service is refused with 401 invalid_client', async () => {
        const response = await clientCredentials('payments-service', 'not-the-secret-not-the-secret', { scope: 'users:read' });
        assert.equal(response.status, 401);
        assert.equal(response.body.error, 'invalid_client');
        assert.ok(!('access_token' in response.body));
      });

      test('an unknown client is refused with 401 invalid_client', async () => {
        const response = await clientCredentials('mallory-service', secrets.payments, {});
        assert.equal(response.status, 401);
        assert.equal(response.body.error, 'invalid_client');
      });

      test('the password grant is refused with unsupported_grant_type', async () => {
        const response = await platform.api.call('POST', '/auth/token', { form: { grant_type: 'password', client_id: 'paymesh-login', username: 'admin', password: 'whatever-password' } });
        assert.equal(response.status, 400);
        assert.equal(response.body.error, 'unsupported_grant_type');
      });

      test('the public login client cannot use client_credentials', async () => {
        const response = await platform.api.call('POST', '/auth/token', { form: { grant_type: 'client_credentials', client_id: 'paymesh-login' } });
        assert.equal(response.status, 400);
        assert.ok(!('access_token' in response.body));
      });

      test('client_credentials with the right secret gives a service token with no role and only the allowed scope', async () => {
        const response = await clientCredentials('payments-service', secrets.payments, { scope: 'users:read', resource: usersAudience });
        assert.equal(response.status, 200);
        const token: string = response.body.access_token;
        assert.equal(decodeProtectedHeader(token).typ, 'at+jwt');
        const { payload } = await jwtVerify(token, createLocalJWKSet(await jwks()), { issuer, audience: usersAudience, typ: 'at+jwt', algorithms: ['ES256'] });
        assert.equal(payload.sub, 'payments-service');
        assert.equal(payload.client_id, 'payments-service');
        assert.equal(payload.role, undefined);
        assert.equal(payload.scope, 'users:read');
        assert.ok(payload.exp! - payload.iat! <= 900);
      });

      test('client_credentials through openid-client: a token for the users service that users accepts', async () => {
        const config = await oidc.discovery(new URL(issuer), 'notifications-service', undefined, oidc.ClientSecretBasic(secrets.notifications), { execute: [oidc.allowInsecureRequests] });
        const tokens = await oidc.clientCredentialsGrant(config, { scope: 'users:read', resource: usersAudience });
        assert.equal(tokens.scope, 'users:read');
        const alice = await platform.api.signUp();
        const read = await platform.api.call('GET', `/users/${alice.id}`, { token: tokens.access_token });
        assert.equal(read.status, 200);
        assert.equal(read.body.id, alice.id);
      });

      test('a service cannot obtain a scope beyond its own (users:credentials, users:admin)', async () => {
        for (const scope of ['users:credentials', 'users:admin', 'users:read users:credentials']) {
          const response = await clientCredentials('payments-service', secrets.payments, { scope, resource: usersAudience });
          assert.equal(response.status, 400, scope);
          assert.equal(response.body.error, 'invalid_scope', scope);
        }
      });

      test("a service token is for the one service it names: another service refuses it (audience), and no service may ask for the platform-wide audience", async () => {
        const { body } = await clientCredentials('payments-service', secrets.payments, { scope: 'users:read', resource: usersAudience });
        const token: string = body.access_token;
        assert.notEqual((await platform.api.call('GET', '/users/1', { token })).status, 401, 'users accepts it');
        for (const path of ['/payments', '/notifications/']) assert.equal((await platform.api.call('GET', path, { token })).status, 401, path);
        const platformWide = await clientCredentials('payments-service', secrets.payments, { scope: 'users:read', resource: 'urn:paymesh:platform' });
        assert.equal(platformWide.status, 400);
        assert.equal(platformWide.body.error, 'invalid_target');
      });

      test('a service token is not a user: /users/me is 403 and a user-only action is refused', async () => {
        const { body } = await clientCredentials('notifications-service', secrets.notifications, { scope: 'users:read', resource: usersAudience });
        const token: string = body.access_token;
        const me = await platform.api.call('GET', '/users/me', { token });
        assert.equal(me.status, 403);
        assert.equal(me.body.error.type, 'permission_error');
        // On the users service itself: the gateway does not route /users/internal/.
        const users = new Api(platform.embedded!.services.users.url);
        const credentials = await users.call('POST', '/users/internal/verify-credentials', { token, json: { username: 'admin', password: 'whatever-password' } });
        assert.equal(credentials.status, 403);
      });
    });

    describe('revocation', () => {
      test("deleting a user (admin, POST /users/delete_user) makes that user's unexpired token refused everywhere within 1 s", async () => {
        const bob = await platform.api.signUp();
        const adminToken = await platform.api.adminToken();
        for (const path of ['/payments', '/users/me', '/notifications/']) assert.equal((await platform.api.call('GET', path, { token: bob.token })).status, 200, path);
        const deleted = await platform.api.call('POST', '/users/delete_user', { token: adminToken, json: { user_id: bob.id } });
        assert.equal(deleted.status, 200);
        const deletedAt = Date.now();
        await eventually(async () => {
          const responses = await Promise.all([
            platform.api.call('GET', '/payments', { token: bob.token }),
            platform.api.call('GET', '/users/me', { token: bob.token }),
            platform.api.call('GET', '/notifications/', { token: bob.token }),
            platform.api.call('POST', '/auth/logout', { token: bob.token }),
          ]);
          return responses.every((r) => r.status === 401 && r.body.message === 'Invalid token') ? true : undefined;
        }, { timeoutMs: 1_000 });
        assert.ok(Date.now() - deletedAt <= 1_000);
        // the admin's own token is untouched
        assert.equal((await platform.api.call('GET', '/users/me', { token: adminToken })).status, 200);
      });
    });

    describe('every service verifies the token itself', () => {
      // Tokens built with auth's real signing key (read from its database) but one claim or header
      // wrong, and tokens signed with other keys: each must be refused by every service.
      const forge = async (options: { claims?: JWTPayload; header?: Record<string, unknown>; key?: JWK; expiresIn?: string | number }) => {
        const jwk = options.key ?? (await signingKey());
        return new SignJWT({ role: 'admin', scope: 'payments:read payments:write users:read users:admin notifications:read notifications:write', client_id: 'paymesh-login', ...options.claims })
          .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: jwk.kid, ...options.header })
          .setIssuer(String(options.claims?.iss ?? issuer))
          .setAudience(options.claims?.aud ?? audience)
          .setSubject('1')
          .setJti(randomUUID())
          .setIssuedAt(options.claims?.iat ?? Math.floor(Date.now() / 1000))
          .setExpirationTime(options.expiresIn ?? '5m')
          .sign(await importJWK(jwk, 'ES256'));
      };
      const refusedEverywhere = async (token: string, what: string) => {
        for (const path of ['/payments', '/users/me', '/notifications/']) {
          const response = await platform.api.call('GET', path, { token });
          assert.equal(response.status, 401, `${what} on ${path}`);
          assert.equal(response.body.message, 'Invalid token', `${what} on ${path}`);
        }
      };

      test('a correctly forged control token is accepted (so the refusals below are about the one flaw)', async () => {
        const token = await forge({});
        assert.equal((await platform.api.call('GET', '/users/me', { token })).status, 200);
      });

      test('a token signed by another key under the real kid is refused', async () => {
        const { privateKey } = await generateKeyPair('ES256', { extractable: true });
        const jwk = { ...(await exportJWK(privateKey)), kid: (await signingKey()).kid };
        await refusedEverywhere(await forge({ key: jwk }), 'foreign key');
      });

      test('typ other than at+jwt (an ID token, say) is refused', async () => {
        await refusedEverywhere(await forge({ header: { typ: 'JWT' } }), 'typ JWT');
      });

      test('another audience or another issuer is refused', async () => {
        await refusedEverywhere(await forge({ claims: { aud: 'urn:other:api' } }), 'audience');
        await refusedEverywhere(await forge({ claims: { iss: `http://127.0.0.1:${platform.embedded!.plan.gateway}/auth` } }), 'issuer');
      });

      test('an expired token is refused', async () => {
        const past = Math.floor(Date.now() / 1000) - 3_600;
        await refusedEverywhere(await forge({ claims: { iat: past }, expiresIn: past + 60 }), 'expired');
      });

      test('alg none and HS256 tokens are refused', async () => {
        const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
        const claims = { iss: issuer, aud: audience, sub: '1', role: 'admin', scope: 'payments:read', jti: randomUUID(), iat: Math.floor(Date.now() / 1000), exp: Math.floor(Date.now() / 1000) + 300 };
        await refusedEverywhere(`${encode({ alg: 'none', typ: 'at+jwt' })}.${encode(claims)}.`, 'alg none');
        const hs = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: (await signingKey()).kid }).sign(new TextEncoder().encode('a-shared-secret-of-enough-length-0123456789'));
        await refusedEverywhere(hs, 'HS256');
      });
    });
  });
}
