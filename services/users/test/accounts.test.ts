// Accounts through the gateway: the contract's create_user, registration's answer, who may read
// and delete which account, tombstones, the stored password hash, the bootstrap admin, and the
// internal credential check that auth calls on login (who may call it, what it answers, how often
// per login name).
// Registration's rules (passwords, email addresses, enumeration, races): registration.test.ts.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { importJWK, SignJWT, type JWK } from 'jose';
import { adminPassword, Api, backends, eventually, startTestPlatform, type TestPlatform } from '@paymesh/app/testing';
import { queryRows, sql, type Db } from '@paymesh/platform/db/open-database';
import { bootstrapAdmin } from '../src/accounts/bootstrap-admin.ts';

const unique = (prefix: string) => `${prefix}_${randomBytes(5).toString('hex')}`;
const registration = (username = unique('u')) => ({ username, email: `${username}@example.com`, password: `pw-${randomBytes(8).toString('hex')}` });

/**
 * A token shaped exactly like the one auth mints in process for its own calls to users
 * (MintedTokenSource): no client can obtain `users:credentials` through the token endpoint, so
 * the test signs it with auth's current key, read from auth's database.
 */
async function signServiceToken(platform: TestPlatform, clientId: string, scope: string): Promise<string> {
  return signToken(platform, clientId, { client_id: clientId, scope, paymesh_service: true });
}

/** A token of the platform's issuer for `subject` with these claims, as auth would mint it. */
async function signToken(platform: TestPlatform, subject: string, claims: Record<string, unknown>): Promise<string> {
  const authDb = platform.embedded!.services.auth.runtime.database.db;
  const [row] = await queryRows<{ private_jwk: JWK }>(authDb, sql`select private_jwk from signing_keys where not_before <= now() order by not_before desc limit 1`);
  const jwk = row!.private_jwk;
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: jwk.kid })
    .setIssuer(`http://localhost:${platform.embedded!.plan.gateway}/auth`)
    .setAudience('urn:paymesh:users')
    .setSubject(subject)
    .setJti(randomUUID())
    .setIssuedAt()
    .setExpirationTime('5m')
    .sign(await importJWK(jwk, 'ES256'));
}

const credentialCheckPath = '/users/internal/verify-credentials';

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

    const idOf = async (username: string) =>
      (await queryRows<{ id: string }>(usersDb, sql`select id from users where username = ${username}`))[0]!.id;
    const storedUser = async (id: number | string) =>
      (await queryRows<{ id: string; username: string | null; email: string | null; password_hash: string | null; role: string; status: string; deleted_at: unknown }>(usersDb,
        sql`select id, username, email, password_hash, role, status, deleted_at from users where id = ${String(id)}`))[0];

    const serviceToken = (clientId: string, scope: string) => signServiceToken(platform, clientId, scope);

    describe('registration', () => {
      test('POST /users answers 202 without saying which account it made, and creates an active user whose address waits for its link', async () => {
        const input = registration();
        const created = await platform.api.call('POST', '/users', { json: input });
        assert.equal(created.status, 202);
        assert.equal(created.body.object, 'registration');
        assert.equal(typeof created.body.message, 'string');
        // Nothing about the account: a taken address must answer exactly the same (registration.test.ts).
        assert.ok(!('id' in created.body) && !('username' in created.body) && !('email' in created.body));
        assert.doesNotMatch(JSON.stringify(created.body), /argon2|pw-/);
        const [row] = await queryRows<{ id: string; email: string; role: string; status: string; email_verified_at: unknown }>(usersDb,
          sql`select id, email, role, status, email_verified_at from users where username = ${input.username}`);
        assert.equal(row?.email, input.email);
        assert.equal(row?.role, 'user');
        assert.equal(row?.status, 'active');
        assert.equal(row?.email_verified_at, null);
        // The account shows itself to its owner, never with the hash.
        const token = await platform.api.login(input.username, input.password);
        const me = await platform.api.call('GET', '/users/me', { token });
        assert.equal(me.body.id, Number(row!.id));
        assert.equal(me.body.email_verified, false);
        assert.ok(!('password_hash' in me.body) && !('password' in me.body));
      });

      test('the password is stored as an argon2id hash (never the password), salted, and is what login checks', async () => {
        const input = registration();
        assert.equal((await platform.api.call('POST', '/users', { json: input })).status, 202);
        const id = await idOf(input.username);
        const hash = (await storedUser(id))?.password_hash ?? '';
        assert.match(hash, /^\$argon2id\$v=19\$m=\d+,t=\d+,p=\d+\$/);
        assert.ok(!hash.includes(input.password));
        // the hash is salted: the same password twice gives two hashes
        const twin = { ...registration(), password: input.password };
        assert.equal((await platform.api.call('POST', '/users', { json: twin })).status, 202);
        assert.notEqual((await storedUser(await idOf(twin.username)))?.password_hash, hash);
        // and it is the hash login checks
        assert.match(await platform.api.login(input.username, input.password), /^[\w-]+\.[\w-]+\.[\w-]+$/);
        assert.equal((await platform.api.call('POST', '/auth/login', { json: { username: input.username, password: `${input.password}!` } })).status, 401);
      });

      test('create_user accepts a form-encoded body (Django request.POST) and a JSON body, with a trailing slash too', async () => {
        for (const [send, path] of [['form', '/users/create_user'], ['json', '/users/create_user'], ['form', '/users/create_user/']] as const) {
          const input = registration();
          const created = await platform.api.call('POST', path, { [send]: input });
          assert.equal(created.status, 200, `${send} ${path}`);
          assert.deepEqual(created.body, { success: true, message: 'User created successfully' });
          const [row] = await queryRows<{ email: string; role: string; status: string }>(usersDb, sql`select email, role, status from users where username = ${input.username}`);
          assert.equal(row?.email, input.email, send);
          assert.equal(row?.role, 'user', send);
          assert.equal(row?.status, 'active', send);
          assert.equal(typeof (await platform.api.login(input.username, input.password)), 'string');
        }
      });

      test('a taken username is refused by create_user with 409 and the contract body', async () => {
        const owner = registration();
        assert.equal((await platform.api.call('POST', '/users/create_user', { form: owner })).status, 200);
        const again = await platform.api.call('POST', '/users/create_user', { form: { ...registration(), username: owner.username } });
        assert.equal(again.status, 409);
        assert.equal(again.body.success, false);
        assert.equal(again.body.message, 'Username already taken');
        assert.equal(again.body.error.code, 'identity_taken');
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
          const empty = await platform.api.call('POST', '/users/create_user', { form: { ...full, [missing]: '' } });
          assert.equal(empty.status, 400, `${missing} empty`);
          assert.equal(empty.body.message, 'Invalid input');
        }
        const [count] = await queryRows<{ n: number }>(usersDb, sql`select count(*)::int as n from users where username = ${full.username}`);
        assert.equal(Number(count!.n), 0);
      });

      test('invalid fields are refused with 400 naming the field, by POST /users and by create_user', async () => {
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
          const label = JSON.stringify(override).slice(0, 60);
          const input = { ...registration(), ...override };
          const response = await platform.api.call('POST', '/users', { json: input });
          assert.equal(response.status, 400, label);
          assert.equal(response.body.error.param, param, label);
          const legacy = await platform.api.call('POST', '/users/create_user', { json: input });
          assert.equal(legacy.status, 400, label);
          assert.deepEqual({ success: legacy.body.success, message: legacy.body.message, param: legacy.body.error.param }, { success: false, message: 'Invalid input', param }, label);
        }
      });

      test('a body that is not an object or not JSON is refused with 400', async () => {
        for (const text of ['[]', '"alice"', 'null', '{"username":']) {
          for (const path of ['/users', '/users/create_user']) {
            const response = await platform.api.call('POST', path, { json: text });
            assert.equal(response.status, 400, `${path} ${text}`);
            assert.equal(typeof response.body.error.code, 'string', `${path} ${text}`);
          }
        }
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
        for (const id of ['987654321', 'abc', '1e3', '-1', '0', `${alice.id}.0`, '9007199254740993', '99999999999999999999']) {
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

      test('DELETE /users/me deletes the caller\'s own account and no other; a token without users:write is refused', async () => {
        const alice = await platform.api.signUp();
        const bob = await platform.api.signUp();
        const response = await platform.api.call('DELETE', '/users/me', { token: alice.token });
        assert.equal(response.status, 204);
        assert.equal((await storedUser(alice.id))?.status, 'deleted');
        assert.equal((await storedUser(bob.id))?.status, 'active');
        assert.equal((await platform.api.call('POST', '/auth/login', { json: { username: alice.username, password: alice.password } })).status, 401);
        // An app Bob allowed to read his account only.
        const readOnly = await signToken(platform, String(bob.id), { client_id: 'reader-app', scope: 'users:read', role: 'user' });
        const refused = await platform.api.call('DELETE', '/users/me', { token: readOnly });
        assert.deepEqual([refused.status, refused.body.error.code], [403, 'insufficient_scope']);
        assert.equal((await storedUser(bob.id))?.status, 'active');
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
        assert.equal(again.status, 202);
        assert.ok(Number(await idOf(alice.username)) > alice.id);
        assert.equal((await storedUser(alice.id))?.status, 'deleted');
        // the new account is a new person's: the old one's password does not open it
        assert.equal((await platform.api.call('POST', '/auth/login', { json: { username: alice.username, password: alice.password } })).status, 401);
        assert.equal(typeof (await platform.api.login(alice.username, 'a-new-password-1')), 'string');
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

    describe('the bootstrap admin', () => {
      const bootstrap = (options: { username: string; email: string; password: string }) =>
        bootstrapAdmin(platform.embedded!.services.users.runtime, { ...options, passwordFile: join(mkdtempSync(join(tmpdir(), 'paymesh-admin-')), 'admin.txt') });

      test('the first start\'s admin exists, is an admin with a confirmed address, and logs in', async () => {
        const me = await platform.api.call('GET', '/users/me', { token: adminToken });
        assert.equal(me.body.role, 'admin');
        assert.equal(me.body.email_verified, true);
      });

      test('a BOOTSTRAP_ADMIN_PASSWORD that is common, the username, or too easy to guess stops the start, and no admin is created', async () => {
        const named = unique('root');
        for (const [username, password] of [[unique('root'), 'password1'], [unique('root'), 'Admin123'], ['rootadmin', 'RootAdmin'], [unique('root'), 'short'],
          [unique('root'), 'aaaaaaaaaaaa'], [unique('root'), 'qwertyuiop12'], [named, `${named}xy`]]) {
          await assert.rejects(bootstrap({ username: username!, email: `${username}@example.com`, password: password! }), /^Error: BOOTSTRAP_ADMIN_PASSWORD: /);
          assert.equal((await queryRows(usersDb, sql`select 1 from users where username = ${username!}`)).length, 0, password);
        }
      });

      test('a BOOTSTRAP_ADMIN_USERNAME that is not a valid username stops the start, and no admin is created', async () => {
        const bad = ['ad', 'x'.repeat(65), 'root admin', 'root@example.com', 'root\u0000', 'root\n', 'ro/ot', 'rööt', 'Ro\u0301ot', '', ' root', 'root\u200b', '<b>root</b>'];
        for (const username of bad) {
          await assert.rejects(bootstrap({ username, email: `${unique('root')}@example.com`, password: 'a-long-admin-password' }), /^Error: BOOTSTRAP_ADMIN_USERNAME: /, JSON.stringify(username));
          assert.equal((await queryRows(usersDb, sql`select 1 from users where username = ${username.replaceAll('\u0000', '')}`)).length, 0, JSON.stringify(username));
        }
        const good = unique('root.admin_1-');
        await bootstrap({ username: good, email: `${good}@example.com`, password: 'a-long-admin-password' });
        assert.equal((await queryRows(usersDb, sql`select 1 from users where username = ${good}`)).length, 1);
      });

      test('BOOTSTRAP_ADMIN_EMAIL is stored normalized like a registered address, and an invalid one stops the start', async () => {
        const username = unique('root');
        await bootstrap({ username, email: `  ${username}@Example.COM `, password: 'a-long-admin-password' });
        const [row] = await queryRows<{ email: string; role: string }>(usersDb, sql`select email, role from users where username = ${username}`);
        assert.deepEqual(row, { email: `${username}@example.com`, role: 'admin' });
        const other = unique('root');
        await assert.rejects(bootstrap({ username: other, email: `x<${username}@example.com>`, password: 'a-long-admin-password' }), /^Error: BOOTSTRAP_ADMIN_EMAIL: /);
        assert.equal((await queryRows(usersDb, sql`select 1 from users where username = ${other}`)).length, 0);
      });
    });

    describe('internal look-up of many accounts', () => {
      const path = '/users/internal/lookup';
      const direct = () => new Api(platform.embedded!.services.users.url);

      test('a service reads the accounts asked for, position by position; unknown and deleted ones are null', async () => {
        const [alice, bob, gone] = [await platform.api.signUp(), await platform.api.signUp(), await platform.api.signUp()];
        assert.equal((await platform.api.call('DELETE', `/users/${gone.id}`, { token: gone.token })).status, 204);
        const token = await serviceToken('notifications-service', 'users:read');
        const found = await direct().call('POST', path, { token, json: { ids: [String(bob.id), '987654321', String(gone.id), String(alice.id)] } });
        assert.equal(found.status, 200, JSON.stringify(found.body));
        assert.equal(found.body.object, 'list');
        // Position by position: null where there is no account (unknown, deleted).
        assert.deepEqual(found.body.data.map((u: { id: number; username: string } | null) => u && [u.id, u.username]), [[bob.id, bob.username], null, null, [alice.id, alice.username]]);
        const single = await direct().call('GET', `/users/${alice.id}`, { token });
        assert.deepEqual(found.body.data[3], single.body, 'each account exactly as GET /users/:id shows it');
        assert.ok(found.body.data.every((u: object | null) => u === null || !('password_hash' in u)));
      });

      test('a list that is empty, too long, repeats an id or holds anything but plain numeric ids is 400 and reads nothing', async () => {
        const token = await serviceToken('notifications-service', 'users:read');
        const many = Array.from({ length: 101 }, (_, i) => String(i + 1));
        for (const json of [{}, { ids: [] }, { ids: many }, { ids: ['1', '1'] }, { ids: ['007'] }, { ids: ['abc'] }, { ids: [1] }, { ids: ['-1'] }, { ids: ['1'], more: true }, { ids: '1' }]) {
          const response = await direct().call('POST', path, { token, json });
          assert.equal(response.status, 400, JSON.stringify(json));
          assert.match(response.body.error.code, /^parameter_/, JSON.stringify(response.body));
        }
      });

      test('only a service with users:read may look up: a user or an admin is 403, another scope 403 insufficient_scope, no token 401, and the gateway never routes it', async () => {
        const alice = await platform.api.signUp();
        const json = { ids: [String(alice.id)] };
        assert.equal((await direct().call('POST', path, { token: alice.token, json })).body.error.code, 'forbidden');
        assert.equal((await direct().call('POST', path, { token: adminToken, json })).body.error.code, 'forbidden');
        const other = await direct().call('POST', path, { token: await serviceToken('auth-service', 'users:credentials'), json });
        assert.deepEqual([other.status, other.body.error.code], [403, 'insufficient_scope']);
        assert.equal((await direct().call('POST', path, { json })).status, 401);
        const outside = await platform.api.call('POST', path, { token: await serviceToken('notifications-service', 'users:read'), json });
        assert.deepEqual([outside.status, outside.body.error.code], [404, 'route_not_found']);
      });
    });

    describe('internal credential check', () => {
      const path = credentialCheckPath;
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

  // Its own platform: the limit applies to every credential check of the platform, logins too.
  describe(`users: the internal credential check is rate limited per login name (${backend})`, () => {
    const perMinute = 5;
    let platform: TestPlatform;
    let authToken: string;
    const direct = () => new Api(platform.embedded!.services.users.url);
    const check = (username: string, password: string, token = authToken) => direct().call('POST', credentialCheckPath, { token, json: { username, password } });

    before(async () => {
      platform = await startTestPlatform(backend, { env: { USERS_CREDENTIAL_CHECKS_PER_MINUTE: String(perMinute) } });
      authToken = await signServiceToken(platform, 'auth-service', 'users:credentials users:read');
    });
    after(async () => {
      await platform?.stop();
    });

    test('beyond USERS_CREDENTIAL_CHECKS_PER_MINUTE checks of one login name the check answers 429 rate_limited, even for the right password', async () => {
      const alice = await platform.api.signUp();
      // signUp's login was the first check of this name.
      for (let i = 1; i < perMinute; i++) assert.equal((await check(alice.username, `${alice.password}-${i}`)).status, 401, `check ${i + 1}`);
      for (const [login, password] of [[alice.username, alice.password], [alice.username.toUpperCase(), alice.password], [alice.username, 'wrong-password-0']] as const) {
        const limited = await check(login, password);
        assert.equal(limited.status, 429, login);
        assert.equal(limited.body.error.code, 'rate_limited');
        assert.equal(limited.body.error.type, 'rate_limit_error');
        assert.ok(Number(limited.headers.get('retry-after')) > 0);
        assert.ok(!('user_id' in limited.body));
      }
    });

    test('other login names are unaffected by one name\'s limit', async () => {
      const alice = await platform.api.signUp();
      const bob = await platform.api.signUp();
      for (let i = 0; i < perMinute + 2; i++) await check(alice.username, 'wrong-password-0');
      assert.equal((await check(alice.username, alice.password)).status, 429);
      const ok = await check(bob.username, bob.password);
      assert.equal(ok.status, 200);
      assert.equal(ok.body.user_id, bob.id);
      assert.equal((await check(unique('nobody'), 'wrong-password-0')).status, 401);
      // the same holds for bob's email address as a login name: a name of its own
      assert.equal((await check(`${bob.username}@example.com`, bob.password)).status, 200);
    });

    test('only a service token with users:credentials may call it, and refused callers use up no checks', async () => {
      const carol = await platform.api.signUp();
      const adminToken = await platform.api.adminToken();
      const payments = await signServiceToken(platform, 'payments-service', 'users:read');
      for (let i = 0; i < perMinute + 1; i++) {
        for (const token of [carol.token, adminToken, payments]) {
          const refused = await check(carol.username, carol.password, token);
          assert.equal(refused.status, 403);
          assert.equal(refused.body.error.type, 'permission_error');
        }
      }
      // signUp's login used one check; the refused calls none.
      assert.equal((await check(carol.username, carol.password)).status, 200);
    });
  });
}
