// Third-party confidential clients, registered by an admin through the client API: client
// credentials with the audiences and scopes they were given and nothing more (never the
// platform-wide audience, auth's API, admin or service scopes), secrets shown once and kept hashed,
// rotation and deletion effective at once. Driven with openid-client, as a partner would.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as oidc from 'openid-client';
import { decodeJwt, exportJWK, generateKeyPair } from 'jose';
import { backends, startTestPlatform, type TestPlatform } from '@paymesh/app/testing';
import { queryRows, sql } from '@paymesh/platform/db/open-database';
import { HttpBrowser } from '@paymesh/app/testing/http-browser';
import { authorizeCode, discover, issuerOf } from './sign-in.ts';

const payments = 'urn:paymesh:payments';
const invalid = (code: string) => (error: { error?: string }) => error.error === code;
/** A refused client authentication: 401 invalid_client (openid-client reports the WWW-Authenticate challenge). */
const refusedClient = (error: { error?: string; status?: number }) => error.error === 'invalid_client' || error.status === 401;

for (const backend of backends()) {
  describe(`third-party confidential clients (${backend})`, () => {
    let platform: TestPlatform;
    let issuer: URL;
    let adminToken: string;

    before(async () => {
      platform = await startTestPlatform(backend);
      issuer = issuerOf(platform.gatewayUrl);
      adminToken = await platform.api.adminToken();
    });
    after(async () => {
      await platform?.stop();
    });

    const register = (body: Record<string, unknown>) => platform.api.call('POST', '/auth/clients', { token: adminToken, json: { client_name: 'Partner back end', type: 'confidential', ...body } });
    const machine = (resourceScopes: Record<string, string>, extra: Record<string, unknown> = {}) => register({ grant_types: ['client_credentials'], resource_scopes: resourceScopes, ...extra });
    const storedSecret = async (clientId: string) => {
      const [row] = await queryRows<{ secret: string }>(platform.embedded!.services.auth.runtime.database.db, sql`select payload->>'client_secret' as secret from oidc_models where model = 'Client' and id = ${clientId}`);
      return row?.secret;
    };

    test('a client_credentials token works within the client\'s scopes and audience and is refused outside them', async () => {
      const created = await machine({ [payments]: 'payments:read' });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assert.deepEqual(created.body.grant_types, ['client_credentials']);
      assert.deepEqual(created.body.redirect_uris, []);
      assert.deepEqual(created.body.resource_scopes, { [payments]: 'payments:read' });
      const partner = await discover(issuer, created.body.client_id, oidc.ClientSecretBasic(created.body.client_secret));
      // Its one audience is the default; naming it is the same.
      for (const params of [{ scope: 'payments:read' }, { scope: 'payments:read', resource: payments }] as Record<string, string>[]) {
        const { access_token: token } = await oidc.clientCredentialsGrant(partner, params);
        const claims = decodeJwt(token);
        assert.equal(claims.aud, payments);
        assert.equal(claims.scope, 'payments:read');
        assert.equal(claims.sub, created.body.client_id);
        assert.equal(claims.paymesh_service, undefined, 'never one of the platform\'s services');
        // Within its scope, payments accepts the token (it then answers by its own rules: this
        // client is no user and has no payments of its own).
        const read = await platform.api.call('GET', '/payments', { token });
        assert.equal(read.status, 403);
        assert.equal(read.body.error.code, 'forbidden');
        // Outside: another scope, other services.
        const write = await platform.api.call('POST', '/payments', { token, json: { amount: 1, user_id: 1 } });
        assert.equal(write.body.error.code, 'insufficient_scope');
        for (const path of ['/users/me', '/notifications/']) assert.equal((await platform.api.call('GET', path, { token })).status, 401, path);
      }
      await assert.rejects(oidc.clientCredentialsGrant(partner, { scope: 'payments:write' }), invalid('invalid_scope'));
      // No scope: every scope the client registered for the resource (RFC 6749 §3.3's default, as Auth0), never a token with none.
      for (const params of [{}, { scope: '' }, { scope: '  ' }, { resource: payments }] as Record<string, string>[]) {
        const { access_token: token, scope } = await oidc.clientCredentialsGrant(partner, params);
        assert.equal(decodeJwt(token).scope, 'payments:read', JSON.stringify(params));
        assert.equal(scope, 'payments:read', JSON.stringify(params));
      }
      for (const resource of ['urn:paymesh:users', 'urn:paymesh:notifications', 'urn:paymesh:platform', 'urn:paymesh:auth']) {
        await assert.rejects(oidc.clientCredentialsGrant(partner, { scope: 'payments:read', resource }), invalid('invalid_target'), resource);
      }
    });

    test('a client registered for two services gets one token per service, each with that service\'s scopes', async () => {
      const created = await machine({ [payments]: 'payments:read', 'urn:paymesh:notifications': 'notifications:write' }, { token_endpoint_auth_method: 'client_secret_post' });
      assert.equal(created.body.token_endpoint_auth_method, 'client_secret_post');
      const partner = await discover(issuer, created.body.client_id, oidc.ClientSecretPost(created.body.client_secret));
      const forPayments = decodeJwt((await oidc.clientCredentialsGrant(partner, { scope: 'payments:read notifications:write', resource: payments })).access_token);
      assert.equal(forPayments.scope, 'payments:read');
      const forNotifications = decodeJwt((await oidc.clientCredentialsGrant(partner, { scope: 'payments:read notifications:write', resource: 'urn:paymesh:notifications' })).access_token);
      assert.equal(forNotifications.scope, 'notifications:write');
      // Two audiences: which one is for the client to say.
      await assert.rejects(oidc.clientCredentialsGrant(partner, { scope: 'payments:read' }), invalid('invalid_target'));
    });

    test('a third party can never be registered with the platform-wide audience, auth\'s API, admin or service scopes', async () => {
      const refused: [string, Record<string, unknown>][] = [
        ['the platform-wide audience', { grant_types: ['client_credentials'], resource_scopes: { 'urn:paymesh:platform': 'payments:read' } }],
        ['auth\'s API', { grant_types: ['client_credentials'], resource_scopes: { 'urn:paymesh:auth': 'users:read' } }],
        ['the admin scope', { grant_types: ['client_credentials'], resource_scopes: { 'urn:paymesh:users': 'users:read users:admin' } }],
        ['the services\' credential scope', { grant_types: ['client_credentials'], resource_scopes: { 'urn:paymesh:users': 'users:credentials' } }],
        ['the admin scope in an app\'s scope', { redirect_uris: ['https://partner.example/cb'], scope: 'openid users:admin' }],
        ['the admin scope for an app\'s resource', { redirect_uris: ['https://partner.example/cb'], resource_scopes: { 'urn:paymesh:users': 'users:admin' } }],
        ['the services\' scope even for a first-party app', { redirect_uris: ['https://app.example/cb'], first_party: true, scope: 'openid users:credentials' }],
      ];
      for (const [what, body] of refused) {
        const response = await register(body);
        assert.equal(response.status, 400, what);
        assert.equal(response.body.error.code, 'client_privilege_refused', what);
      }
    });

    test('a registration that makes no sense is refused with the parameter at fault', async () => {
      const cases: [Record<string, unknown>, string][] = [
        [{ type: 'public', grant_types: ['client_credentials'], resource_scopes: { [payments]: 'payments:read' } }, 'grant_types'],
        [{ grant_types: ['client_credentials'], resource_scopes: { [payments]: 'payments:read' }, first_party: true }, 'first_party'],
        [{ grant_types: ['client_credentials'] }, 'resource_scopes'],
        [{ grant_types: ['client_credentials'], resource_scopes: { [payments]: 'payments:read' }, redirect_uris: ['https://partner.example/cb'] }, 'redirect_uris'],
        [{ grant_types: ['refresh_token'] }, 'grant_types'],
        [{ grant_types: ['authorization_code'] }, 'redirect_uris'],
        [{ grant_types: ['client_credentials'], resource_scopes: { 'urn:paymesh:nowhere': 'payments:read' } }, 'resource_scopes'],
        [{ grant_types: ['client_credentials'], resource_scopes: { [payments]: 'notifications:read' } }, 'resource_scopes'],
        [{ grant_types: ['client_credentials'], resource_scopes: { [payments]: 'payments:read' }, jwks: { keys: [{ kty: 'EC' }] } }, 'jwks'],
        [{ type: 'public', redirect_uris: ['https://spa.example/cb'], token_endpoint_auth_method: 'client_secret_basic' }, 'token_endpoint_auth_method'],
        // A code must not cross a network in clear text (OAuth 2.1): http only to the machine itself.
        [{ type: 'public', redirect_uris: ['http://evil.example/cb'] }, 'redirect_uris'],
        [{ redirect_uris: ['https://partner.example/cb', 'http://10.0.0.8/cb'] }, 'redirect_uris'],
        [{ redirect_uris: ['https://partner.example/cb'], post_logout_redirect_uris: ['http://partner.example/bye'] }, 'post_logout_redirect_uris'],
        // Matching is exact: the registered text must be the one spelling of where codes go.
        ...[' https://ok.example/cb', 'https://ok.example/cb ', 'https://ok.example/c b', 'https://ok.example/cb\t', 'https://user:pw@ok.example/cb', 'https://ok.example/*', 'https://*.ok.example/cb',
          'HTTP://LOCALHOST/cb', 'https://OK.example/cb', 'https://ok.example:443/cb', 'http://127.1/cb', 'http://2130706433/cb', 'http://0x7f.0.0.1/cb']
          .map((uri) => [{ type: 'public', redirect_uris: [uri] }, 'redirect_uris'] as [Record<string, unknown>, string]),
        [{ redirect_uris: ['https://partner.example/cb'], post_logout_redirect_uris: ['https://a:b@partner.example/bye'] }, 'post_logout_redirect_uris'],
      ];
      for (const [body, param] of cases) {
        const response = await register(body);
        assert.equal(response.status, 400, JSON.stringify(body));
        assert.equal(response.body.error.code, 'client_metadata_invalid', JSON.stringify(body));
        assert.equal(response.body.error.param, param, JSON.stringify(body));
      }
      // Loopback http is a native app's listener (RFC 8252 §7.3), or a developer's machine.
      for (const uri of ['http://127.0.0.1:8400/cb', 'http://localhost:3000/cb', 'http://[::1]:9000/cb', 'https://ok.example', 'https://ok.example/cb?x=1', 'https://xn--bcher-kva.example/cb']) {
        const response = await register({ type: 'public', redirect_uris: [uri] });
        assert.equal(response.status, 201, `${uri}: ${JSON.stringify(response.body)}`);
      }
    });

    // Names a plain object answers to: a resource is data, never a property of Object.
    const objectNames = ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf', 'isPrototypeOf'];

    test('resource_scopes naming Object\'s own properties (constructor, __proto__, toString…) is refused as client_metadata_invalid, never a 500', async () => {
      for (const name of objectNames) {
        for (const resourceScopes of [{ [name]: 'payments:read' }, { [payments]: 'payments:read', [name]: 'payments:read' }]) {
          for (const extra of [{ grant_types: ['client_credentials'] }, { redirect_uris: ['https://partner.example/cb'] }]) {
            const response = await register({ ...extra, resource_scopes: resourceScopes });
            assert.equal(response.status, 400, `${name}: ${JSON.stringify(response.body)}`);
            // A `__proto__` key is refused by the platform's JSON parser before any route (Fastify's
            // prototype poisoning guard): 400 body_malformed, as for every body anywhere.
            if (name === '__proto__') {
              assert.equal(response.body.error.code, 'body_malformed', name);
              continue;
            }
            assert.equal(response.body.error.code, 'client_metadata_invalid', name);
            assert.equal(response.body.error.param, 'resource_scopes', name);
          }
        }
      }
    });

    test('a token request whose resource is named like Object\'s own properties is refused with invalid_target, never a 500', async () => {
      const created = await machine({ [payments]: 'payments:read' });
      assert.equal(created.status, 201);
      const partner = await discover(issuer, created.body.client_id, oidc.ClientSecretBasic(created.body.client_secret));
      for (const name of objectNames) {
        await assert.rejects(oidc.clientCredentialsGrant(partner, { scope: 'payments:read', resource: name }), (error: { error?: string; status?: number }) => error.error === 'invalid_target' || error.error === 'invalid_request', name);
      }
      assert.equal(decodeJwt((await oidc.clientCredentialsGrant(partner, { scope: 'payments:read' })).access_token).aud, payments, 'the client still works');
    });

    test('the secret is shown once and stored hashed; a rotation refuses the old one at once; a deleted client gets no token', async () => {
      const created = await machine({ [payments]: 'payments:read' });
      const { client_id: clientId, client_secret: secret } = created.body;
      const stored = await storedSecret(clientId);
      assert.ok(stored !== undefined && stored !== secret && !stored.includes(secret), 'the database never holds the clear secret');
      assert.equal((await platform.api.call('GET', `/auth/clients/${clientId}`, { token: adminToken })).body.client_secret, undefined);
      const before = await discover(issuer, clientId, oidc.ClientSecretBasic(secret));
      await oidc.clientCredentialsGrant(before, { scope: 'payments:read' });

      const rotated = await platform.api.call('POST', `/auth/clients/${clientId}/secret`, { token: adminToken });
      assert.equal(rotated.status, 200);
      assert.notEqual(await storedSecret(clientId), rotated.body.client_secret);
      await assert.rejects(oidc.clientCredentialsGrant(before, { scope: 'payments:read' }), refusedClient);
      const after = await discover(issuer, clientId, oidc.ClientSecretBasic(rotated.body.client_secret));
      await oidc.clientCredentialsGrant(after, { scope: 'payments:read' });
      // Our own endpoints authenticate it the same way.
      assert.equal((await oidc.tokenIntrospection(after, 'not-a-token')).active, false);
      await assert.rejects(oidc.tokenIntrospection(before, 'not-a-token'), (error: { status?: number }) => error.status === 401);

      assert.equal((await platform.api.call('DELETE', `/auth/clients/${clientId}`, { token: adminToken })).status, 204);
      await assert.rejects(oidc.clientCredentialsGrant(after, { scope: 'payments:read' }), refusedClient);
    });

    test('a client may authenticate with its own key (private_key_jwt) instead of a secret', async () => {
      const { publicKey, privateKey } = await generateKeyPair('ES256');
      const created = await machine({ [payments]: 'payments:read' }, { token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' }] } });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assert.equal(created.body.client_secret, undefined);
      const partner = await discover(issuer, created.body.client_id, oidc.PrivateKeyJwt({ key: privateKey, kid: 'k1' }));
      assert.equal(decodeJwt((await oidc.clientCredentialsGrant(partner, { scope: 'payments:read' })).access_token).aud, payments);
      const impostor = await discover(issuer, created.body.client_id, oidc.PrivateKeyJwt((await generateKeyPair('ES256')).privateKey));
      await assert.rejects(oidc.clientCredentialsGrant(impostor, { scope: 'payments:read' }), refusedClient);
      const rotate = await platform.api.call('POST', `/auth/clients/${created.body.client_id}/secret`, { token: adminToken });
      assert.equal(rotate.body.error.code, 'client_uses_keys');
    });

    test('an app registered with its resources signs users in for those alone, its only resource by default', async () => {
      const redirect = 'https://partner.example/cb';
      const created = await register({ redirect_uris: [redirect], resource_scopes: { [payments]: 'payments:read' } });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assert.equal(created.body.scope, 'openid profile email offline_access payments:read');
      const app = await discover(issuer, created.body.client_id, oidc.ClientSecretBasic(created.body.client_secret));
      const user = await platform.api.signUp();
      const code = await authorizeCode(app, { issuer, redirectUri: redirect, user, params: { scope: 'openid offline_access payments:read' } });
      const tokens = await oidc.authorizationCodeGrant(app, code.callback, code.checks, { resource: payments });
      assert.equal(decodeJwt(tokens.access_token).scope, 'payments:read');
      assert.equal((await platform.api.call('GET', '/payments', { token: tokens.access_token })).status, 200);
      const elsewhere = oidc.buildAuthorizationUrl(app, { redirect_uri: redirect, scope: 'openid', resource: 'urn:paymesh:notifications', code_challenge: 'x'.repeat(43), code_challenge_method: 'S256', state: 's' });
      const refused = await new HttpBrowser().request(elsewhere);
      assert.equal(new URL(refused.location!).searchParams.get('error'), 'invalid_target', 'no sign-in for a resource the app was not given');
    });

    test('an app the user allowed users:read alone reads their account and cannot change or delete it (403 insufficient_scope); users:write can', async () => {
      const users = 'urn:paymesh:users';
      const redirect = 'https://reader.example/cb';
      const tokenFor = async (scopes: string, user: { id: number; username: string; password: string; token: string }) => {
        const created = await register({ client_name: `Reader ${scopes}`, redirect_uris: [redirect], resource_scopes: { [users]: scopes } });
        assert.equal(created.status, 201, JSON.stringify(created.body));
        const app = await discover(issuer, created.body.client_id, oidc.ClientSecretBasic(created.body.client_secret));
        const code = await authorizeCode(app, { issuer, redirectUri: redirect, user, params: { scope: `openid ${scopes}` } });
        const tokens = await oidc.authorizationCodeGrant(app, code.callback, code.checks, { resource: users });
        assert.equal(decodeJwt(tokens.access_token).scope, scopes);
        return tokens.access_token;
      };
      const user = await platform.api.signUp();
      const reader = await tokenFor('users:read', user);
      assert.equal((await platform.api.call('GET', '/users/me', { token: reader })).status, 200);
      assert.equal((await platform.api.call('GET', `/users/${user.id}`, { token: reader })).status, 200);
      const writes: [string, string, unknown][] = [
        ['PATCH', '/users/me', { display_name: 'owned by the reader app' }],
        ['POST', '/users/me/password', { current_password: user.password, new_password: 'a-reader-chose-this-1' }],
        ['POST', '/users/me/verify-email', undefined],
        ['DELETE', `/users/${user.id}`, undefined],
        ['POST', '/users/delete_user', { user_id: user.id }],
      ];
      for (const [method, path, json] of writes) {
        const refused = await platform.api.call(method, path, { token: reader, json });
        assert.equal(refused.status, 403, `${method} ${path}: ${JSON.stringify(refused.body)}`);
        assert.equal(refused.body.error.code, 'insufficient_scope', `${method} ${path}`);
      }
      const me = await platform.api.call('GET', '/users/me', { token: user.token });
      assert.equal(me.status, 200, 'the account is still there');
      assert.equal(me.body.display_name ?? null, null, 'and unchanged');
      assert.equal(await platform.api.login(user.username, user.password).then(() => 'same password'), 'same password');
      // An app the user allowed to change their account can.
      const writer = await tokenFor('users:read users:write', user);
      const changed = await platform.api.call('PATCH', '/users/me', { token: writer, json: { display_name: 'Changed by the writer app' } });
      assert.equal(changed.status, 200, JSON.stringify(changed.body));
      assert.equal(changed.body.display_name, 'Changed by the writer app');
    });

    test('a client registered before secrets were hashed keeps its secret: migration 0007 hashes it in place', async () => {
      const db = platform.embedded!.services.auth.runtime.database.db;
      const clientId = 'cli_registered_in_clear';
      const secret = 'clear-secret-0123456789abcdef-0123456789';
      const payload = { client_id: clientId, client_id_issued_at: 1, client_name: 'Old', client_secret: secret, grant_types: ['client_credentials'], response_types: [], redirect_uris: [], token_endpoint_auth_method: 'client_secret_basic', scope: 'payments:read', paymesh_resource_scopes: { [payments]: 'payments:read' } };
      await db.execute(sql`insert into oidc_models (model, id, payload) values ('Client', ${clientId}, ${JSON.stringify(payload)}::jsonb)`);
      await db.execute(sql.raw(readFileSync(resolve(import.meta.dirname, '../migrations/0007_hashed_client_secrets.sql'), 'utf8')));
      assert.match((await storedSecret(clientId))!, /^sha256:[0-9a-f]{64}$/);
      const partner = await discover(issuer, clientId, oidc.ClientSecretBasic(secret));
      assert.equal(decodeJwt((await oidc.clientCredentialsGrant(partner, { scope: 'payments:read' })).access_token).aud, payments);
    });
  });
}
