// Password guessing at POST /auth/login, through the gateway: per-account and per-address limits,
// 429 with Retry-After, the lockout and its end, races, and no way to tell known from unknown
// usernames. Then the throttle's window arithmetic with a frozen clock, on the same database.
//
// Every test speaks from its own loopback address (Linux routes all of 127.0.0.0/8 to lo), so the
// per-address counts of one test never reach another, and the gateway's X-Forwarded-For is what
// the throttle sees.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { backends, startTestPlatform, type TestPlatform } from '@paymesh/launcher/testing';
import { queryRows, sql } from '@paymesh/platform/db/open-database';
import { accountKey, ipKey, LoginThrottle, type LoginThrottleLimits } from '../src/throttle/login-throttle.ts';

// Small limits so that the rules show in a few requests; startTestPlatform reads process.env.
const maxPerAccount = 3;
const maxPerIp = 8;
const lockoutSec = 3;
process.env.LOGIN_MAX_FAILURES_PER_ACCOUNT = String(maxPerAccount);
process.env.LOGIN_MAX_FAILURES_PER_IP = String(maxPerIp);
process.env.LOGIN_FAILURE_WINDOW_SECONDS = '600';
process.env.LOGIN_LOCKOUT_SECONDS = String(lockoutSec);

interface Attempt {
  readonly status: number;
  readonly body: any;
  readonly retryAfter: string | undefined;
}

const nobody = () => `nobody_${randomBytes(5).toString('hex')}`;
const statuses = (attempts: readonly Attempt[]) => attempts.map((a) => a.status).sort();

for (const backend of backends()) {
  describe(`login throttle (${backend})`, () => {
    let platform: TestPlatform;
    let lastOctet = 10;
    /** A loopback address no other test of this platform speaks from. */
    const freshAddress = () => `127.0.0.${++lastOctet}`;

    before(async () => {
      platform = await startTestPlatform(backend);
    });
    after(async () => {
      await platform?.stop();
    });

    /** POST /auth/login through the gateway, from `address`. */
    const loginFrom = (address: string, username: string, password: string) =>
      new Promise<Attempt>((resolve, reject) => {
        const payload = JSON.stringify({ username, password });
        const req = httpRequest(`${platform.gatewayUrl}/auth/login`, {
          method: 'POST',
          localAddress: address,
          agent: false,
          timeout: 15_000,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
        }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => {
            const retryAfter = res.headers['retry-after'];
            resolve({ status: res.statusCode!, body: JSON.parse(Buffer.concat(chunks).toString('utf8')), retryAfter });
          });
          res.on('error', reject);
        });
        req.on('timeout', () => req.destroy(new Error('login request timed out')));
        req.on('error', reject);
        req.end(payload);
      });

    const assertTooManyAttempts = (attempt: Attempt, what: string) => {
      assert.equal(attempt.status, 429, what);
      assert.equal(attempt.body.error.type, 'rate_limit_error', what);
      assert.equal(attempt.body.error.code, 'too_many_attempts', what);
      assert.ok(!('token' in attempt.body), what);
      assert.match(attempt.retryAfter ?? '', /^\d+$/, what);
      const seconds = Number(attempt.retryAfter);
      assert.ok(seconds >= 1 && seconds <= lockoutSec, `${what}: Retry-After ${seconds}`);
    };

    describe('per account', () => {
      test('after LOGIN_MAX_FAILURES_PER_ACCOUNT failures the next attempt is refused with 429 and Retry-After, even with the right password and from another address', async () => {
        const alice = await platform.api.signUp();
        const here = freshAddress();
        // Any case of the username is the same account.
        for (const username of [alice.username, alice.username.toUpperCase(), alice.username]) {
          assert.equal((await loginFrom(here, username, 'wrong-password')).status, 401);
        }
        assertTooManyAttempts(await loginFrom(here, alice.username, alice.password), 'right password, same address');
        assertTooManyAttempts(await loginFrom(freshAddress(), alice.username, alice.password), 'right password, another address');
        // Only that account: another one logs in from the same address.
        const bob = await platform.api.signUp();
        assert.equal((await loginFrom(here, bob.username, bob.password)).status, 200);
      });

      test('an unknown username gets exactly the same statuses, bodies and Retry-After at each step as a known one', async () => {
        const alice = await platform.api.signUp();
        const ghost = nobody();
        // The known account: three wrong passwords, then its right password twice.
        const passwords = ['wrong-1', 'wrong-2', 'wrong-3', alice.password, alice.password];
        const known: Attempt[] = [];
        const unknown: Attempt[] = [];
        const [knownAddress, unknownAddress] = [freshAddress(), freshAddress()];
        for (const password of passwords) {
          known.push(await loginFrom(knownAddress, alice.username, password));
          unknown.push(await loginFrom(unknownAddress, ghost, password));
        }
        assert.deepEqual(known.map((a) => a.status), [401, 401, 401, 429, 429]);
        for (const [step, attempt] of known.entries()) {
          const other = unknown[step]!;
          assert.equal(other.status, attempt.status, `step ${step}`);
          assert.deepEqual(other.body, attempt.body, `step ${step}`);
          assert.equal(other.retryAfter === undefined, attempt.retryAfter === undefined, `step ${step}`);
          if (attempt.retryAfter !== undefined) assert.ok(Math.abs(Number(other.retryAfter) - Number(attempt.retryAfter)) <= 1, `step ${step}: Retry-After`);
        }
        assertTooManyAttempts(known[3]!, 'known');
        assertTooManyAttempts(unknown[3]!, 'unknown');
      });

      test('a successful login before the limit resets the account count', async () => {
        const alice = await platform.api.signUp();
        const here = freshAddress();
        const sequence = ['wrong-1', 'wrong-2', alice.password, 'wrong-3', 'wrong-4', 'wrong-5'];
        const seen: number[] = [];
        for (const password of sequence) seen.push((await loginFrom(here, alice.username, password)).status);
        assert.deepEqual(seen, [401, 401, 200, 401, 401, 401]);
        assertTooManyAttempts(await loginFrom(here, alice.username, alice.password), 'after three failures since the success');
      });

      test('20 wrong passwords sent at once are all counted: exactly LOGIN_MAX_FAILURES_PER_ACCOUNT reach the password check, the rest get 429', async () => {
        const alice = await platform.api.signUp();
        const here = freshAddress();
        const attempts = await Promise.all(Array.from({ length: 20 }, (_, i) => loginFrom(here, alice.username, `wrong-${i}`)));
        assert.deepEqual(statuses(attempts), [...Array<number>(maxPerAccount).fill(401), ...Array<number>(20 - maxPerAccount).fill(429)]);
        assertTooManyAttempts(await loginFrom(here, alice.username, alice.password), 'right password after the burst');
      });

      test('the lockout ends after LOGIN_LOCKOUT_SECONDS: the right password works again', async () => {
        const alice = await platform.api.signUp();
        const here = freshAddress();
        for (let i = 0; i < maxPerAccount; i++) assert.equal((await loginFrom(here, alice.username, `wrong-${i}`)).status, 401);
        const refused = await loginFrom(here, alice.username, alice.password);
        assertTooManyAttempts(refused, 'locked');
        await sleep(Number(refused.retryAfter) * 1000 + 100);
        assert.equal((await loginFrom(here, alice.username, alice.password)).status, 200);
      });

      test('a request refused as invalid (400) is not an attempt; an over-long password is a wrong one (401) and counts', async () => {
        const alice = await platform.api.signUp();
        for (let i = 0; i < maxPerAccount + 2; i++) {
          assert.equal((await platform.api.call('POST', '/auth/login', { json: { username: alice.username } })).status, 400);
        }
        const here = freshAddress();
        assert.equal((await loginFrom(here, alice.username, alice.password)).status, 200);
        for (let i = 0; i < maxPerAccount; i++) assert.equal((await loginFrom(here, alice.username, 'x'.repeat(1025))).status, 401);
        assertTooManyAttempts(await loginFrom(here, alice.username, alice.password), 'after over-long passwords');
      });
    });

    describe('per address', () => {
      test('after LOGIN_MAX_FAILURES_PER_IP failures over many usernames, that address is refused for every username, other addresses are not', async () => {
        const alice = await platform.api.signUp();
        const here = freshAddress();
        for (let i = 0; i < maxPerIp; i++) assert.equal((await loginFrom(here, nobody(), 'wrong-password')).status, 401, `attempt ${i}`);
        assertTooManyAttempts(await loginFrom(here, nobody(), 'wrong-password'), 'another unknown username');
        assertTooManyAttempts(await loginFrom(here, alice.username, alice.password), 'a right password');
        assert.equal((await loginFrom(freshAddress(), alice.username, alice.password)).status, 200);
      });

      test('20 failures at once over 20 usernames are all counted: exactly LOGIN_MAX_FAILURES_PER_IP reach the password check', async () => {
        const here = freshAddress();
        const attempts = await Promise.all(Array.from({ length: 20 }, () => loginFrom(here, nobody(), 'wrong-password')));
        assert.deepEqual(statuses(attempts), [...Array<number>(maxPerIp).fill(401), ...Array<number>(20 - maxPerIp).fill(429)]);
      });

      test("successful logins do not count for the address, and do not reset its failures", async () => {
        const alice = await platform.api.signUp();
        const here = freshAddress();
        for (let i = 0; i < 3; i++) assert.equal((await loginFrom(here, alice.username, alice.password)).status, 200);
        for (let i = 0; i < maxPerIp - 1; i++) assert.equal((await loginFrom(here, nobody(), 'wrong-password')).status, 401);
        assert.equal((await loginFrom(here, alice.username, alice.password)).status, 200);
        assert.equal((await loginFrom(here, nobody(), 'wrong-password')).status, 401, `failure number ${maxPerIp}`);
        assertTooManyAttempts(await loginFrom(here, alice.username, alice.password), 'over the address limit');
      });
    });

    describe('the counts, with a frozen clock', () => {
      const limits: LoginThrottleLimits = { maxFailuresPerAccount: 2, maxFailuresPerIp: 4, windowSec: 60, lockoutSec: 30 };
      let nowMs = Date.parse('2031-01-01T00:00:00Z');
      const throttle = () => new LoginThrottle(platform.embedded!.services.auth.runtime.database.db, limits, { now: () => new Date(nowMs) });
      const wrong = async () => undefined;
      const right = async () => 'user';
      const testAddress = (() => {
        let n = 0;
        return () => `198.51.100.${++n}`;
      })();

      test('a count older than LOGIN_FAILURE_WINDOW_SECONDS starts again', async () => {
        const t = throttle();
        const [early, late] = [nobody(), nobody()];
        for (const login of [early, late]) for (let i = 0; i < 2; i++) assert.equal((await t.attempt(login, testAddress(), wrong)).status, 'failed');
        nowMs += 59_000;
        assert.deepEqual(await t.attempt(early, testAddress(), wrong), { status: 'refused', retryAfterSec: 30 });
        nowMs += 1_000;
        assert.equal((await t.attempt(late, testAddress(), wrong)).status, 'failed');
      });

      test('the lockout lasts LOGIN_LOCKOUT_SECONDS, Retry-After counts down, and the count starts afresh after it', async () => {
        const t = throttle();
        const login = nobody();
        const ip = testAddress();
        for (let i = 0; i < 2; i++) await t.attempt(login, ip, wrong);
        assert.deepEqual(await t.attempt(login, ip, right), { status: 'refused', retryAfterSec: 30 });
        nowMs += 10_500;
        assert.deepEqual(await t.attempt(login, ip, right), { status: 'refused', retryAfterSec: 20 });
        nowMs += 19_500;
        for (let i = 0; i < 2; i++) assert.equal((await t.attempt(login, ip, wrong)).status, 'failed');
        assert.equal((await t.attempt(login, ip, right)).status, 'refused');
      });

      test('a refused attempt counts nowhere: a locked address cannot lock accounts', async () => {
        const t = throttle();
        const ip = testAddress();
        for (let i = 0; i < 4; i++) await t.attempt(nobody(), ip, wrong);
        const victim = nobody();
        for (let i = 0; i < 5; i++) assert.equal((await t.attempt(victim, ip, wrong)).status, 'refused');
        assert.deepEqual(await t.attempt(victim, testAddress(), right), { status: 'succeeded', value: 'user' });
      });

      test('a check that cannot be made (users unreachable) counts for nobody', async () => {
        const t = throttle();
        const login = nobody();
        const ip = testAddress();
        const unreachable = async () => {
          throw new Error('users unreachable');
        };
        for (let i = 0; i < 5; i++) await assert.rejects(t.attempt(login, ip, unreachable), /users unreachable/);
        for (let i = 0; i < 2; i++) assert.equal((await t.attempt(login, ip, wrong)).status, 'failed');
        assert.equal((await t.attempt(login, ip, wrong)).status, 'refused');
      });

      test('the keys: any case of a login is one account; an IPv6 /64 is one address, an IPv4-mapped address is the IPv4 one', () => {
        assert.equal(accountKey('Alice@Example.com'), accountKey('alice@example.com'));
        assert.notEqual(accountKey('alice'), accountKey('alice2'));
        assert.ok(!accountKey('alice').includes('alice'));
        assert.equal(ipKey('2001:db8:1:2::1'), ipKey('2001:0db8:0001:0002:ffff:ffff:ffff:ffff'));
        assert.equal(ipKey('2001:db8:1:2::1'), 'ip:2001:db8:1:2::/64');
        assert.notEqual(ipKey('2001:db8:1:2::1'), ipKey('2001:db8:1:3::1'));
        assert.equal(ipKey('::1'), 'ip:0:0:0:0::/64');
        assert.equal(ipKey('fe80::1%eth0'), 'ip:fe80:0:0:0::/64');
        assert.equal(ipKey('::ffff:203.0.113.5'), ipKey('203.0.113.5'));
        assert.notEqual(ipKey('203.0.113.5'), ipKey('203.0.113.6'));
      });

      test('deleteExpired forgets counts whose window and lockout are both over, and only those', async () => {
        const t = throttle();
        const { db } = platform.embedded!.services.auth.runtime.database;
        const [old, locked, fresh] = [nobody(), nobody(), nobody()];
        const stored = async () => (await queryRows<{ key: string }>(db,
          sql`select key from login_failures where key in (${accountKey(old)}, ${accountKey(locked)}, ${accountKey(fresh)})`)).map((row) => row.key).sort();
        await t.attempt(old, testAddress(), wrong);
        // Locked for 30 s by its third attempt.
        for (let i = 0; i < 3; i++) await t.attempt(locked, testAddress(), wrong);
        nowMs += 59_000;
        await t.attempt(fresh, testAddress(), wrong);
        await t.deleteExpired();
        assert.deepEqual(await stored(), [accountKey(old), accountKey(locked), accountKey(fresh)].sort());
        nowMs += 1_000;
        await t.deleteExpired();
        assert.deepEqual(await stored(), [accountKey(fresh)]);
      });
    });
  });
}
