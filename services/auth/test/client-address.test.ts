// The client address the throttles key on (ADR 9) is the socket's, or what a trusted proxy
// (TRUSTED_PROXIES: here the gateway's 127.0.0.1 alone) says in X-Forwarded-For: a client that
// sends its own X-Forwarded-For, through the gateway (which overwrites it) or straight at the
// service (which does not believe it), cannot choose the address it is counted under.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { backends, startTestPlatform, type TestPlatform, type TestEnv } from '@paymesh/app/testing';

const maxPerIp = 3;
const env: TestEnv = {
  TRUSTED_PROXIES: '127.0.0.1',
  LOGIN_MAX_FAILURES_PER_IP: String(maxPerIp),
  CLIENT_AUTH_MAX_FAILURES_PER_IP: String(maxPerIp),
  LOGIN_LOCKOUT_SECONDS: '600',
};

/** What a client may claim to be: one address, a chain, IPv6, the gateway's own, garbage. */
const spoofs = (i: number) => [`203.0.113.${i}`, `198.51.100.${i}, 10.0.0.${i}`, `2001:db8::${i}`, '127.0.0.1', `unknown-${i}`, `127.0.0.${200 + i}`][i % 6]!;

for (const backend of backends()) {
  describe(`client address behind the gateway (${backend})`, () => {
    let platform: TestPlatform;
    let lastOctet = 10;
    const freshAddress = () => `127.0.0.${++lastOctet}`;

    before(async () => {
      platform = await startTestPlatform(backend, { env });
    });
    after(async () => {
      await platform?.stop();
    });

    const post = (base: string, address: string, path: string, body: string, headers: Record<string, string>) =>
      new Promise<number>((resolve, reject) => {
        const req = httpRequest(`${base}${path}`, { method: 'POST', localAddress: address, agent: false, timeout: 15_000, headers: { 'content-length': Buffer.byteLength(body), ...headers } }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode!));
          res.on('error', reject);
        });
        req.on('timeout', () => req.destroy(new Error('request timed out')));
        req.on('error', reject);
        req.end(body);
      });
    const login = (base: string, address: string, forwardedFor: string) =>
      post(base, address, '/auth/login', JSON.stringify({ username: `nobody_${randomBytes(4).toString('hex')}`, password: 'wrong-password-1' }), { 'content-type': 'application/json', 'x-forwarded-for': forwardedFor });
    const clientAuth = (path: string) => (base: string, address: string, forwardedFor: string) =>
      post(base, address, path, new URLSearchParams({ grant_type: 'client_credentials', token: 'x', client_id: `nobody-${randomBytes(4).toString('hex')}`, client_secret: 'wrong-secret' }).toString(), { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': forwardedFor });

    const throttles = [['login', login, 401], ['client secret at /auth/token', clientAuth('/auth/token'), 401], ['client secret at introspection', clientAuth('/auth/token/introspection'), 401]] as const;
    for (const [name, attempt, failed] of throttles) {
      for (const via of ['the gateway', 'the auth service directly'] as const) {
        test(`a spoofed X-Forwarded-For does not change the address the ${name} throttle counts, through ${via}`, async () => {
          const base = via === 'the gateway' ? platform.gatewayUrl : platform.embedded!.services.auth.url;
          const attacker = freshAddress();
          const statuses: number[] = [];
          for (let i = 0; i <= maxPerIp; i++) statuses.push(await attempt(base, attacker, spoofs(i)));
          assert.deepEqual(statuses, [...Array<number>(maxPerIp).fill(failed), 429]);
          // Another client (its own socket address) is not affected, whatever it claims.
          assert.equal(await attempt(base, freshAddress(), attacker), failed, 'claiming the locked address locks nobody else out');
        });
      }
    }

    test('through the gateway each client is counted under its own address, not the gateway\'s', async () => {
      const first = freshAddress();
      for (let i = 0; i < maxPerIp; i++) assert.equal(await login(platform.gatewayUrl, first, spoofs(i)), 401);
      assert.equal(await login(platform.gatewayUrl, first, spoofs(0)), 429);
      assert.equal(await login(platform.gatewayUrl, freshAddress(), spoofs(0)), 401, 'another client through the same gateway');
    });
  });
}
