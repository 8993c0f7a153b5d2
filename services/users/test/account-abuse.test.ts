// What anyone (or any logged-in user) can make the users service do is bounded (issue 12 §2,
// docs/adr/0010-account-abuse.md): registrations per client address and per mailbox, verification
// links per mailbox over every account, current-password checks per account and per client address,
// all refused with 429, a stable code and Retry-After before any argon2 work; and the heavy work
// that does run passes a gate of bounded concurrency and queue.
// The requests go to the users service directly, each test naming its own client address in
// X-Forwarded-For (as the gateway does), so the limits of one test do not spill into another.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Api, backends, startTestPlatform, type TestPlatform } from '@paymesh/app/testing';
import { queryRows, sql, type Db } from '@paymesh/platform/db/open-database';
import { WorkGate } from '../src/throttle/work-gate.ts';

const limits = {
  USERS_REGISTRATIONS_PER_CLIENT_PER_HOUR: '5',
  USERS_REGISTRATIONS_PER_MAILBOX_PER_HOUR: '3',
  USERS_VERIFICATION_EMAILS_PER_MAILBOX_PER_HOUR: '2',
  USERS_PASSWORD_CHECKS_PER_USER_PER_HOUR: '4',
  USERS_PASSWORD_CHECKS_PER_CLIENT_PER_HOUR: '6',
};
const hex = (bytes = 4) => randomBytes(bytes).toString('hex');
const password = () => `pw-${hex(8)}`;
let clients = 0;
/** A client address of its own (TEST-NET-1), for one test. */
const newClient = () => `192.0.2.${++clients}`;

for (const backend of backends()) {
  describe(`users: account abuse limits (${backend})`, () => {
    let platform: TestPlatform;
    let users: Api;
    let db: Db;

    before(async () => {
      platform = await startTestPlatform(backend, { env: limits });
      users = new Api(`http://127.0.0.1:${platform.embedded!.plan.http.users}`);
      db = platform.embedded!.services.users.runtime.database.db;
    });
    after(async () => {
      await platform?.stop();
    });

    const register = (client: string, email: string, username = `u${hex()}`) =>
      users.call('POST', '/users', { json: { username, email, password: password() }, headers: { 'x-forwarded-for': client } });
    const accounts = async (email: string) => Number((await queryRows<{ n: number }>(db, sql`select count(*)::int as n from users where lower(email) = lower(${email})`))[0]!.n);
    const limited = (answer: { status: number; body: any; headers: Headers }, code: string) => {
      assert.equal(answer.status, 429, JSON.stringify(answer.body));
      assert.equal(answer.body.error.code, code);
      assert.equal(answer.body.error.type, 'rate_limit_error');
      const retryAfter = Number(answer.headers.get('retry-after'));
      assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 3600, `Retry-After ${answer.headers.get('retry-after')}`);
    };

    test('registrations for one mailbox are limited, whatever its +tag, letter case or Gmail dots: 429 registration_rate_limited with Retry-After, no account made', async () => {
      const name = `ana${hex()}`;
      const spellings = [`${name}+one@gmail.com`, `${name.toUpperCase()}+two@gmail.com`, `${name.slice(0, 3)}.${name.slice(3)}@googlemail.com`];
      for (const email of spellings) assert.equal((await register(newClient(), email)).status, 202, email);
      const beyond = `${name.split('').join('.')}+four@gmail.com`;
      limited(await register(newClient(), beyond), 'registration_rate_limited');
      assert.equal(await accounts(beyond), 0);
      // The contract's route is limited alike, with its own body shape.
      const legacy = await users.call('POST', '/users/create_user', { json: { username: `u${hex()}`, email: `${name}+five@gmail.com`, password: password() }, headers: { 'x-forwarded-for': newClient() } });
      limited(legacy, 'registration_rate_limited');
      assert.equal(legacy.body.success, false);
      // Another mailbox is not affected.
      assert.equal((await register(newClient(), `${name}@example.com`)).status, 202);
    });

    test('registrations from one client address are limited, and its refused attempts use up no mailbox allowance', async () => {
      const client = newClient();
      for (let i = 0; i < 5; i++) assert.equal((await register(client, `c${hex()}@example.com`)).status, 202);
      // Counted before the password is even looked at: a weak one is refused with 429 too.
      const target = `victim${hex()}@example.com`;
      limited(await register(client, target), 'registration_rate_limited');
      limited(await users.call('POST', '/users', { json: { username: `u${hex()}`, email: `w${hex()}@example.com`, password: 'aaaaaaaa' }, headers: { 'x-forwarded-for': client } }), 'registration_rate_limited');
      assert.equal(await accounts(target), 0);
      // The mailbox the refused client named still has its whole allowance, from other clients.
      for (let i = 0; i < 3; i++) assert.equal((await register(newClient(), target.replace('@', `+${i}@`))).status, 202);
      assert.equal((await register(newClient(), `other${hex()}@example.com`)).status, 202);
    });

    test('verification links to one mailbox are capped over every account: beyond the cap an account is made but no link is sent', async () => {
      const name = `zed${hex()}`;
      const made: { id: string; username: string; pw: string }[] = [];
      for (let i = 1; i <= 3; i++) {
        const username = `u${hex()}`;
        const pw = password();
        assert.equal((await users.call('POST', '/users', { json: { username, email: `${name}+${i}@example.com`, password: pw }, headers: { 'x-forwarded-for': newClient() } })).status, 202);
        made.push({ id: (await queryRows<{ id: string }>(db, sql`select id from users where username = ${username}`))[0]!.id, username, pw });
      }
      const links = async () => (await queryRows<{ user_id: string }>(db, sql`select user_id from user_tokens where mailbox = ${`${name}@example.com`} and purpose = 'verify_email' order by created_at`)).map((l) => l.user_id);
      assert.deepEqual(await links(), made.slice(0, 2).map((m) => m.id));
      // A resend for the third account, within the hour, sends nothing either.
      const third = made[2]!;
      const token = await platform.api.login(third.username, third.pw);
      assert.equal((await users.call('POST', '/users/me/verify-email', { token })).status, 202);
      assert.deepEqual(await links(), made.slice(0, 2).map((m) => m.id));
    });

    test('checks of the current password are limited per account before argon2: 429 password_check_rate_limited with Retry-After, on password and email changes alike', async () => {
      const client = newClient();
      const username = `u${hex()}`;
      const pw = password();
      assert.equal((await users.call('POST', '/users', { json: { username, email: `${username}@example.com`, password: pw }, headers: { 'x-forwarded-for': client } })).status, 202);
      const token = await platform.api.login(username, pw);
      const headers = { 'x-forwarded-for': client };
      // Right current password, refused new one: each still costs an argon2 check, so each counts.
      for (let i = 0; i < 3; i++) {
        const answer = await users.call('POST', '/users/me/password', { token, headers, json: { current_password: pw, new_password: 'aaaaaaaa' } });
        assert.equal(answer.status, 400, JSON.stringify(answer.body));
      }
      assert.equal((await users.call('PATCH', '/users/me', { token, headers, json: { email: `${username}.b@example.com`, current_password: pw } })).status, 200);
      limited(await users.call('POST', '/users/me/password', { token, headers, json: { current_password: pw, new_password: 'a strong new passphrase here' } }), 'password_check_rate_limited');
      limited(await users.call('PATCH', '/users/me', { token, headers: { 'x-forwarded-for': newClient() }, json: { email: `${username}.c@example.com`, current_password: pw } }), 'password_check_rate_limited');
      // A change that checks no password is not limited.
      assert.equal((await users.call('PATCH', '/users/me', { token, headers, json: { display_name: 'Still me' } })).status, 200);
    });

    test('checks of the current password are limited per client address, over every account it uses', async () => {
      const client = newClient();
      const made = [];
      for (let i = 0; i < 2; i++) {
        const username = `u${hex()}`;
        const pw = password();
        assert.equal((await users.call('POST', '/users', { json: { username, email: `${username}@example.com`, password: pw }, headers: { 'x-forwarded-for': newClient() } })).status, 202);
        made.push({ token: await platform.api.login(username, pw), pw });
      }
      const attempt = (user: { token: string; pw: string }) =>
        users.call('POST', '/users/me/password', { token: user.token, headers: { 'x-forwarded-for': client }, json: { current_password: user.pw, new_password: 'bbbbbbbb' } });
      for (let i = 0; i < 3; i++) assert.equal((await attempt(made[0]!)).status, 400);
      for (let i = 0; i < 3; i++) assert.equal((await attempt(made[1]!)).status, 400);
      limited(await attempt(made[1]!), 'password_check_rate_limited');
      limited(await attempt(made[0]!), 'password_check_rate_limited');
    });
  });
}

describe('the work gate that keeps registrations and password changes from slowing logins', () => {
  test('at most `concurrency` tasks run at once, at most `queue` wait, and the rest are refused at once', async () => {
    const gate = new WorkGate(2, 1);
    let running = 0;
    let most = 0;
    const releases: (() => void)[] = [];
    const task = () => gate.run(async () => {
      running++;
      most = Math.max(most, running);
      await new Promise<void>((resolve) => releases.push(resolve));
      running--;
      return 'done';
    });
    const admitted = [task(), task(), task()];
    // Two run, one waits: a fourth finds the queue full and is refused without running.
    assert.equal(await task(), undefined);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(releases.length, 2);
    releases.shift()!();
    // The slot passes to the waiting task.
    for (let i = 0; i < 10 && releases.length < 2; i++) await new Promise((resolve) => setImmediate(resolve));
    assert.equal(releases.length, 2);
    while (releases.length > 0) releases.shift()!();
    assert.deepEqual(await Promise.all(admitted), [{ value: 'done' }, { value: 'done' }, { value: 'done' }]);
    assert.equal(most, 2);
    // A task that throws gives its slot back.
    await assert.rejects(gate.run(async () => { throw new Error('boom'); }), /boom/);
    assert.deepEqual(await gate.run(async () => 'again'), { value: 'again' });
  });
});
