// Registration's rules through the gateway: which passwords may be chosen (NIST SP 800-63B), how an
// email address is normalized and kept unique, that nobody learns through registration, login or
// password reset whether an address or account exists, how the password is stored, what a
// registration may not set (role, status, id), and races on the unique constraints.
import assert from 'node:assert/strict';
import { randomBytes, randomInt } from 'node:crypto';
import { domainToASCII } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { startSmtpSink, type SmtpSink } from '@paymesh/app/testing/smtp-sink';
import { backends, eventually, startTestPlatform, type TestPlatform } from '@paymesh/app/testing';
import { queryRows, sql, type Db } from '@paymesh/platform/db/open-database';
import { commonPasswordCount } from '../src/passwords/check-password.ts';

// The races below register one address ten times at once: the per-mailbox registration limit
// (tested in account-abuse.test.ts) would answer most of them 429 before they reach the constraint.
const registrationsPerMailbox = '1000';

const hex = (bytes: number) => randomBytes(bytes).toString('hex');
const unique = (prefix: string) => `${prefix}_${hex(5)}`;
const strongPassword = () => `pw-${hex(8)}`;
const registration = (username = unique('u')) => ({ username, email: `${username}@example.com`, password: strongPassword() });
/** Lower-case letters only: no digit, capital or symbol (and not on any list of common passwords). */
const lowercaseLetters = (length: number) => Array.from({ length }, () => String.fromCharCode(97 + randomInt(26))).join('');

for (const backend of backends()) {
  describe(`users: registration rules (${backend})`, () => {
    let platform: TestPlatform;
    let usersDb: Db;
    let sink: SmtpSink;

    before(async () => {
      // An SMTP sink: what the platform sends by email.
      sink = await startSmtpSink();
      platform = await startTestPlatform(backend, { env: { SMTP_URL: sink.url, USERS_REGISTRATIONS_PER_MAILBOX_PER_HOUR: registrationsPerMailbox } });
      usersDb = platform.embedded!.services.users.runtime.database.db;
    });
    after(async () => {
      await platform?.stop();
      await sink?.close();
    });

    const register = (body: Record<string, unknown>) => platform.api.call('POST', '/users', { json: body });
    const accountsNamed = async (username: string) =>
      Number((await queryRows<{ n: number }>(usersDb, sql`select count(*)::int as n from users where lower(username) = lower(${username})`))[0]!.n);
    const accountsWithEmail = async (email: string) =>
      Number((await queryRows<{ n: number }>(usersDb, sql`select count(*)::int as n from users where lower(email) = lower(${email})`))[0]!.n);
    const storedUser = async (username: string) =>
      (await queryRows<{ id: string; email: string; password_hash: string; role: string; status: string; email_verified_at: unknown }>(usersDb,
        sql`select id, email, password_hash, role, status, email_verified_at from users where username = ${username}`))[0];

    /** Registers through POST /users, expects 202, and logs in with the password. */
    const registersAndLogsIn = async (password: string) => {
      const input = { ...registration(), password };
      const response = await register(input);
      assert.equal(response.status, 202, JSON.stringify(response.body));
      assert.match(await platform.api.login(input.username, password), /^[\w-]+\.[\w-]+\.[\w-]+$/);
      return input;
    };

    /** A refused registration: the status and code, on POST /users and on create_user, and no account. */
    const refused = async (input: Record<string, string>, status: number, code: string, param?: string) => {
      const rest = await register(input);
      assert.equal(rest.status, status, JSON.stringify(rest.body));
      assert.equal(rest.body.error.code, code);
      if (param !== undefined) assert.equal(rest.body.error.param, param);
      const legacy = await platform.api.call('POST', '/users/create_user', { form: input });
      assert.equal(legacy.status, status);
      assert.equal(legacy.body.success, false);
      assert.equal(legacy.body.error.code, code);
      return rest;
    };

    describe('passwords', () => {
      test('a password of 7 characters is refused with 400 parameter_invalid', async () => {
        const input = { ...registration(), password: `k${hex(3)}` };
        assert.equal(input.password.length, 7);
        const response = await refused(input, 400, 'parameter_invalid', 'password');
        assert.match(response.body.error.message, /at least 8/);
        assert.equal(await accountsNamed(input.username), 0);
      });

      test('a password of 8 random characters is accepted', async () => {
        // As a password manager makes one: 8 characters without a word or a pattern in them.
        const password = 'Vq7#mZ2k';
        assert.equal(password.length, 8);
        await registersAndLogsIn(password);
      });

      test('a 64-character and a 1024-character passphrase are accepted and log in', async () => {
        const words = () => Array.from({ length: 200 }, () => lowercaseLetters(4)).join(' ');
        for (const length of [64, 1024]) {
          const passphrase = `${words()} ${words()}`.padEnd(length, 'x').slice(0, length);
          assert.equal(passphrase.length, length);
          await registersAndLogsIn(passphrase);
        }
      });

      test('a password of 1025 characters is refused with 400 parameter_invalid', async () => {
        const input = { ...registration(), password: lowercaseLetters(1025) };
        const response = await refused(input, 400, 'parameter_invalid', 'password');
        assert.match(response.body.error.message, /at most 1024/);
        assert.equal(await accountsNamed(input.username), 0);
      });

      test('a password\'s length is counted in characters (code points): 8 emoji are accepted, 7 are refused', async () => {
        const emoji = ['🔑', '🐙', '🌵', '🚲', '🎻', '🧊', '🦉', '🍋'];
        const eight = emoji.sort(() => randomInt(3) - 1).join('');
        // 16 UTF-16 units, 32 bytes: neither is what a person counts.
        assert.equal(eight.length, 16);
        await registersAndLogsIn(eight);
        const seven = [...eight].slice(0, 7).join('');
        await refused({ ...registration(), password: seven }, 400, 'parameter_invalid', 'password');
      });

      test('there are no composition rules: a password of lower-case letters only is accepted when it is not common', async () => {
        await registersAndLogsIn(lowercaseLetters(12));
      });

      test('a password on the common-password list is refused with 400 password_too_common, in any letter case', async () => {
        for (const password of ['password1', 'PASSWORD1', 'iloveyou1', 'ILoveYou1', 'qwertyuiop', '12345678']) {
          const input = { ...registration(), password };
          await refused(input, 400, 'password_too_common', 'password');
          assert.equal(await accountsNamed(input.username), 0, password);
        }
      });

      test('the username as the password is refused with 400 password_too_common, in any letter case', async () => {
        const input = registration(unique('Username'));
        for (const password of [input.username, input.username.toUpperCase()]) {
          await refused({ ...input, password }, 400, 'password_too_common', 'password');
        }
        assert.equal(await accountsNamed(input.username), 0);
      });

      test('the common-password list has at least 10,000 entries', () => {
        assert.ok(commonPasswordCount() >= 10_000, `only ${commonPasswordCount()} common passwords`);
      });
    });

    describe('email addresses', () => {
      test('an email address is stored trimmed with its domain lower-cased: "  Alice@Example.COM " is stored as "Alice@example.com"', async () => {
        const input = { ...registration(), email: '  Alice@Example.COM ' };
        assert.equal((await register(input)).status, 202);
        assert.equal((await storedUser(input.username))?.email, 'Alice@example.com');
        const token = await platform.api.login(input.username, input.password);
        assert.equal((await platform.api.call('GET', '/users/me', { token })).body.email, 'Alice@example.com');
        // and it is the login too, in any case
        assert.equal(typeof (await platform.api.login('alice@EXAMPLE.com', input.password)), 'string');
      });

      test('an invalid email address is refused with 400 parameter_invalid naming email', async () => {
        for (const email of [
          'not-an-email', 'a@b', '@example.com', 'ana@', 'ana@@example.com', 'a b@example.com', 'ana@exa mple.com',
          'ana@example..com', 'ana@.example.com', 'ana@example.com.', 'ana@-example.com', 'ana@exa_mple.com',
          `${'x'.repeat(65)}@example.com`, `ana@${'x'.repeat(250)}.com`, 'ana\n@example.com', 'ana@example.com\r\nBcc: x@example.com',
          // Mail parsers read these as another mailbox (ana@example.com): never stored as an address.
          'x<ana@example.com>', 'ana@example.com(x)', 'x(y)ana@example.com', 'x:ana@example.com', 'x,ana@example.com', 'x;ana@example.com', '"x"ana@example.com',
        ]) {
          const input = { ...registration(), email };
          const response = await register(input);
          assert.equal(response.status, 400, JSON.stringify(email));
          assert.equal(response.body.error.code, 'parameter_invalid', JSON.stringify(email));
          assert.equal(response.body.error.param, 'email', JSON.stringify(email));
          assert.equal(await accountsNamed(input.username), 0, JSON.stringify(email));
        }
        // A NUL is refused before any route reads the body, in every field (ADR 11).
        const withNul = { ...registration(), email: 'ana\u0000@example.com' };
        const refused = await register(withNul);
        assert.equal(refused.status, 400);
        assert.equal(refused.body.error.code, 'text_contains_nul');
        assert.equal(await accountsNamed(withNul.username), 0);
      });

      test('a plain address with the characters RFC 5321 allows, or with letters of any script, is accepted', async () => {
        for (const email of [`o'brien+tag.${hex(3)}@example.com`, `élodie.${hex(3)}@exämple.fr`, `a!#$%&*/=?^_\`{|}~-${hex(3)}@sub-domain.example.com`]) {
          const input = { ...registration(), email };
          assert.equal((await register(input)).status, 202, email);
          // The domain in the ASCII (punycode) form DNS uses; the local part as typed.
          const [local, domain] = [email.slice(0, email.lastIndexOf('@')), email.slice(email.lastIndexOf('@') + 1)];
          assert.equal((await storedUser(input.username))?.email, `${local.normalize('NFC')}@${domainToASCII(domain.normalize('NFC'))}`);
        }
      });

      test('a username taken in another letter case is refused with 409 identity_taken', async () => {
        const owner = registration(unique('Casey'));
        assert.equal((await register(owner)).status, 202);
        const again = await register({ ...registration(), username: owner.username.toUpperCase() });
        assert.equal(again.status, 409);
        assert.equal(again.body.error.code, 'identity_taken');
        assert.equal(again.body.error.param, 'username');
        const legacy = await platform.api.call('POST', '/users/create_user', { form: { ...registration(), username: owner.username.toLowerCase() } });
        assert.equal(legacy.status, 409);
        assert.equal(legacy.body.success, false);
        assert.equal(legacy.body.error.code, 'identity_taken');
        assert.equal(await accountsNamed(owner.username), 1);
      });

      test('an email taken in another letter case answers 202 like a new registration, creates no second account, and the owner is told by email', async () => {
        const owner = await platform.api.signUp(unique('owner'));
        const ownerEmail = `${owner.username}@example.com`;
        const intruder = { ...registration(), email: `  ${ownerEmail.toUpperCase()} ` };
        const response = await register(intruder);
        assert.equal(response.status, 202);
        assert.equal(await accountsWithEmail(ownerEmail), 1);
        assert.equal(await accountsNamed(intruder.username), 0);
        // The owner's account is untouched: same password, same address.
        assert.equal((await storedUser(owner.username))?.email, ownerEmail);
        assert.equal(typeof (await platform.api.login(owner.username, owner.password)), 'string');
        // Their mailbox gets the security message (even before they confirmed the address).
        await eventually(async () => (sink.received.some((mail) => mail.rcptTo.includes(ownerEmail.toLowerCase()) && mail.subject.includes('Someone tried to register with your email address')) ? true : undefined), { timeoutMs: 15_000, intervalMs: 100 });
        // Trying again and again does not flood their mailbox: one notice an hour.
        const notices = () => sink.received.filter((mail) => mail.rcptTo.includes(ownerEmail.toLowerCase()) && mail.subject.includes('Someone tried to register')).length;
        for (let i = 0; i < 3; i++) assert.equal((await register({ ...registration(), email: ownerEmail })).status, 202);
        await new Promise((resolve) => setTimeout(resolve, 1_500));
        assert.equal(notices(), 1);
      });
    });

    describe('text the database cannot hold', () => {
      test('a NUL character in stored text is 400, never a 500 (registration, profile, search, login)', async () => {
        const user = await platform.api.signUp();
        const admin = await platform.api.adminToken();
        const cases: [string, string, Record<string, unknown> | undefined, string | undefined][] = [
          ['POST', '/users', { ...registration(), username: 'nul\u0000user' }, undefined],
          ['PATCH', '/users/me', { display_name: 'a\u0000b' }, user.token],
          ['GET', '/users?q=a%00', undefined, admin],
        ];
        for (const [method, path, json, token] of cases) {
          const answer = await platform.api.call(method, path, { json, token });
          assert.equal(answer.status, 400, `${method} ${path}: ${JSON.stringify(answer.body)}`);
        }
        // At login it is refused as the input it is (never a 503), whoever the name would be: it
        // tells nothing about any account.
        const login = await platform.api.call('POST', '/auth/login', { json: { username: 'a\u0000', password: 'whatever-password' } });
        assert.equal(login.status, 400);
        assert.equal(login.body.error.code, 'text_contains_nul');
      });

      test('an internationalised domain and its punycode spelling are one address: stored in ASCII, the second registration makes no account', async () => {
        const name = unique('idn');
        assert.equal((await register({ username: name, email: `${name}@bücher.example`, password: `pw-${randomBytes(8).toString('hex')}` })).status, 202);
        assert.equal((await storedUser(name))?.email, `${name}@xn--bcher-kva.example`);
        const twin = unique('twin');
        assert.equal((await register({ username: twin, email: `${name}@xn--bcher-kva.example`, password: `pw-${randomBytes(8).toString('hex')}` })).status, 202);
        assert.equal(await accountsWithEmail(`${name}@xn--bcher-kva.example`), 1);
      });
    });

    describe('no account enumeration', () => {
      test('POST /users with a taken email and with a fresh one gives the same status and body', async () => {
        const owner = await platform.api.signUp();
        const taken = await register({ ...registration(), email: `${owner.username}@example.com` });
        const fresh = await register(registration());
        assert.equal(taken.status, 202);
        assert.equal(fresh.status, taken.status);
        assert.deepEqual(fresh.body, taken.body);
      });

      test('create_user with a taken email and with a fresh one gives the same status and body', async () => {
        const owner = await platform.api.signUp();
        const taken = await platform.api.call('POST', '/users/create_user', { form: { ...registration(), email: `${owner.username}@EXAMPLE.com` } });
        const fresh = await platform.api.call('POST', '/users/create_user', { form: registration() });
        assert.equal(taken.status, 200);
        assert.deepEqual(taken.body, { success: true, message: 'User created successfully' });
        assert.equal(fresh.status, taken.status);
        assert.deepEqual(fresh.body, taken.body);
      });

      test('login with an unknown username and with a wrong password for an existing one gives the same status and body', async () => {
        const alice = await platform.api.signUp();
        const unknown = await platform.api.call('POST', '/auth/login', { json: { username: unique('nobody'), password: alice.password } });
        const wrong = await platform.api.call('POST', '/auth/login', { json: { username: alice.username, password: `${alice.password}x` } });
        assert.equal(unknown.status, 401);
        assert.equal(wrong.status, unknown.status);
        assert.deepEqual(wrong.body, unknown.body);
        assert.equal(typeof (await platform.api.login(alice.username, alice.password)), 'string');
      });

      test('a password-reset request for an unknown address and for an existing one gives the same status and body', async () => {
        const alice = await platform.api.signUp();
        const existing = await platform.api.call('POST', '/users/password-reset', { json: { email: `${alice.username}@example.com` } });
        const unknown = await platform.api.call('POST', '/users/password-reset', { json: { email: `${unique('nobody')}@example.com` } });
        assert.equal(existing.status, 202);
        assert.equal(unknown.status, existing.status);
        assert.deepEqual(unknown.body, existing.body);
      });
    });

    describe('the stored password', () => {
      test('the stored hash is argon2id (v=19) with m ≥ 19456 KiB, t ≥ 2, p ≥ 1, salted, and is what login checks', async () => {
        const input = registration();
        assert.equal((await register(input)).status, 202);
        const hash = (await storedUser(input.username))!.password_hash;
        const phc = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/.exec(hash);
        assert.ok(phc !== null, `not an argon2id PHC string: ${hash.slice(0, 40)}`);
        const [, memoryKiB, iterations, parallelism, salt, digest] = phc;
        assert.ok(Number(memoryKiB) >= 19_456, `m=${memoryKiB}`);
        assert.ok(Number(iterations) >= 2, `t=${iterations}`);
        assert.ok(Number(parallelism) >= 1, `p=${parallelism}`);
        assert.ok(Buffer.from(salt!, 'base64').length >= 16, 'a salt of at least 16 bytes');
        assert.ok(Buffer.from(digest!, 'base64').length >= 32, 'a digest of at least 32 bytes');
        assert.ok(!hash.includes(input.password));
        // The same password twice gives two hashes.
        const twin = { ...registration(), password: input.password };
        assert.equal((await register(twin)).status, 202);
        assert.notEqual((await storedUser(twin.username))!.password_hash, hash);
        assert.equal(typeof (await platform.api.login(input.username, input.password)), 'string');
      });
    });

    describe('what a registration may not set', () => {
      test('POST /users with role, status or id is refused with 400 parameter_unknown and creates nothing', async () => {
        for (const [param, value] of [['role', 'admin'], ['status', 'active'], ['id', 1], ['email_verified_at', '2020-01-01T00:00:00Z']] as const) {
          const input = registration();
          const response = await register({ ...input, [param]: value });
          assert.equal(response.status, 400, param);
          assert.equal(response.body.error.code, 'parameter_unknown', param);
          assert.equal(response.body.error.param, param);
          assert.equal(await accountsNamed(input.username), 0, param);
        }
      });

      test('create_user with role=admin (form-encoded) creates a plain user', async () => {
        const input = registration();
        const created = await platform.api.call('POST', '/users/create_user', { form: { ...input, role: 'admin', status: 'active', id: '1', email_verified_at: '2020-01-01' } });
        assert.equal(created.status, 200);
        const row = await storedUser(input.username);
        assert.equal(row?.role, 'user');
        assert.notEqual(row?.id, '1');
        assert.equal(row?.email_verified_at, null);
        const token = await platform.api.login(input.username, input.password);
        const me = await platform.api.call('GET', '/users/me', { token });
        assert.equal(me.body.role, 'user');
        // No admin power: another account stays hidden, the admin pages refuse.
        assert.equal((await platform.api.call('GET', '/users/1', { token })).status, 404);
        assert.equal((await platform.api.call('GET', '/users', { token })).status, 403);
      });
    });

    describe('races on the unique constraints', () => {
      test('10 concurrent registrations of one username (in various letter cases): exactly one 202, nine 409 identity_taken, one account', async () => {
        const base = unique('race');
        const responses = await Promise.all(Array.from({ length: 10 }, (_, i) =>
          register({ username: i % 2 === 0 ? base : base.toUpperCase(), email: `${base}_${i}@example.com`, password: strongPassword() })));
        assert.deepEqual(responses.map((r) => r.status).sort(), [202, 409, 409, 409, 409, 409, 409, 409, 409, 409]);
        for (const r of responses.filter((r) => r.status === 409)) assert.equal(r.body.error.code, 'identity_taken');
        assert.equal(await accountsNamed(base), 1);
      });

      test('10 concurrent registrations of one email under different usernames: ten 202 and exactly one account', async () => {
        const email = `${unique('shared')}@example.com`;
        const usernames = Array.from({ length: 10 }, (_, i) => unique(`mail${i}`));
        const responses = await Promise.all(usernames.map((username, i) =>
          register({ username, email: i % 2 === 0 ? email : email.toUpperCase(), password: strongPassword() })));
        assert.deepEqual(responses.map((r) => r.status), Array(10).fill(202));
        for (const r of responses) assert.deepEqual(r.body, responses[0]!.body);
        assert.equal(await accountsWithEmail(email), 1);
        let created = 0;
        for (const username of usernames) created += await accountsNamed(username);
        assert.equal(created, 1);
      });
    });
  });
}
