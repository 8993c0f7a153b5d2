// An external issuer (Auth0, Okta, Keycloak) trusted by configuration, played here by an
// independent issuer started inside the test: its tokens authenticate at every service, but never
// as one of our services, an admin, or a local user (its accounts are not linked yet: 403); tokens
// it did not sign properly, or for another audience, are refused (401); an issuer nobody configured
// is refused.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { startTestPlatform, type TestPlatform } from '@paymesh/app/testing';

interface Issuer {
  readonly url: string;
  readonly server: Server;
  readonly key: CryptoKey;
  readonly jwk: JWK;
}

async function startIssuer(): Promise<Issuer> {
  const { publicKey, privateKey } = await generateKeyPair('ES256');
  const jwk = { ...(await exportJWK(publicKey)), kid: randomUUID(), alg: 'ES256', use: 'sig' };
  const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] })));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, server, key: privateKey, jwk };
}

const audience = 'https://api.paymesh.example';

function sign(issuer: Issuer, claims: Record<string, unknown>, options: { audience?: string; typ?: string } = {}): Promise<string> {
  const nowSec = Math.floor(Date.now() / 1000);
  return new SignJWT({ scope: 'payments:read payments:write notifications:read notifications:write users:read', client_id: 'okta-app', ...claims })
    .setProtectedHeader({ alg: 'ES256', kid: issuer.jwk.kid!, typ: options.typ ?? 'at+jwt' })
    .setIssuer(issuer.url)
    .setAudience(options.audience ?? audience)
    .setSubject(String(claims.sub ?? 'okta|42'))
    .setJti(randomUUID())
    .setIssuedAt(nowSec)
    .setExpirationTime(nowSec + 300)
    .sign(issuer.key);
}

describe('a trusted external issuer', () => {
  let external: Issuer;
  let stranger: Issuer;
  let platform: TestPlatform;

  before(async () => {
    external = await startIssuer();
    stranger = await startIssuer();
    platform = await startTestPlatform('pglite', { env: { EXTERNAL_ISSUER: external.url, EXTERNAL_JWKS_URL: external.url, EXTERNAL_AUDIENCE: audience } });
  });
  after(async () => {
    await platform?.stop();
    external?.server.close();
    stranger?.server.close();
  });

  const get = (path: string, token: string) => platform.api.call('GET', path, { token });

  test('its tokens authenticate at every service but act as no local user until accounts are linked (403)', async () => {
    const token = await sign(external, { sub: 'okta|42' });
    for (const path of ['/payments', '/notifications/', '/users/me']) {
      const response = await get(path, token);
      assert.equal(response.status, 403, path);
      assert.equal(response.body.error.type, 'permission_error', path);
    }
  });

  test('a subject that looks like a local user id, an admin role or a service identity grants nothing', async () => {
    const alice = await platform.api.signUp();
    const asAlice = await sign(external, { sub: String(alice.id), role: 'admin' });
    assert.equal((await get(`/users/${alice.id}`, asAlice)).status, 404, "not alice's account");
    assert.equal((await platform.api.call('POST', '/payments', { token: asAlice, json: { amount: 1, user_id: alice.id } })).status, 403);
    const asService = await sign(external, { sub: 'okta-app', client_id: 'okta-app', role: undefined });
    assert.equal((await platform.api.call('POST', '/notifications', { token: asService, json: { user_id: alice.id, message: 'hi' } })).status, 403);
  });

  test('its tokens for another audience, of another type, or signed by a key it does not publish are refused (401)', async () => {
    for (const token of [
      await sign(external, {}, { audience: 'https://someone-else.example' }),
      await sign(external, {}, { typ: 'JWT' }),
      await sign({ ...stranger, url: external.url }, {}),
    ]) {
      const response = await get('/payments', token);
      assert.equal(response.status, 401);
      assert.equal(response.body.message, 'Invalid token');
    }
  });

  test('an issuer nobody configured is refused (401)', async () => {
    const response = await get('/payments', await sign(stranger, {}));
    assert.equal(response.status, 401);
  });

  test('our own tokens still work beside it', async () => {
    const bob = await platform.api.signUp();
    assert.equal((await get('/payments', bob.token)).status, 200);
  });
});
