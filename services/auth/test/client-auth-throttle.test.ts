// Guessing of client secrets at /auth/token (oidc-provider's own endpoint), /auth/token/introspection
// and /auth/token/revocation, through the gateway (ADR 9): a client id is refused from the
// guesser's address after a few failures while its right secret still works from elsewhere,
// addresses are limited over every client id, races and malformed requests change nothing, and
// every failure is logged (client id, address; never the secret) and counted in the metrics.
// Each test speaks from its own loopback addresses, as in login-throttle.test.ts.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { backends, startTestPlatform, type TestPlatform, type TestEnv } from '@paymesh/app/testing';

const maxPerClient = 3;
const maxPerIp = 8;
const secret = randomBytes(32).toString('base64url');
const env: TestEnv = {
  CLIENT_AUTH_MAX_FAILURES_PER_CLIENT_AND_ADDRESS: String(maxPerClient),
  CLIENT_AUTH_MAX_FAILURES_PER_IP: String(maxPerIp),
  LOGIN_LOCKOUT_SECONDS: '600',
  // For the login metrics: the third wrong password from one address is refused.
  LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS: '2',
  SERVICE_CLIENTS: `payments-service:${secret},users-service:${randomBytes(32).toString('base64url')},notifications-service:${randomBytes(32).toString('base64url')}`,
  PAYMENTS_SERVICE_CLIENT_SECRET: secret,
};

interface Answer {
  readonly status: number;
  readonly body: any;
  readonly retryAfter: string | undefined;
}

const basic = (clientId: string, clientSecret: string) => `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64')}`;
const wrongSecret = () => `wrong-${randomBytes(12).toString('hex')}`;

/** The three endpoints, each with the way of presenting the secret it is tried with here. */
const endpoints = [
  { name: 'token, client_secret_basic', path: '/auth/token', form: { grant_type: 'client_credentials', resource: 'urn:paymesh:users', scope: 'users:read' }, post: false, ok: 200 },
  { name: 'token, client_secret_post', path: '/auth/token', form: { grant_type: 'client_credentials', resource: 'urn:paymesh:users', scope: 'users:read' }, post: true, ok: 200 },
  { name: 'introspection', path: '/auth/token/introspection', form: { token: 'not-a-token' }, post: false, ok: 200 },
  { name: 'revocation', path: '/auth/token/revocation', form: { token: 'not-a-token' }, post: true, ok: 200 },
] as const;

for (const backend of backends()) {
  describe(`client authentication throttle (${backend})`, () => {
    let platform: TestPlatform;
    let lastOctet = 10;
    const freshAddress = () => `127.0.0.${++lastOctet}`;

    before(async () => {
      platform = await startTestPlatform(backend, { captureLogs: true, env });
    });
    after(async () => {
      await platform?.stop();
    });

    /** A form POST through the gateway (or straight at `base`) from `address`. */
    const postFrom = (address: string, path: string, form: Record<string, string>, headers: Record<string, string> = {}, base = platform.gatewayUrl) =>
      new Promise<Answer>((resolve, reject) => {
        const payload = new URLSearchParams(form).toString();
        const req = httpRequest(`${base}${path}`, {
          method: 'POST',
          localAddress: address,
          agent: false,
          timeout: 15_000,
          headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(payload), ...headers },
        }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            resolve({ status: res.statusCode!, body: res.headers['content-type']?.includes('json') === true ? JSON.parse(text) : text, retryAfter: res.headers['retry-after'] });
          });
          res.on('error', reject);
        });
        req.on('timeout', () => req.destroy(new Error('request timed out')));
        req.on('error', reject);
        req.end(payload);
      });

    /** The endpoint's request with `clientSecret` for `clientId`, presented the endpoint's way. */
    const tryClient = (endpoint: (typeof endpoints)[number], address: string, clientId: string, clientSecret: string) => (endpoint.post
      ? postFrom(address, endpoint.path, { ...endpoint.form, client_id: clientId, client_secret: clientSecret })
      : postFrom(address, endpoint.path, endpoint.form, { authorization: basic(clientId, clientSecret) }));

    const assertThrottled = (answer: Answer, what: string) => {
      assert.equal(answer.status, 429, what);
      assert.equal(answer.body.error, 'invalid_client', what);
      assert.ok(!('access_token' in answer.body) && !('active' in answer.body), what);
      const seconds = Number(answer.retryAfter);
      assert.ok(Number.isInteger(seconds) && seconds >= 1 && seconds <= 600, `${what}: Retry-After ${answer.retryAfter}`);
    };

    for (const endpoint of endpoints) {
      test(`a brute force of a client secret (${endpoint.name}) is refused from the guesser's address after CLIENT_AUTH_MAX_FAILURES_PER_CLIENT_AND_ADDRESS failures, even with the right secret; the right secret works from another address`, async () => {
        const attacker = freshAddress();
        const answers: Answer[] = [];
        for (let i = 0; i < maxPerClient + 3; i++) answers.push(await tryClient(endpoint, attacker, 'payments-service', wrongSecret()));
        assert.deepEqual(answers.map((a) => a.status), [...Array<number>(maxPerClient).fill(401), 429, 429, 429]);
        for (const answer of answers.slice(0, maxPerClient)) assert.equal(answer.body.error, 'invalid_client');
        for (const answer of answers.slice(maxPerClient)) assertThrottled(answer, 'a guess beyond the limit');
        assertThrottled(await tryClient(endpoint, attacker, 'payments-service', secret), 'the right secret from the guesser\'s address');
        const elsewhere = await tryClient(endpoint, freshAddress(), 'payments-service', secret);
        assert.equal(elsewhere.status, endpoint.ok, JSON.stringify(elsewhere.body));
      });
    }

    // Every spelling of the provider's client-authenticating routes (token, pushed authorization
    // requests): whichever the provider serves is counted like the route itself; the others never
    // reach a client authentication at all.
    const spellings = ['/auth/token', '/auth/TOKEN', '/auth/Token/', '/auth/token/?x=1', '/auth/token#frag', '/auth/tOkEn?grant_type=x', '/auth//token', '/auth/token//',
      '/auth/token%2F', '/auth/%74oken', '/auth/./token', '/auth/x/../token', '/auth/token/.', '/auth/token;x', '/auth/request', '/auth/REQUEST/', '/auth/Request?a=b'];
    for (const via of ['the gateway', 'the auth service directly'] as const) {
      test(`every spelling of the provider's token and PAR routes is throttled like the route, through ${via}: the spellings it serves count and are refused, the others never check a secret`, async () => {
        const base = via === 'the gateway' ? platform.gatewayUrl : platform.embedded!.services.auth.url;
        let served = 0;
        for (const path of spellings) {
          const attacker = freshAddress();
          const form = { grant_type: 'client_credentials', client_id: 'payments-service', client_secret: wrongSecret(), scope: 'users:read', resource: 'urn:paymesh:users' };
          const answers: Answer[] = [];
          for (let i = 0; i <= maxPerClient; i++) answers.push(await postFrom(attacker, path, { ...form, client_secret: wrongSecret() }, {}, base));
          const statuses = answers.map((a) => a.status);
          if (!statuses.includes(401)) {
            for (const status of statuses) assert.ok(status === 404 || status === 400, `${path}: ${statuses.join(',')}`);
            continue;
          }
          served++;
          assert.deepEqual(statuses, [...Array<number>(maxPerClient).fill(401), 429], path);
          // The route itself is refused to that address too: one count over every spelling.
          assertThrottled(await postFrom(attacker, '/auth/token', form, {}, base), `${path}, then /auth/token`);
        }
        assert.ok(served >= 8, `only ${served} spellings reached the provider`);
      });
    }

    test('20 wrong secrets sent at once from one address are all counted: exactly CLIENT_AUTH_MAX_FAILURES_PER_CLIENT_AND_ADDRESS are checked', async () => {
      const attacker = freshAddress();
      const answers = await Promise.all(Array.from({ length: 20 }, () => tryClient(endpoints[0], attacker, 'payments-service', wrongSecret())));
      assert.deepEqual(answers.map((a) => a.status).sort(), [...Array<number>(maxPerClient).fill(401), ...Array<number>(20 - maxPerClient).fill(429)]);
    });

    test('unknown client ids count like known ones: an address failing over many client ids is refused after CLIENT_AUTH_MAX_FAILURES_PER_IP, for every client', async () => {
      const attacker = freshAddress();
      for (let i = 0; i < maxPerIp; i++) {
        const answer = await tryClient(endpoints[i % endpoints.length]!, attacker, `nobody-${randomBytes(4).toString('hex')}`, wrongSecret());
        assert.equal(answer.status, 401, `attempt ${i}`);
        assert.equal(answer.body.error, 'invalid_client');
      }
      assertThrottled(await tryClient(endpoints[0], attacker, 'payments-service', secret), 'a known client with its right secret');
      assert.equal((await tryClient(endpoints[0], freshAddress(), 'payments-service', secret)).status, 200);
    });

    test('a request refused before any secret is checked neither counts nor clears the count', async () => {
      const attacker = freshAddress();
      for (let i = 0; i < maxPerClient - 1; i++) assert.equal((await tryClient(endpoints[0], attacker, 'payments-service', wrongSecret())).status, 401);
      for (let i = 0; i < 5; i++) {
        // Two ways of authenticating at once: oidc-provider refuses it (400) before looking at either.
        const twice = await postFrom(attacker, '/auth/token', { ...endpoints[0].form, client_id: 'payments-service', client_secret: wrongSecret() }, { authorization: basic('payments-service', wrongSecret()) });
        assert.equal(twice.status, 400);
        assert.equal(twice.body.error, 'invalid_request');
      }
      assert.equal((await tryClient(endpoints[0], attacker, 'payments-service', wrongSecret())).status, 401, `failure number ${maxPerClient}`);
      assertThrottled(await tryClient(endpoints[0], attacker, 'payments-service', secret), 'after the limit');
    });

    test('every failed client authentication is logged with the client id and the address, never the secret; the metrics count failures, refusals and logins by outcome', async () => {
      const attacker = freshAddress();
      const tried = [wrongSecret(), wrongSecret(), wrongSecret()];
      await tryClient(endpoints[0], attacker, 'payments-service', tried[0]!);
      await tryClient(endpoints[2], attacker, 'payments-service', tried[1]!);
      await tryClient(endpoints[3], attacker, 'payments-service', tried[2]!);
      const lines = platform.logs!('auth').split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);
      const failures = lines.filter((line) => line.msg === 'client authentication failed' && String(line.ip).endsWith(attacker));
      assert.deepEqual(failures.map((line) => [line.endpoint, line.clientId]).sort(), [['introspection', 'payments-service'], ['revocation', 'payments-service'], ['token', 'payments-service']]);
      for (const service of ['auth', 'users', 'payments', 'notifications'] as const) {
        const log = platform.logs!(service);
        for (const guess of [...tried, secret]) assert.ok(!log.includes(guess), `${service}'s log holds a secret`);
      }

      // A failed, a successful and a throttled password login.
      const user = await platform.api.signUp();
      const here = freshAddress();
      assert.deepEqual((await Promise.all([1, 2, 3].map(async (i) => (await postFrom(here, '/auth/login', { username: user.username, password: `wrong-${i}` })).status))).sort(), [401, 401, 429]);
      const metrics = await (await fetch(platform.embedded!.services.auth.metricsUrl)).text();
      /** The value of the series `name` whose labels include `labels`. */
      const value = (name: string, labels: Record<string, string>) => {
        const line = metrics.split('\n').find((l) => l.startsWith(`${name}{`) && Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)));
        return Number(line?.split(' ').at(-1));
      };
      for (const endpoint of ['token', 'introspection', 'revocation']) assert.ok(value('auth_client_auth_failures_total', { endpoint, outcome: 'failed' }) >= 1, endpoint);
      assert.ok(value('auth_client_auth_failures_total', { endpoint: 'token', outcome: 'throttled' }) >= 1);
      assert.ok(value('auth_login_attempts_total', { outcome: 'succeeded' }) >= 1);
      assert.ok(value('auth_login_attempts_total', { outcome: 'failed' }) >= 2);
      assert.ok(value('auth_login_attempts_total', { outcome: 'throttled' }) >= 1);
      // The third attempt found the account locked for that address: one lock of that scope.
      assert.ok(value('auth_login_lockouts_total', { scope: 'account_source' }) >= 1);
      // No user names in labels.
      assert.ok(!metrics.includes(user.username));
    });
  });
}
