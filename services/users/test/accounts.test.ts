// Accounts through the gateway: registration (REST and the contract's create_user), who may read
// and delete which account, the stored password hash, races on the unique constraints, and the
// internal credential check that auth calls on login.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { importJWK, SignJWT, type JWK } from 'jose';
import { adminPassword, Api, backends, eventually, startTestPlatform, type TestPlatform } from '@paymesh/launcher/testing';
import { queryRows, sql, type Db } from '@paymesh/platform/db/open-database';

const unique = (prefix: string) => `${prefix}_${randomBytes(5).toString('hex')}`;
const registration = (username = unique('u')) => ({ username, email: `${username}@example.com`, password: `pw-${randomBytes(8).toString('hex')}` });

for (const backend of backends()) {
  describe(`users: accounts (${backend})`, () => {
    let platform: TestPlatform;
    let usersDb: Db;
    let adminToken: string;

    before(async () => {
      platform = await startTestPlatform(backend);
      usersDb = platform.embedded!.services.users.runtime.database.db;
      adminToken = await platform.api.adminToken();
    });
    after(async () => {
      await platform?.stop();
    });

    const storedUser = async (id: number | string) =>
      (await queryRows<{ id: string; username: string | null; email: string | null; password_hash: string | null; role: string; status: string; deleted_at: unknown }>(usersDb,
        sql`select id, username, email, password_hash, role, status, deleted_at from users where id = ${String(id)}`))[0];

    /**
     * A token shaped exactly like the one auth mints in process for its own calls to users
     * (MintedTokenSource): no client can obtain `users:credentials` through the token endpoint, so
     * the test signs it with auth's current key, read from auth's database.
     */
    const serviceToken = async (clientId: string, scope: string) => {
      const authDb = platform.embedded!.services.auth.runtime.database.db;
      const [row] = await queryRows<{ private_jwk: JWK }>(authDb, sql`select private_jwk from signing_keys where not_before <= now() order by not_before desc limit 1`);
      const jwk = row!.private_jwk;
      return new SignJWT({ client_id: clientId, scope, paymesh_service: true })
        .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: jwk.kid })
        .setIssuer(`http://localhost:${platform.embedded!.plan.gateway}/auth`)
        .setAudience('urn:paymesh:users')
        .setSubject(clientId)
        .setJti(randomUUID())
        .setIssuedAt()
        .setExpirationTime('5m')
        .sign(await importJWK(jwk, 'ES256'));
    };

    describe('registration', () => {
      test('POST /users creates an active user account and answers 201 with the public user, never the hash', async () => {
        const input = registration();
        const created = await platform.api.call('POST', '/users', { json: input });
        assert.equal(created.status, 201);
        assert.equal(typeof created.body.id, 'number');
        assert.equal(created.body.username, input.username);
        assert.equal(created.body.email, input.email);
        assert.equal(created.body.role, 'user');
        assert.equal(created.body.status, 'active');
        assert.ok(!('password_hash' in created.body) && !('password' in created.body));
        assert.doesNotMatch(JSON.stringify(created.body), /argon2|pw-/);
        const row = await storedUser(created.body.id);
        assert.equal(row?.username, input.username);
        assert.equal(row?.status, 'active');
      });

      test('the password is stored as argon2id with m=19456, t=2, p=1 and verifies against the password', async () => {
        const input = registration();
        const created = await platform.api.call('POST', '/users', { json: input });
        assert.equal(created.status, 201);
        const hash = (await storedUser(created.body.id))?.password_hash ?? '';
        assert.ok(hash.startsWith('$argon2id$v=19$m=19456,t=2,p=1$'), `unexpected hash prefix: ${hash.slice(0, 40)}`);
        assert.ok(!hash.includes(input.password));
        // the hash is salted: the same password twice gives two hashes
        const twin = await platform.api.call('POST', '/users', { json: { ...registration(), password: input.password } });
        assert.equal(twin.status, 201);
        assert.notEqual((await storedUser(twin.body.id))?.password_hash, hash);
        // and it is the hash login checks
        assert.match(await platform.api.login(input.username, input.password), /^[\w-]+\.[\w-]+\.[\w-]+$/);
      });

      test('create_user accepts a form-encoded body (Django request.POST) and a JSON body', async () => {
        for (const send of ['form', 'json'] as const) {
          const input = registration();
          const created = await platform.api.call('POST', '/users/create_user', { [send]: input });
          assert.equal(created.status, 200, send);
          assert.deepEqual(created.body, { success: true, message: 'User created successfully' });
          const [row] = await queryRows<{ email: string; role: string }>(usersDb, sql`select email, role from users where username = ${input.username}`);
          assert.equal(row?.email, input.email, send);
          assert.equal(row?.role, 'user', send);
        }
      });

      test('a username taken in another letter case is refused with 409 identity_taken', async () => {
        const input = registration(unique('Casey'));
        assert.equal((await platform.api.call('POST', '/users', { json: input })).status, 201);
        const again = await platform.api.call('POST', '/users', { json: { ...registration(), username: input.username.toUpperCase() } });
        assert.equal(again.status, 409);
        assert.equal(again.body.error.code, 'identity_taken');
        const legacy = await platform.api.call('POST', '/users/create_user', { form: { ...registration(), username: input.username.toLowerCase() } });
        assert.equal(legacy.status, 409);
        assert.equal(legacy.body.success, false);
        assert.equal(legacy.body.error.code, 'identity_taken');
        const [count] = await queryRows<{ n: string }>(usersDb, sql`select count(*)::int as n from users where lower(username) = lower(${input.username})`);
        assert.equal(Number(count!.n), 1);
      });

      test('an email taken in another letter case is refused with 409 identity_taken', async () => {
        const input = registration();
        assert.equal((await platform.api.call('POST', '/users', { json: input })).status, 201);
        const shouted = await platform.api.call('POST', '/users', { json: { ...registration(), email: input.email.toUpperCase() } });
        assert.equal(shouted.status, 409);
        assert.equal(shouted.body.error.code, 'identity_taken');
        const legacy = await platform.api.call('POST', '/users/create_user', { json: { ...registration(), email: ` ${input.email.replace(/^./, (c) => c.toUpperCase())} ` } });
        assert.equal(legacy.status, 409);
        assert.equal(legacy.body.success, false);
      });

      test('a missing field is refused with 400 parameter_missing naming it, and the contract body', async () => {
        const full = registration();
        for (const missing of ['username', 'email', 'password'] as const) {
          const body: Record<string, string> = { ...full };
          delete body[missing];
          const rest = await platform.api.call('POST', '/users', { json: body });
          assert.equal(rest.status, 400, missing);
          assert.equal(rest.body.error.code, 'parameter_missing');
          assert.equal(rest.body.error.param, missing);
          const legacy = await platform.api.call('POST', '/users/create_user/', { form: body });
          assert.equal(legacy.status, 400, missing);
          assert.equal(legacy.body.success, false);
          assert.equal(legacy.body.message, 'Invalid input');
          assert.equal(legacy.body.error.param, missing);
        }
        const [count] = await queryRows<{ n: number }>(usersDb, sql`select count(*)::int as n from users where username = ${full.username}`);
        assert.equal(Number(count!.n), 0);
      });

      test('invalid fields are refused with 400 naming the field', async () => {
        const cases: [Record<string, unknown>, string][] = [
          [{ username: 'a b' }, 'username'],
          [{ username: 'ab' }, 'username'],
          [{ username: 'x'.repeat(65) }, 'username'],
          [{ username: 'name@example.com' }, 'username'],
          [{ email: 'not-an-email' }, 'email'],
          [{ email: 'a@b' }, 'email'],
          [{ email: `${'x'.repeat(250)}@example.com` }, 'email'],
          [{ password: 'short' }, 'password'],
          [{ password: 'p'.repeat(1025) }, 'password'],
          [{ password: 12345678 }, 'password'],
          [{ username: ['alice', 'bob'] }, 'username'],
        ];
        for (const [override, param] of cases) {
          const response = await platform.api.call('POST', '/users', { json: { ...registration(), ...override } });
          assert.equal(response.status, 400, JSON.stringify(override).slice(0, 60));
          assert.equal(response.body.error.param, param, JSON.stringify(override).slice(0, 60));
        }
      });

      test('a body that is not an object or not JSON is refused with 400', async () => {
        for (const text of ['[]', '"alice"', 'null', '{"username":']) {
          const response = await platform.api.call('POST', '/users', { json: text });
          assert.equal(response.status, 400, text);
          assert.equal(typeof response.body.error.code, 'string', text);
        }
      });

      test('create_user ignores role: admin in the body: the stored role is user and the token has no admin scope', async () => {
        const input = registration();
        const created = await platform.api.call('POST', '/users/create_user', { form: { ...input, role: 'admin', status: 'active', id: '1' } });
        assert.equal(created.status, 200);
        const [row] = await queryRows<{ id: string; role: string }>(usersDb, sql`select id, role from users where username = ${input.username}`);
        assert.equal(row?.role, 'user');
        assert.notEqual(row?.id, '1');
        const token = await platform.api.login(input.username, input.password);
        const others = await platform.api.call('GET', '/users/1', { token });
        assert.equal(others.status, 404);
      });

      test('POST /users never stores role: admin from the body', async () => {
        const input = registration();
        const response = await platform.api.call('POST', '/users', { json: { ...input, role: 'admin' } });
        const [row] = await queryRows<{ role: string }>(usersDb, sql`select role from users where username = ${input.username}`);
        if (response.status === 201) {
          assert.equal(response.body.role, 'user');
          assert.equal(row?.role, 'user');
        } else {
          assert.equal(row, undefined);
        }
      });

      test('POST /users refuses a body with role: admin (an unknown field) with 400 parameter_unknown', async () => {
        const input = registration();
        const response = await platform.api.call('POST', '/users', { json: { ...input, role: 'admin' } });
        assert.equal(response.status, 400);
        assert.equal(response.body.error.code, 'parameter_unknown');
        assert.equal(response.body.error.param, 'role');
      });

      test('10 concurrent registrations of one username (in various letter cases) create exactly one account', async () => {
        const base = unique('race');
        const variants = Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? base : base.toUpperCase()));
        const responses = await Promise.all(variants.map((username, i) =>
          platform.api.call('POST', '/users', { json: { username, email: `${base}_${i}@example.com`, password: 'race-password-1' } })));
        const statuses = responses.map((r) => r.status).sort();
        assert.deepEqual(statuses, [201, 409, 409, 409, 409, 409, 409, 409, 409, 409]);
        for (const r of responses.filter((r) => r.status === 409)) assert.equal(r.body.error.code, 'identity_taken');
        const [count] = await queryRows<{ n: number }>(usersDb, sql`select count(*)::int as n from users where lower(username) = lower(${base})`);
        assert.equal(Number(count!.n), 1);
      });

      test('10 concurrent registrations of one email under different usernames create exactly one account', async () => {
        const email = `${unique('shared')}@example.com`;
        const responses = await Promise.all(Array.from({ length: 10 }, (_, i) =>
          platform.api.call('POST', '/users/create_user', { json: { username: unique(`mail${i}`), email: i % 2 === 0 ? email : email.toUpperCase(), password: 'race-password-1' } })));
        assert.equal(responses.filter((r) => r.status === 200).length, 1);
        assert.equal(responses.filter((r) => r.status === 409 && r.body.success === false).length, 9);
        const [count] = await queryRows<{ n: number }>(usersDb, sql`select count(*)::int as n from users where lower(email) = lower(${email})`);
        assert.equal(Number(count!.n), 1);
      });
    });

    describe('reading accounts', () => {
      test('GET /users/:id answers the user themself (200), hides another user (404), and lets an admin read anyone', async () => {
        const alice = await platform.api.signUp();
        const bob = await platform.api.signUp();
        const own = await platform.api.call('GET', `/users/${alice.id}`, { token: alice.token });
        assert.equal(own.status, 200);
        assert.equal(own.body.id, alice.id);
        assert.equal(own.body.username, alice.username);
        assert.ok(!('password_hash' in own.body));

        const foreign = await platform.api.call('GET', `/users/${bob.id}`, { token: alice.token });
        assert.equal(foreign.status, 404);
        assert.equal(foreign.body.error.code, 'user_not_found');
        // identical to an id that does not exist: existence is not leaked
        const unknown = await platform.api.call('GET', '/users/987654321', { token: alice.token });
        assert.deepEqual(unknown.body, foreign.body);

        const byAdmin = await platform.api.call('GET', `/users/${bob.id}`, { token: adminToken });
        assert.equal(byAdmin.status, 200);
        assert.equal(byAdmin.body.username, bob.username);
      });

      test('GET /users/:id of an unknown or non-numeric id is 404, for an admin too', async () => {
        const alice = await platform.api.signUp();
        for (const id of ['987654321', 'abc', '1e3', '-1', '0', `${alice.id}.0`, '99999999999999999999']) {
          for (const token of [alice.token, adminToken]) {
            const response = await platform.api.call('GET', `/users/${id}`, { token });
            assert.equal(response.status, 404, `${id}`);
          }
        }
      });

      test('GET /users/:id without a token is 401 Authorization header missing; with a bad token 401 Invalid token', async () => {
        const missing = await platform.api.call('GET', '/users/1');
        assert.equal(missing.status, 401);
        assert.equal(missing.body.message, 'Authorization header missing');
        const bad = await platform.api.call('GET', '/users/1', { token: 'eyJhbGciOiJub25lIn0.e30.' });
        assert.equal(bad.status, 401);
        assert.equal(bad.body.message, 'Invalid token');
      });

      test('GET /users/me answers the caller, for a user and for the admin', async () => {
        const alice = await platform.api.signUp();
        const me = await platform.api.call('GET', '/users/me/', { token: alice.token });
        assert.equal(me.status, 200);
        assert.equal(me.body.id, alice.id);
        assert.equal(me.body.username, alice.username);
        assert.equal(me.body.role, 'user');
        const admin = await platform.api.call('GET', '/users/me', { token: adminToken });
        assert.equal(admin.status, 200);
        assert.equal(admin.body.username, 'admin');
        assert.equal(admin.body.role, 'admin');
        assert.equal((await platform.api.call('GET', '/users/me')).status, 401);
      });
    });

    describe('deleting accounts', () => {
      test('DELETE /users/:id of another user is 404 and changes nothing', async () => {
        const alice = await platform.api.signUp();
        const bob = await platform.api.signUp();
        const response = await platform.api.call('DELETE', `/users/${bob.id}`, { token: alice.token });
        assert.equal(response.status, 404);
        const row = await storedUser(bob.id);
        assert.equal(row?.status, 'active');
        assert.equal(row?.username, bob.username);
        const legacy = await platform.api.call('POST', '/users/delete_user', { token: alice.token, form: { user_id: String(bob.id) } });
        assert.equal(legacy.status, 404);
        assert.equal(legacy.body.success, false);
        assert.equal(legacy.body.message, 'User not found');
        assert.equal((await storedUser(bob.id))?.status, 'active');
      });

      test('DELETE /users/:id by the user themself is 204 and leaves a tombstone whose login fails', async () => {
        const alice = await platform.api.signUp();
        const response = await platform.api.call('DELETE', `/users/${alice.id}`, { token: alice.token });
        assert.equal(response.status, 204);
        assert.equal(response.body, undefined);
        const row = await storedUser(alice.id);
        assert.equal(row?.username, null);
        assert.equal(row?.email, null);
        assert.equal(row?.password_hash, null);
        assert.equal(row?.status, 'deleted');
        assert.notEqual(row?.deleted_at, null);

        const login = await platform.api.call('POST', '/auth/login', { json: { username: alice.username, password: alice.password } });
        assert.equal(login.status, 401);
        const byEmail = await platform.api.call('POST', '/auth/login', { json: { username: `${alice.username}@example.com`, password: alice.password } });
        assert.equal(byEmail.status, 401);
        // the admin no longer finds it either, and a second delete is 404
        assert.equal((await platform.api.call('GET', `/users/${alice.id}`, { token: adminToken })).status, 404);
        const again = await platform.api.call('POST', '/users/delete_user', { token: adminToken, json: { user_id: alice.id } });
        assert.equal(again.status, 404);
        assert.deepEqual({ success: again.body.success, message: again.body.message }, { success: false, message: 'User not found' });
      });

      test("a deleted user's token is refused once the deletion has travelled", async () => {
        const alice = await platform.api.signUp();
        assert.equal((await platform.api.call('DELETE', `/users/${alice.id}`, { token: alice.token })).status, 204);
        await eventually(async () => {
          const me = await platform.api.call('GET', '/users/me', { token: alice.token });
          return me.status === 401 && me.body.message === 'Invalid token' ? true : undefined;
        }, { timeoutMs: 2_000 });
      });

      test('a deleted username can be registered again and gets a new id (ids are never reused)', async () => {
        const alice = await platform.api.signUp();
        assert.equal((await platform.api.call('DELETE', `/users/${alice.id}`, { token: adminToken })).status, 204);
        const again = await platform.api.call('POST', '/users', { json: { username: alice.username, email: `${alice.username}@example.com`, password: 'a-new-password-1' } });
        assert.equal(again.status, 201);
        assert.ok(again.body.id > alice.id);
        assert.equal((await storedUser(alice.id))?.status, 'deleted');
      });

      test('delete_user without user_id is 400 Invalid input; an admin deleting an unknown id gets 404 User not found', async () => {
        const missing = await platform.api.call('POST', '/users/delete_user', { token: adminToken, json: {} });
        assert.equal(missing.status, 400);
        assert.equal(missing.body.success, false);
        assert.equal(missing.body.error.param, 'user_id');
        for (const userId of ['987654321', 'abc']) {
          const unknown = await platform.api.call('POST', '/users/delete_user', { token: adminToken, form: { user_id: userId } });
          assert.equal(unknown.status, 404, userId);
          assert.equal(unknown.body.message, 'User not found');
        }
      });

      test('delete_user without a token is 401 and deletes nothing', async () => {
        const bob = await platform.api.signUp();
        const response = await platform.api.call('POST', '/users/delete_user', { json: { user_id: bob.id } });
        assert.equal(response.status, 401);
        assert.equal(response.body.message, 'Authorization header missing');
        assert.equal((await storedUser(bob.id))?.status, 'active');
      });
    });

    describe('internal credential check', () => {
      const path = '/users/internal/verify-credentials';
      // Called on the users service itself: the gateway never routes /users/internal/.
      const direct = () => new Api(platform.embedded!.services.users.url);

      test('is not reachable through the public gateway', async () => {
        const response = await platform.api.call('POST', path, { json: { username: 'admin', password: adminPassword } });
        assert.equal(response.status, 404);
        assert.equal(response.body.error.code, 'route_not_found');
      });

      test('refuses an anonymous caller with 401', async () => {
        const response = await direct().call('POST', path, { json: { username: 'admin', password: adminPassword } });
        assert.equal(response.status, 401);
        assert.equal(response.body.message, 'Authorization header missing');
      });

      test('refuses user and admin tokens with 403, even with the right password', async () => {
        const alice = await platform.api.signUp();
        for (const token of [alice.token, adminToken]) {
          const response = await direct().call('POST', path, { token, json: { username: alice.username, password: alice.password } });
          assert.equal(response.status, 403);
          assert.equal(response.body.error.type, 'permission_error');
          assert.ok(!('user_id' in response.body));
        }
      });

      test('refuses a service token without the users:credentials scope with 403', async () => {
        const token = await serviceToken('payments-service', 'users:read notifications:write');
        const response = await direct().call('POST', path, { token, json: { username: 'admin', password: adminPassword } });
        assert.equal(response.status, 403);
        assert.equal(response.body.error.code, 'insufficient_scope');
      });

      test('answers 200 with the user for the right password, by username or email in any case', async () => {
        const token = await serviceToken('auth-service', 'users:credentials users:read');
        const alice = await platform.api.signUp(unique('Vera'));
        for (const login of [alice.username, alice.username.toUpperCase(), `${alice.username}@EXAMPLE.com`]) {
          const response = await direct().call('POST', path, { token, json: { username: login, password: alice.password } });
          assert.equal(response.status, 200, login);
          assert.deepEqual(response.body, { user_id: alice.id, username: alice.username, role: 'user' });
        }
      });

      test('answers 401 with identical bodies for an unknown user, a wrong password and a deleted user', async () => {
        const token = await serviceToken('auth-service', 'users:credentials users:read');
        const alice = await platform.api.signUp();
        const gone = await platform.api.signUp();
        assert.equal((await platform.api.call('DELETE', `/users/${gone.id}`, { token: adminToken })).status, 204);
        const unknown = await direct().call('POST', path, { token, json: { username: unique('nobody'), password: alice.password } });
        const wrong = await direct().call('POST', path, { token, json: { username: alice.username, password: `${alice.password}x` } });
        const deleted = await direct().call('POST', path, { token, json: { username: gone.username, password: gone.password } });
        for (const response of [unknown, wrong, deleted]) assert.equal(response.status, 401);
        assert.deepEqual(wrong.body, unknown.body);
        assert.deepEqual(deleted.body, unknown.body);
        assert.equal(unknown.body.error.code, 'invalid_credentials');
      });

      test('refuses unknown fields and oversized input with 400', async () => {
        const token = await serviceToken('auth-service', 'users:credentials users:read');
        const extra = await direct().call('POST', path, { token, json: { username: 'admin', password: adminPassword, role: 'admin' } });
        assert.equal(extra.status, 400);
        assert.equal(extra.body.error.code, 'parameter_unknown');
        const long = await direct().call('POST', path, { token, json: { username: 'admin', password: 'p'.repeat(1025) } });
        assert.equal(long.status, 400);
        assert.equal(long.body.error.param, 'password');
      });
    });
  });
}
