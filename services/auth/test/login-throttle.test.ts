// Password guessing at POST /auth/login and the login page, through the gateway (ADR 9): an
// account is locked for the guesser's address alone, guesses from many addresses are slowed down
// account-wide (never locked), the owner's known addresses and devices still get in, addresses
// are limited over every account, and nothing tells known from unknown usernames. Then the
// throttle's arithmetic with a frozen clock, on the same database.
//
// Every test speaks from its own loopback addresses (Linux routes all of 127.0.0.0/8 to lo), so
// the per-address counts of one test never reach another, and the gateway's X-Forwarded-For is
// what the throttle sees. The account-wide delay starts at 300 s here, so no request of a test can
// outlast it: what is refused for it is refused whatever the machine's speed.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { adminPassword, backends, startTestPlatform, type TestPlatform, type TestEnv } from '@paymesh/app/testing';
import { SkewedClock } from '@paymesh/platform/testing/skewed-clock';
import { queryRows, sql } from '@paymesh/platform/db/open-database';
import { accountKey, ipKey, LoginThrottle, type LoginThrottleLimits } from '../src/throttle/login-throttle.ts';
import { HttpBrowser, formOn } from '@paymesh/app/testing/http-browser';

// Small limits so that the rules show in a few requests, given to startTestPlatform.
const maxPerPair = 3;
const maxPerIp = 8;
const lockoutSec = 3;
const freeFailures = 4;
const firstDelaySec = 300;
const maxDelaySec = 600;
const webRedirect = 'http://localhost:5173/callback';
const env: TestEnv = {
  LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS: String(maxPerPair),
  LOGIN_MAX_FAILURES_PER_IP: String(maxPerIp),
  LOGIN_FAILURE_WINDOW_SECONDS: '600',
  LOGIN_LOCKOUT_SECONDS: String(lockoutSec),
  LOGIN_ACCOUNT_FREE_FAILURES: String(freeFailures),
  LOGIN_ACCOUNT_FIRST_DELAY_SECONDS: String(firstDelaySec),
  LOGIN_ACCOUNT_MAX_DELAY_SECONDS: String(maxDelaySec),
  // A first-party browser app, for the login page.
  OAUTH_CLIENTS: JSON.stringify([{ client_id: 'first-party-spa', token_endpoint_auth_method: 'none', redirect_uris: [webRedirect], grant_types: ['authorization_code'], response_types: ['code'], scope: 'openid' }]),
  FIRST_PARTY_CLIENTS: 'first-party-spa',
};

interface Attempt {
  readonly status: number;
  readonly body: any;
  readonly retryAfter: string | undefined;
  /** The device cookie the response set (`name=value`), if any. */
  readonly deviceCookie: string | undefined;
}

const nobody = () => `nobody_${randomBytes(5).toString('hex')}`;
const hex = () => randomBytes(4).toString('hex');
const statuses = (attempts: readonly Attempt[]) => attempts.map((a) => a.status).sort();
/** Half-width ASCII to its full-width form (what CJK input methods type by default). */
const fullWidth = (text: string) => text.replace(/[!-~]/g, (c) => String.fromCodePoint(c.codePointAt(0)! + 0xfee0));

/**
 * The most guesses at one account from unknown sources that the schedule lets through in
 * `elapsedSec`, after its free failures: one more each time the delay earned so far has passed.
 */
const checkedAtMost = (elapsedSec: number, limits: { free: number; first: number; max: number }) => {
  let extra = 0;
  for (let waited = 0; ; extra++) {
    waited += Math.min(limits.max, limits.first * 2 ** extra);
    if (waited > elapsedSec) return limits.free + extra;
  }
};

for (const backend of backends()) {
  describe(`login throttle (${backend})`, () => {
    let platform: TestPlatform;
    // Lockouts end on the services' clock: the test moves it instead of waiting.
    const clock = new SkewedClock();
    let lastOctet = 10;
    /** A loopback address no other test of this platform speaks from. */
    const freshAddress = () => `127.0.0.${++lastOctet}`;

    before(async () => {
      platform = await startTestPlatform(backend, { env, clock });
    });
    after(async () => {
      await platform?.stop();
    });

    /** POST /auth/login through the gateway, from `address`, with a Cookie header if given. */
    const loginFrom = (address: string, username: string, password: string, cookie?: string) =>
      new Promise<Attempt>((resolve, reject) => {
        const payload = JSON.stringify({ username, password });
        const req = httpRequest(`${platform.gatewayUrl}/auth/login`, {
          method: 'POST',
          localAddress: address,
          agent: false,
          timeout: 15_000,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), ...(cookie === undefined ? {} : { cookie }) },
        }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => {
            const retryAfter = res.headers['retry-after'];
            const deviceCookie = res.headers['set-cookie']?.find((c) => c.startsWith('paymesh_device='))?.split(';')[0];
            resolve({ status: res.statusCode!, body: JSON.parse(Buffer.concat(chunks).toString('utf8')), retryAfter, deviceCookie });
          });
          res.on('error', reject);
        });
        req.on('timeout', () => req.destroy(new Error('login request timed out')));
        req.on('error', reject);
        req.end(payload);
      });

    const assertTooManyAttempts = (attempt: Attempt, what: string, longestSec = lockoutSec) => {
      assert.equal(attempt.status, 429, what);
      assert.equal(attempt.body.error.type, 'rate_limit_error', what);
      assert.equal(attempt.body.error.code, 'too_many_attempts', what);
      assert.ok(!('token' in attempt.body), what);
      assert.match(attempt.retryAfter ?? '', /^\d+$/, what);
      const seconds = Number(attempt.retryAfter);
      assert.ok(seconds >= 1 && seconds <= longestSec, `${what}: Retry-After ${seconds}`);
    };

    /** An account registered without signing in anywhere yet (so it knows no address or device). */
    const registerOnly = async (tag = hex()) => {
      const account = { username: `acct_${tag}`, email: `acct_${tag}@example.com`, password: `pw-${randomBytes(8).toString('hex')}` };
      assert.equal((await platform.api.call('POST', '/users', { json: account })).status, 202);
      return account;
    };

    describe('one account from one address', () => {
      for (const who of ['a user', 'the admin'] as const) {
        test(`wrong passwords lock ${who}'s account for the guesser's address alone: the right password is refused there, and signs in from another address`, async () => {
          const owner = who === 'the admin' ? { username: 'admin', password: adminPassword } : await registerOnly();
          const attacker = freshAddress();
          const guesses: Attempt[] = [];
          for (let i = 0; i < 12; i++) guesses.push(await loginFrom(attacker, owner.username, `wrong-${i}`));
          assert.deepEqual(guesses.map((a) => a.status), [...Array<number>(maxPerPair).fill(401), ...Array<number>(12 - maxPerPair).fill(429)]);
          assertTooManyAttempts(await loginFrom(attacker, owner.username, owner.password), 'right password, the guesser\'s address');
          assert.equal((await loginFrom(freshAddress(), owner.username, owner.password)).status, 200, 'right password, another address');
          // Another account from the guesser's address is not locked either.
          const bob = await platform.api.signUp();
          assert.equal((await loginFrom(attacker, bob.username, bob.password)).status, 200);
        });
      }

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

      test('every spelling of a locked account\'s name is the same account for the throttle; spellings of other names never sign in', async () => {
        const tag = hex();
        const account = { username: `kit_${tag}`, email: `élodie.${tag}@example.com`, password: `pw-${randomBytes(8).toString('hex')}` };
        assert.equal((await platform.api.call('POST', '/users', { json: account })).status, 202);
        // The username and the email are two names (two counts: docs/security.md); each is locked
        // for its guesser's address.
        const [attacker, emailAttacker] = [freshAddress(), freshAddress()];
        for (let i = 0; i < maxPerPair; i++) assert.equal((await loginFrom(attacker, account.username, `wrong-${i}`)).status, 401);
        for (let i = 0; i < maxPerPair; i++) assert.equal((await loginFrom(emailAttacker, account.email, `wrong-${i}`)).status, 401);
        for (const spelling of [
          account.username.toUpperCase(),
          fullWidth(account.username),
          // KELVIN SIGN: not NFC, so never a sign-in; still this account's count.
          `\u212Ait_${tag}`,
        ]) {
          assertTooManyAttempts(await loginFrom(attacker, spelling, account.password), JSON.stringify(spelling));
        }
        for (const spelling of [account.email.toUpperCase(), account.email.normalize('NFD'), account.email.replace('@', '＠'), `e\u0301lodie.${tag}@EXAMPLE.COM`]) {
          assertTooManyAttempts(await loginFrom(emailAttacker, spelling, account.password), JSON.stringify(spelling));
        }
        // Spellings with another login key are other names: not locked here, and no sign-in anywhere.
        const elsewhere = freshAddress();
        for (const spelling of [`k\u0130t_${tag}`, `k\u0131t_${tag}`, `${account.username} `, `${account.username}.`]) {
          assert.equal((await loginFrom(attacker, spelling, account.password)).status, 401, JSON.stringify(spelling));
          assert.equal((await loginFrom(elsewhere, spelling, account.password)).status, 401, JSON.stringify(spelling));
        }
      });

      test('a successful login before the limit resets the count of that account from that address', async () => {
        const alice = await platform.api.signUp();
        const here = freshAddress();
        const sequence = ['wrong-1', 'wrong-2', alice.password, 'wrong-3', 'wrong-4', 'wrong-5'];
        const seen: number[] = [];
        for (const password of sequence) seen.push((await loginFrom(here, alice.username, password)).status);
        assert.deepEqual(seen, [401, 401, 200, 401, 401, 401]);
        assertTooManyAttempts(await loginFrom(here, alice.username, alice.password), 'after three failures since the success');
      });

      test('20 wrong passwords sent at once from one address are all counted: exactly LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS reach the password check', async () => {
        const alice = await platform.api.signUp();
        const here = freshAddress();
        const attempts = await Promise.all(Array.from({ length: 20 }, (_, i) => loginFrom(here, alice.username, `wrong-${i}`)));
        assert.deepEqual(statuses(attempts), [...Array<number>(maxPerPair).fill(401), ...Array<number>(20 - maxPerPair).fill(429)]);
        assertTooManyAttempts(await loginFrom(here, alice.username, alice.password), 'right password after the burst');
      });

      test('the lockout ends after LOGIN_LOCKOUT_SECONDS: the right password works again from that address', async () => {
        const alice = await platform.api.signUp();
        const here = freshAddress();
        for (let i = 0; i < maxPerPair; i++) assert.equal((await loginFrom(here, alice.username, `wrong-${i}`)).status, 401);
        const refused = await loginFrom(here, alice.username, alice.password);
        assertTooManyAttempts(refused, 'locked');
        clock.advance(Number(refused.retryAfter) * 1000 + 100);
        assert.equal((await loginFrom(here, alice.username, alice.password)).status, 200);
      });

      test('a request refused as invalid (400) is not an attempt; an over-long password is a wrong one (401) and counts', async () => {
        const alice = await platform.api.signUp();
        for (let i = 0; i < maxPerPair + 2; i++) {
          assert.equal((await platform.api.call('POST', '/auth/login', { json: { username: alice.username } })).status, 400);
        }
        const here = freshAddress();
        assert.equal((await loginFrom(here, alice.username, alice.password)).status, 200);
        for (let i = 0; i < maxPerPair; i++) assert.equal((await loginFrom(here, alice.username, 'x'.repeat(1025))).status, 401);
        assertTooManyAttempts(await loginFrom(here, alice.username, alice.password), 'after over-long passwords');
      });
    });

    describe('one account from many addresses', () => {
      for (const who of ['a user', 'the admin'] as const) {
        test(`guesses at ${who}'s account from many addresses are slowed down, never locked: the guesses checked are bounded, unknown addresses wait, the owner's known address and device sign in`, async () => {
          const owner = who === 'the admin' ? { username: 'admin', password: adminPassword } : await registerOnly();
          // The owner signs in once from home: that address and that device (its cookie) are known.
          const home = freshAddress();
          const first = await loginFrom(home, owner.username, owner.password);
          assert.equal(first.status, 200);
          assert.ok(first.deviceCookie !== undefined, 'a device cookie is set on sign-in');

          const startedMs = Date.now();
          const guesses = await Promise.all(Array.from({ length: 20 }, (_, i) => loginFrom(freshAddress(), owner.username, `wrong-${i}`)));
          const elapsedSec = (Date.now() - startedMs) / 1000;
          // Counted, not timed: how many guesses reached the password check.
          const checked = guesses.filter((a) => a.status === 401).length;
          const bound = checkedAtMost(elapsedSec, { free: freeFailures, first: firstDelaySec, max: maxDelaySec });
          assert.ok(checked <= bound, `${checked} guesses checked in ${elapsedSec} s; at most ${bound}`);
          // The admin's account carries the guesses of the test before (they count account-wide too).
          if (who === 'a user') assert.ok(checked >= freeFailures, `${checked} guesses checked`);
          for (const refused of guesses.filter((a) => a.status !== 401)) assertTooManyAttempts(refused, 'a guess beyond the free ones', maxDelaySec);

          // The right password from an address the account does not know waits too ...
          assertTooManyAttempts(await loginFrom(freshAddress(), owner.username, owner.password), 'the owner from an unknown address', maxDelaySec);
          // ... while the owner's known address, and their device from anywhere, sign in.
          assert.equal((await loginFrom(home, owner.username, owner.password)).status, 200, 'the known address');
          assert.equal((await loginFrom(freshAddress(), owner.username, owner.password, first.deviceCookie)).status, 200, 'the known device');
          // A device cookie that is not ours, or another account's, is no known device.
          const [name, value] = first.deviceCookie!.split('=') as [string, string];
          const forged = `${name}=${value.slice(0, 22)}.${createHash('sha256').update('guess').digest('base64url')}`;
          assertTooManyAttempts(await loginFrom(freshAddress(), owner.username, owner.password, forged), 'a forged device cookie', maxDelaySec);
          const stranger = await registerOnly();
          const strangerDevice = (await loginFrom(freshAddress(), stranger.username, stranger.password)).deviceCookie;
          assertTooManyAttempts(await loginFrom(freshAddress(), owner.username, owner.password, strangerDevice), 'another account\'s device', maxDelaySec);
        });
      }

      test('the login page sets an HttpOnly device cookie; a browser holding it signs in while the account is slowed down and its address is locked for the account', async () => {
        const owner = await registerOnly();
        const shared = freshAddress();
        const signIn = async (browser: HttpBrowser) => {
          const verifier = randomBytes(32).toString('base64url');
          const challenge = createHash('sha256').update(verifier).digest('base64url');
          const authorize = `http://localhost:${new URL(platform.gatewayUrl).port}/auth/authorize?${new URLSearchParams({
            client_id: 'first-party-spa', response_type: 'code', redirect_uri: webRedirect, scope: 'openid', prompt: 'login',
            code_challenge: challenge, code_challenge_method: 'S256', state: hex(),
          })}`;
          const page = await browser.follow(authorize, webRedirect);
          assert.equal(page.status, 200, page.text.slice(0, 300));
          const { action, csrf } = formOn(page.text);
          return browser.request(new URL(action, authorize), { method: 'POST', form: { csrf, username: owner.username, password: owner.password } });
        };
        const owners = new HttpBrowser({ localAddress: shared });
        const first = await signIn(owners);
        assert.equal(first.status, 303, first.text.slice(0, 300));
        const set = first.headers.getSetCookie().find((cookie) => cookie.startsWith('paymesh_device='));
        assert.ok(set !== undefined, 'the login page sets the device cookie');
        assert.match(set, /; HttpOnly/i);
        assert.match(set, /; SameSite=Lax/i);
        assert.match(set, /; Path=\/auth(;|$)/);

        // Someone behind the same address guesses until the account is locked for that address, and
        // from many others until it is slowed down.
        for (let i = 0; i < maxPerPair; i++) assert.equal((await loginFrom(shared, owner.username, `wrong-${i}`)).status, 401);
        assertTooManyAttempts(await loginFrom(shared, owner.username, owner.password), 'the shared address');
        for (let i = 0; i < freeFailures; i++) await loginFrom(freshAddress(), owner.username, `wrong-${i}`);
        assertTooManyAttempts(await loginFrom(freshAddress(), owner.username, owner.password), 'an unknown address', maxDelaySec);

        const again = await signIn(owners);
        assert.equal(again.status, 303, 'the owner\'s browser');
        const stranger = await signIn(new HttpBrowser({ localAddress: shared }));
        assert.equal(stranger.status, 429, 'a browser without the cookie, at the same address');
        assert.ok(Number(stranger.headers.get('retry-after')) > 0);
      });
    });

    describe('per address', () => {
      test('a device the account signed in from is not held by its address\'s lock: the owner gets in while a sprayer behind the same address is refused; the device is known to that account only, and its own failures still lock it', async () => {
        const owner = await platform.api.signUp();
        const other = await platform.api.signUp();
        const shared = freshAddress();
        const first = await loginFrom(shared, owner.username, owner.password);
        assert.equal(first.status, 200);
        const device = first.deviceCookie;
        assert.ok(device !== undefined, 'POST /auth/login sets the device cookie');
        for (let i = 0; i < maxPerIp; i++) assert.equal((await loginFrom(shared, nobody(), 'wrong-password')).status, 401, `spray ${i}`);
        assertTooManyAttempts(await loginFrom(shared, nobody(), 'wrong-password'), 'the sprayer');
        assertTooManyAttempts(await loginFrom(shared, owner.username, owner.password), 'the owner without the device cookie');
        assert.equal((await loginFrom(shared, owner.username, owner.password, device)).status, 200, 'the owner on the known device');
        assertTooManyAttempts(await loginFrom(shared, other.username, other.password, device), 'another account with that device cookie');
        assertTooManyAttempts(await loginFrom(shared, nobody(), 'wrong-password', device), 'an unknown name with that device cookie');
        // Whoever holds the cookie gets the device's own few guesses, not unlimited ones.
        for (let i = 0; i < maxPerPair; i++) assert.equal((await loginFrom(shared, owner.username, `wrong-${i}`, device)).status, 401, `guess ${i} from the device`);
        assertTooManyAttempts(await loginFrom(shared, owner.username, owner.password, device), 'the device after its own failures');
        assert.equal((await loginFrom(freshAddress(), owner.username, owner.password)).status, 200, 'the owner from elsewhere');
      });


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
      const limits: LoginThrottleLimits = {
        maxFailuresPerAccountAndSource: 2, maxFailuresPerIp: 4, windowSec: 60, lockoutSec: 30,
        accountFreeFailures: 3, accountFirstDelaySec: 10, accountMaxDelaySec: 40, knownSourceTtlSec: 3600,
      };
      let nowMs = Date.parse('2031-01-01T00:00:00Z');
      const throttle = (overrides: Partial<LoginThrottleLimits> = {}) =>
        new LoginThrottle(platform.embedded!.services.auth.runtime.database.db, { ...limits, ...overrides }, { now: () => new Date(nowMs) });
      /** For the counts that lock: the account-wide delay out of the way. */
      const withoutDelays = { accountFreeFailures: 100 };
      const wrong = async () => undefined;
      const right = async () => 'user';
      const testAddress = (() => {
        let n = 0;
        return () => `198.51.100.${++n}`;
      })();
      const from = (ip = testAddress(), device?: string) => ({ ip, device });

      test('a count older than LOGIN_FAILURE_WINDOW_SECONDS starts again', async () => {
        const t = throttle(withoutDelays);
        const [early, late] = [nobody(), nobody()];
        const [earlyIp, lateIp] = [testAddress(), testAddress()];
        for (let i = 0; i < 2; i++) assert.equal((await t.attempt(early, from(earlyIp), wrong)).status, 'failed');
        for (let i = 0; i < 2; i++) assert.equal((await t.attempt(late, from(lateIp), wrong)).status, 'failed');
        nowMs += 59_000;
        assert.deepEqual(await t.attempt(early, from(earlyIp), wrong), { status: 'refused', retryAfterSec: 30 });
        nowMs += 1_000;
        assert.equal((await t.attempt(late, from(lateIp), wrong)).status, 'failed');
      });

      test('the lockout lasts LOGIN_LOCKOUT_SECONDS, Retry-After counts down, and the count starts afresh after it', async () => {
        const t = throttle(withoutDelays);
        const login = nobody();
        const ip = testAddress();
        for (let i = 0; i < 2; i++) await t.attempt(login, from(ip), wrong);
        assert.deepEqual(await t.attempt(login, from(ip), right), { status: 'refused', retryAfterSec: 30 });
        nowMs += 10_500;
        assert.deepEqual(await t.attempt(login, from(ip), right), { status: 'refused', retryAfterSec: 20 });
        nowMs += 19_500;
        for (let i = 0; i < 2; i++) assert.equal((await t.attempt(login, from(ip), wrong)).status, 'failed');
        assert.equal((await t.attempt(login, from(ip), right)).status, 'refused');
      });

      test('the account-wide delay: LOGIN_ACCOUNT_FREE_FAILURES guesses from unknown sources pass, then each waits the first delay, doubling up to the maximum; Retry-After counts down', async () => {
        const t = throttle();
        const login = nobody();
        for (let i = 0; i < 3; i++) assert.equal((await t.attempt(login, from(), wrong)).status, 'failed', `free failure ${i + 1}`);
        for (const delaySec of [10, 20, 40, 40, 40]) {
          assert.deepEqual(await t.attempt(login, from(), right), { status: 'refused', retryAfterSec: delaySec });
          nowMs += (delaySec - 1) * 1000;
          assert.deepEqual(await t.attempt(login, from(), right), { status: 'refused', retryAfterSec: 1 });
          nowMs += 1000;
          assert.equal((await t.attempt(login, from(), wrong)).status, 'failed', `after ${delaySec} s`);
        }
      });

      test('before the account-wide delays begin, no attempt waits, even one whose clock reads earlier than the last failure (parallel attempts, replicas a little apart)', async () => {
        const t = throttle();
        const login = nobody();
        assert.equal((await t.attempt(login, from(), wrong)).status, 'failed');
        nowMs -= 1_000;
        assert.equal((await t.attempt(login, from(), wrong)).status, 'failed', 'second free failure, stamped before the first');
        nowMs += 1_000;
        assert.equal((await t.attempt(login, from(), wrong)).status, 'failed', 'third free failure');
        assert.equal((await t.attempt(login, from(), right)).status, 'refused', 'the delay begins');
      });

      test('the account\'s count starts again only after its delay and a quiet time no shorter than its free failures at the longest delay', async () => {
        const t = throttle();
        const login = nobody();
        for (let i = 0; i < 3; i++) assert.equal((await t.attempt(login, from(), wrong)).status, 'failed');
        // The delay (10 s) is over; the quiet time after it (3 × 40 s, longer than the 60 s window) is not: the count goes on.
        nowMs += 10_000 + 119_000;
        assert.equal((await t.attempt(login, from(), wrong)).status, 'failed');
        assert.equal((await t.attempt(login, from(), wrong)).status, 'refused', 'the fourth failure earned 20 s');
        nowMs += 20_000 + 120_000;
        for (let i = 0; i < 3; i++) assert.equal((await t.attempt(login, from(), wrong)).status, 'failed', `free again ${i + 1}`);
        assert.equal((await t.attempt(login, from(), wrong)).status, 'refused');
      });

      test('an address or device that signed in is not delayed; one whose count locks is known no more', async () => {
        const t = throttle();
        const login = nobody();
        const home = testAddress();
        const signedIn = await t.attempt(login, from(home), right);
        assert.equal(signedIn.status, 'succeeded');
        const device = signedIn.status === 'succeeded' ? signedIn.device : '';
        for (let i = 0; i < 3; i++) await t.attempt(login, from(), wrong);
        assert.equal((await t.attempt(login, from(), right)).status, 'refused', 'an unknown source waits');
        assert.equal((await t.attempt(login, from(home), right)).status, 'succeeded', 'the known address');
        assert.equal((await t.attempt(login, from(testAddress(), device), right)).status, 'succeeded', 'the known device elsewhere');
        // The known address fails until its own count locks: afterwards it is an unknown source.
        for (let i = 0; i < 2; i++) assert.equal((await t.attempt(login, from(home), wrong)).status, 'failed');
        assert.equal((await t.attempt(login, from(home), right)).status, 'refused');
        // Once the lock is over, the address counts account-wide like any unknown source.
        nowMs += 30_000;
        assert.equal((await t.attempt(login, from(home), wrong)).status, 'failed');
        assert.equal((await t.attempt(login, from(home), right)).status, 'refused', 'held by the account-wide delay');
        assert.equal((await t.attempt(login, from(testAddress(), device), right)).status, 'succeeded', 'the device is still known');
      });

      test('a refused attempt counts nowhere: a locked address cannot lock or slow down accounts', async () => {
        const t = throttle({ accountFreeFailures: 1 });
        const ip = testAddress();
        for (let i = 0; i < 4; i++) await t.attempt(nobody(), from(ip), wrong);
        const victim = nobody();
        for (let i = 0; i < 5; i++) assert.equal((await t.attempt(victim, from(ip), wrong)).status, 'refused');
        assert.equal((await t.attempt(victim, from(), right)).status, 'succeeded');
      });

      test('a check that cannot be made (users unreachable) counts for nobody', async () => {
        const t = throttle();
        const login = nobody();
        const ip = testAddress();
        const unreachable = async () => {
          throw new Error('users unreachable');
        };
        for (let i = 0; i < 5; i++) await assert.rejects(t.attempt(login, from(ip), unreachable), /users unreachable/);
        for (let i = 0; i < 5; i++) await assert.rejects(t.attempt(login, from(), unreachable), /users unreachable/);
        for (let i = 0; i < 2; i++) assert.equal((await t.attempt(login, from(ip), wrong)).status, 'failed');
        assert.equal((await t.attempt(login, from(ip), wrong)).status, 'refused', 'the pair');
        assert.equal((await t.attempt(login, from(), wrong)).status, 'failed', 'the account\'s third free failure');
        assert.equal((await t.attempt(login, from(), wrong)).status, 'refused', 'the account');
      });

      test('the keys: every spelling of a login is one account; an IPv6 /64 is one address, an IPv4-mapped address is the IPv4 one', () => {
        for (const spelling of ['Alice@Example.com', 'ALICE@EXAMPLE.COM', fullWidth('alice@example.com'), 'alice\u00AD@example.com']) {
          assert.equal(accountKey(spelling), accountKey('alice@example.com'), spelling);
        }
        assert.equal(accountKey('\u212Aim'), accountKey('kim'));
        assert.notEqual(accountKey('al\u0130ce'), accountKey('alice'));
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

      test('deleteExpired forgets counts, delays and known sources that can no longer change an answer, and only those', async () => {
        const t = throttle();
        const { db } = platform.embedded!.services.auth.runtime.database;
        const [oldIp, lockedIp, freshIp] = [testAddress(), testAddress(), testAddress()];
        const counts = async () => (await queryRows<{ key: string }>(db,
          sql`select key from login_failures where key in (${ipKey(oldIp)}, ${ipKey(lockedIp)}, ${ipKey(freshIp)})`)).map((row) => row.key).sort();
        const [quiet, busy] = [nobody(), nobody()];
        const delays = async () => (await queryRows<{ key: string }>(db, sql`select key from login_delays where key in (${accountKey(quiet)}, ${accountKey(busy)})`)).map((row) => row.key).sort();
        const knownCount = async () => Number((await queryRows<{ n: number }>(db, sql`select count(*)::int as n from login_known_sources`))[0]!.n);

        await t.attempt(quiet, from(oldIp), wrong);
        // Locked for 30 s by its fifth failure.
        for (let i = 0; i < 5; i++) await t.attempt(nobody(), from(lockedIp), wrong);
        const knownBefore = await knownCount();
        await t.attempt(nobody(), from(), right);
        assert.equal(await knownCount(), knownBefore + 2, 'the address and the device of a sign-in');
        nowMs += 59_000;
        await t.attempt(busy, from(freshIp), wrong);
        await t.deleteExpired();
        assert.deepEqual(await counts(), [ipKey(oldIp), ipKey(lockedIp), ipKey(freshIp)].sort());
        nowMs += 1_000;
        await t.deleteExpired();
        assert.deepEqual(await counts(), [ipKey(freshIp)]);
        // A delay row goes once its longest delay and its quiet time (3 × 40 s) have passed since its last failure.
        assert.deepEqual(await delays(), [accountKey(quiet), accountKey(busy)].sort());
        nowMs += 99_000;
        await t.deleteExpired();
        assert.deepEqual(await delays(), [accountKey(quiet), accountKey(busy)].sort());
        nowMs += 1_000;
        await t.deleteExpired();
        assert.deepEqual(await delays(), [accountKey(busy)]);
        // Known sources go after LOGIN_KNOWN_DEVICE_DAYS.
        nowMs += 3_600_000;
        await t.deleteExpired();
        assert.equal(await knownCount(), 0);
      });
    });
  });
}
