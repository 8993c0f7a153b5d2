// Administration through the gateway: listing and searching accounts, disabling and enabling them,
// changing roles, the limits on what an admin may do to themself and what a body may set, and
// deletion's tombstone. What a change means elsewhere (login, live tokens, payments) travels by
// event, so those checks wait, within a bound.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { backends, eventually, startTestPlatform, type TestPlatform } from '@paymesh/app/testing';
import { queryRows, sql, type Db } from '@paymesh/platform/db/open-database';

const hex = () => randomBytes(5).toString('hex');
/** Letters in both cases matter to the search: the prefix starts with one and has a few more. */
const newPrefix = () => `Pq${hex()}`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/**
 * Token times are whole seconds, and auth's revocation spares tokens of the change's own second (a
 * sign-in right after a change must keep working). A test that means a token to be older than a
 * change, or newer than a revocation, waits for the next second.
 */
const nextSecond = () => sleep(1_000 - (Date.now() % 1_000) + 20);
/** How long an event may take to reach auth, payments and notifications. */
const travelMs = 10_000;

interface ListedUser { id: number; username: string | null; email: string | null; role: string; status: string; email_verified: boolean }
interface StoredUser { id: string; username: string | null; email: string | null; password_hash: string | null; display_name: string | null; pending_email: string | null; email_verified_at: unknown; role: string; status: string; deleted_at: unknown }

for (const backend of backends()) {
  describe(`users: administration (${backend})`, () => {
    let platform: TestPlatform;
    let usersDb: Db;
    let adminToken: string;
    let adminId: number;

    before(async () => {
      platform = await startTestPlatform(backend);
      usersDb = platform.embedded!.services.users.runtime.database.db;
      adminToken = await platform.api.adminToken();
      adminId = (await platform.api.call('GET', '/users/me', { token: adminToken })).body.id;
    });
    after(async () => {
      await platform?.stop();
    });

    const stored = async (id: number) => (await queryRows<StoredUser>(usersDb, sql`select * from users where id = ${String(id)}`))[0];
    const eventsAbout = async (subject: string, id: number) =>
      (await queryRows<{ payload: Record<string, unknown> }>(usersDb, sql`select payload from outbox where subject = ${subject} and payload->>'user_id' = ${String(id)} order by created_at`)).map((r) => r.payload);
    const patch = (id: number | string, json: unknown, token = adminToken) => platform.api.call('PATCH', `/users/${id}`, { token, json });
    const list = (query: string, token = adminToken) => platform.api.call<{ object: string; data: ListedUser[]; has_more: boolean; error?: { type: string; code: string } }>('GET', `/users?${query}`, { token });
    /** Registers without logging in (cheaper); the id is found by the username. */
    const register = async (username: string, email = `${username}@example.com`) => {
      const password = `pw-${hex()}`;
      const response = await platform.api.call('POST', '/users', { json: { username, email, password } });
      assert.equal(response.status, 202, JSON.stringify(response.body));
      const [row] = await queryRows<{ id: string }>(usersDb, sql`select id from users where username = ${username}`);
      return { id: Number(row!.id), username, email, password };
    };
    const pay = (userId: number) => platform.api.call('POST', '/payments', { token: adminToken, json: { amount: 1, user_id: userId } });
    /** Waits until `token` is refused with 401 Invalid token by users, payments and notifications. */
    const refusedEverywhere = (token: string) => eventually(async () => {
      for (const path of ['/users/me', '/payments', '/notifications/']) {
        const response = await platform.api.call('GET', path, { token });
        if (response.status !== 401) return undefined;
        assert.equal(response.body.message, 'Invalid token', path);
      }
      return true;
    }, { timeoutMs: travelMs, intervalMs: 50 });
    /** A user promoted to admin, logged in again (their first token said user). */
    const newAdmin = async () => {
      const user = await platform.api.signUp();
      assert.equal((await patch(user.id, { role: 'admin' })).status, 200);
      const token = await platform.api.login(user.username, user.password);
      assert.equal((await list('limit=1', token)).status, 200);
      return { ...user, token };
    };

    describe('listing', () => {
      test('limit=10 pages through 25 matching users: each once, in id order, has_more false only on the last page', async () => {
        const prefix = newPrefix();
        const created: { id: number; username: string }[] = [];
        for (let batch = 0; batch < 5; batch++) {
          created.push(...await Promise.all(Array.from({ length: 5 }, (_, i) => register(`${prefix}_${batch * 5 + i}`))));
        }
        const pages: ListedUser[][] = [];
        const hasMore: boolean[] = [];
        let cursor: number | undefined;
        do {
          const page = await list(`limit=10&q=${prefix}${cursor === undefined ? '' : `&starting_after=${cursor}`}`);
          assert.equal(page.status, 200, JSON.stringify(page.body));
          assert.equal(page.body.object, 'list');
          pages.push(page.body.data);
          hasMore.push(page.body.has_more);
          cursor = page.body.data.at(-1)?.id;
        } while (hasMore.at(-1) === true && pages.length < 10);
        assert.deepEqual(pages.map((p) => p.length), [10, 10, 5]);
        assert.deepEqual(hasMore, [true, true, false]);
        const ids = pages.flat().map((u) => u.id);
        assert.deepEqual(ids, created.map((u) => u.id).sort((a, b) => a - b));
        assert.deepEqual(new Set(pages.flat().map((u) => u.username)), new Set(created.map((u) => u.username)));
        for (const user of pages.flat()) assert.ok(!('password_hash' in user));

        // A cursor in the middle goes on right after it; one past the end gives an empty page.
        const middle = await list(`limit=3&q=${prefix}&starting_after=${ids[11]}`);
        assert.deepEqual(middle.body.data.map((u) => u.id), ids.slice(12, 15));
        assert.equal(middle.body.has_more, true);
        const beyond = await list(`limit=10&q=${prefix}&starting_after=${ids.at(-1)}`);
        assert.deepEqual([beyond.body.data, beyond.body.has_more], [[], false]);
      });

      test('q matches a prefix of the username or of the email address, in any case, and nothing in the middle', async () => {
        const prefix = newPrefix();
        const byName = await register(`${prefix}Alpha`, `x${hex()}@example.com`);
        const byEmail = await register(`y${hex()}`, `${prefix}Beta@example.com`);
        await register(`z${hex()}${prefix}`, `z${hex()}${prefix}@example.com`);
        for (const q of [prefix, prefix.toUpperCase(), prefix.toLowerCase()]) {
          const found = await list(`q=${q}`);
          assert.equal(found.status, 200);
          assert.deepEqual(found.body.data.map((u) => u.id), [byName.id, byEmail.id], q);
        }
        assert.deepEqual((await list(`q=${prefix.toUpperCase()}ALPHA`)).body.data.map((u) => u.id), [byName.id]);
        assert.deepEqual((await list(`q=${encodeURIComponent(`${prefix.toLowerCase()}beta@EXAMPLE`)}`)).body.data.map((u) => u.id), [byEmail.id]);
        assert.deepEqual((await list(`q=${prefix.slice(2)}`)).body.data, []);
      });

      test('% and _ in q are literal characters, not wildcards', async () => {
        const prefix = newPrefix();
        const underscore = await register(`${prefix}_x`);
        await register(`${prefix}ax`);
        const percent = await register(`w${hex()}`, `${prefix}%y@example.com`);
        assert.deepEqual((await list(`q=${encodeURIComponent(`${prefix}_`)}`)).body.data.map((u) => u.id), [underscore.id]);
        assert.deepEqual((await list(`q=${encodeURIComponent(`${prefix}%`)}`)).body.data.map((u) => u.id), [percent.id]);
        for (const q of ['%', '_', '%%', '\\']) {
          const found = await list(`limit=100&q=${encodeURIComponent(q)}`);
          assert.equal(found.status, 200, q);
          for (const user of found.body.data) assert.ok(user.username?.startsWith(q) === true || user.email?.startsWith(q) === true, `${q}: ${user.username} ${user.email}`);
        }
        assert.deepEqual((await list(`q=${encodeURIComponent(`${prefix}\\`)}`)).body.data, []);
      });

      test('role filters by role', async () => {
        const prefix = newPrefix();
        const promoted = await register(`${prefix}_a`);
        const plain = await register(`${prefix}_b`);
        assert.equal((await patch(promoted.id, { role: 'admin' })).status, 200);
        assert.deepEqual((await list(`q=${prefix}&role=admin`)).body.data.map((u) => u.id), [promoted.id]);
        assert.deepEqual((await list(`q=${prefix}&role=user`)).body.data.map((u) => u.id), [plain.id]);
        const admins = await list('role=admin&limit=100');
        assert.ok(admins.body.data.some((u) => u.id === adminId));
        assert.ok(admins.body.data.every((u) => u.role === 'admin'));
      });

      test('status filters by status; deleted accounts are listed only when status=deleted is asked for', async () => {
        const prefix = newPrefix();
        const start = (await register(`${prefix}_0`)).id - 1;
        const active = await register(`${prefix}_1`);
        const disabled = await register(`${prefix}_2`);
        const deleted = await register(`${prefix}_3`);
        assert.equal((await patch(disabled.id, { status: 'disabled' })).status, 200);
        assert.equal((await platform.api.call('DELETE', `/users/${deleted.id}`, { token: adminToken })).status, 204);
        const ours = new Set([active.id, disabled.id, deleted.id]);
        const idsWith = async (query: string) => {
          const found = await list(`limit=100&starting_after=${start}${query}`);
          assert.equal(found.status, 200, query);
          return found.body;
        };
        const every = await idsWith('');
        assert.deepEqual(every.data.map((u) => u.id).filter((id) => ours.has(id)), [active.id, disabled.id]);
        assert.ok(every.data.every((u) => u.status !== 'deleted'));
        for (const [status, expected] of [['active', active.id], ['disabled', disabled.id], ['deleted', deleted.id]] as const) {
          const found = await idsWith(`&status=${status}`);
          assert.deepEqual(found.data.map((u) => u.id).filter((id) => ours.has(id)), [expected], status);
          assert.ok(found.data.every((u) => u.status === status), status);
        }
        const tombstone = (await idsWith('&status=deleted')).data.find((u) => u.id === deleted.id)!;
        assert.deepEqual([tombstone.username, tombstone.email], [null, null]);
      });

      test('email_verified filters by whether the address is confirmed', async () => {
        const prefix = newPrefix();
        const verified = await register(`${prefix}_v`);
        const unverified = await register(`${prefix}_u`);
        await platform.confirmEmail(verified.id);
        assert.deepEqual((await list(`q=${prefix}&email_verified=true`)).body.data.map((u) => u.id), [verified.id]);
        assert.deepEqual((await list(`q=${prefix}&email_verified=false`)).body.data.map((u) => u.id), [unverified.id]);
        assert.deepEqual((await list(`q=${prefix}`)).body.data.map((u) => [u.id, u.email_verified]), [[verified.id, true], [unverified.id, false]]);
      });

      test('bad query parameters are refused with 400', async () => {
        const bad = [
          'limit=0', 'limit=101', 'limit=abc', 'limit=-1', 'limit=1.5', 'limit=', 'limit=010', 'limit=1&limit=2',
          'starting_after=abc', 'starting_after=0', 'starting_after=-1', 'starting_after=01', 'starting_after=1e3', `starting_after=${'9'.repeat(19)}`, 'starting_after=1000000000000000',
          'role=superuser', 'role=ADMIN', 'status=gone', 'status=', 'email_verified=yes', 'email_verified=1',
          'q=', `q=${'x'.repeat(255)}`, 'page=2', 'sort=username',
        ];
        for (const query of bad) {
          const response = await list(query);
          assert.equal(response.status, 400, `${query}: ${JSON.stringify(response.body)}`);
          assert.equal(response.body.error?.type, 'invalid_request_error', query);
        }
      });
    });

    describe('disabling and enabling', () => {
      test('a disabled user cannot log in: the answer is the very 401 of a wrong password', async () => {
        const alice = await platform.api.signUp();
        const bob = await platform.api.signUp();
        const disabled = await patch(alice.id, { status: 'disabled' });
        assert.equal(disabled.status, 200);
        assert.deepEqual([disabled.body.id, disabled.body.status], [alice.id, 'disabled']);
        assert.equal((await stored(alice.id))?.status, 'disabled');
        const refused = await platform.api.call('POST', '/auth/login', { json: { username: alice.username, password: alice.password } });
        const byEmail = await platform.api.call('POST', '/auth/login', { json: { username: `${alice.username}@example.com`, password: alice.password } });
        const wrong = await platform.api.call('POST', '/auth/login', { json: { username: bob.username, password: `${bob.password}x` } });
        assert.equal(wrong.status, 401);
        for (const response of [refused, byEmail]) {
          assert.equal(response.status, 401);
          assert.deepEqual(response.body, wrong.body);
        }
        assert.deepEqual(await eventsAbout('user.disabled', alice.id), [{ user_id: alice.id }]);
      });

      test("a disabled user's live token is refused by users, payments and notifications within a bounded wait", async () => {
        const alice = await platform.api.signUp();
        assert.equal((await platform.api.call('GET', '/payments', { token: alice.token })).status, 200);
        assert.equal((await patch(alice.id, { status: 'disabled' })).status, 200);
        await refusedEverywhere(alice.token);
      });

      test('payments refuses a payment for a disabled user with 403 user_disabled once the event has arrived', async () => {
        const alice = await platform.api.signUp();
        assert.equal((await pay(alice.id)).status, 200);
        assert.equal((await patch(alice.id, { status: 'disabled' })).status, 200);
        const refused = await eventually(async () => {
          const response = await pay(alice.id);
          return response.status === 200 ? undefined : response;
        }, { timeoutMs: travelMs, intervalMs: 50 });
        assert.equal(refused.status, 403, JSON.stringify(refused.body));
        assert.equal(refused.body.error.code, 'user_disabled');
      });

      test('enabling a disabled user lets them log in, use the new token and pay again; the old token stays refused', async () => {
        const alice = await platform.api.signUp();
        assert.equal((await patch(alice.id, { status: 'disabled' })).status, 200);
        await refusedEverywhere(alice.token);
        await eventually(async () => ((await pay(alice.id)).status === 403 ? true : undefined), { timeoutMs: travelMs, intervalMs: 50 });
        // The revocation covers every token of the second auth handled it in.
        await nextSecond();
        const enabled = await patch(alice.id, { status: 'active' });
        assert.deepEqual([enabled.status, enabled.body.status], [200, 'active']);
        const token = await platform.api.login(alice.username, alice.password);
        for (const path of ['/users/me', '/payments', '/notifications/']) assert.equal((await platform.api.call('GET', path, { token })).status, 200, path);
        await eventually(async () => ((await pay(alice.id)).status === 200 ? true : undefined), { timeoutMs: travelMs, intervalMs: 50 });
        assert.equal((await platform.api.call('GET', '/users/me', { token: alice.token })).status, 401);
        assert.deepEqual(await eventsAbout('user.enabled', alice.id), [{ user_id: alice.id }]);
      });

      test('disabling twice announces it once; unknown, malformed and deleted ids are 404', async () => {
        const alice = await platform.api.signUp();
        assert.equal((await patch(alice.id, { status: 'disabled' })).status, 200);
        assert.equal((await patch(alice.id, { status: 'disabled' })).status, 200);
        assert.equal((await eventsAbout('user.disabled', alice.id)).length, 1);
        const gone = await platform.api.signUp();
        assert.equal((await platform.api.call('DELETE', `/users/${gone.id}`, { token: adminToken })).status, 204);
        for (const id of [gone.id, 987654321, 'abc', '0', `0${alice.id}`, '-1', '9'.repeat(19)]) {
          for (const status of ['disabled', 'active']) {
            const response = await patch(id, { status });
            assert.equal(response.status, 404, `${id} ${status}`);
            assert.equal(response.body.error.code, 'user_not_found');
          }
        }
        assert.equal((await stored(gone.id))?.status, 'deleted');
        assert.equal((await stored(alice.id))?.status, 'disabled');
      });
    });

    describe('roles', () => {
      test("promoting a user: the change is announced, their old token is refused, and a fresh login can list users", async () => {
        const alice = await platform.api.signUp();
        assert.equal((await list('limit=1', alice.token)).status, 403);
        await nextSecond();
        const promoted = await patch(alice.id, { role: 'admin' });
        assert.deepEqual([promoted.status, promoted.body.role], [200, 'admin']);
        assert.deepEqual(await eventsAbout('user.updated', alice.id), [{ user_id: alice.id, changes: ['role'], role: 'admin' }]);
        await refusedEverywhere(alice.token);
        const token = await platform.api.login(alice.username, alice.password);
        const listed = await list('limit=1', token);
        assert.equal(listed.status, 200, JSON.stringify(listed.body));
      });

      test('demoting an admin: their old admin token no longer lists users, at once, and is refused everywhere; a fresh login gets 403', async () => {
        const alice = await newAdmin();
        await nextSecond();
        const demoted = await patch(alice.id, { role: 'user' });
        assert.deepEqual([demoted.status, demoted.body.role], [200, 'user']);
        // Refused right away by the users service, before the revocation has travelled.
        const stale = await list('limit=1', alice.token);
        assert.ok([401, 403].includes(stale.status), `${stale.status} ${JSON.stringify(stale.body)}`);
        const staleAdministers = await patch(adminId, { display_name: 'taken over' }, alice.token);
        assert.ok([401, 404].includes(staleAdministers.status), `${staleAdministers.status}`);
        await refusedEverywhere(alice.token);
        const token = await platform.api.login(alice.username, alice.password);
        const listed = await list('limit=1', token);
        assert.equal(listed.status, 403);
        assert.equal(listed.body.error?.code, 'forbidden');
        assert.equal((await platform.api.call('GET', '/users/me', { token })).body.role, 'user');
        assert.notEqual((await stored(adminId))?.display_name, 'taken over');
      });

      test('an admin cannot disable or demote themself (400 own_access) and nothing changes; other changes to themself are allowed', async () => {
        const alice = await newAdmin();
        const before = await stored(alice.id);
        for (const body of [{ status: 'disabled' }, { role: 'user' }, { role: 'user', display_name: 'Changed' }, { status: 'disabled', role: 'admin' }]) {
          const response = await patch(alice.id, body, alice.token);
          assert.equal(response.status, 400, JSON.stringify(body));
          assert.equal(response.body.error.code, 'own_access');
        }
        // Not by another spelling of their id either.
        for (const id of [`0${alice.id}`, `00${alice.id}`]) assert.notEqual((await patch(id, { status: 'disabled' }, alice.token)).status, 200, id);
        const bootstrap = await patch(adminId, { status: 'disabled' });
        assert.deepEqual([bootstrap.status, bootstrap.body.error?.code], [400, 'own_access']);
        assert.deepEqual(await stored(alice.id), before);
        assert.equal((await stored(adminId))?.status, 'active');
        assert.deepEqual([...await eventsAbout('user.disabled', alice.id), ...await eventsAbout('user.disabled', adminId)], []);
        assert.equal((await list('limit=1', alice.token)).status, 200);

        const renamed = await patch(alice.id, { display_name: 'Alice', role: 'admin', status: 'active' }, alice.token);
        assert.deepEqual([renamed.status, renamed.body.display_name, renamed.body.role, renamed.body.status], [200, 'Alice', 'admin', 'active']);
      });

      test('two admins demoting or disabling each other at the same moment: one wins, the other is refused, one admin is left', async () => {
        for (const change of [{ role: 'user' }, { status: 'disabled' }]) {
          const [alice, bob] = await Promise.all([newAdmin(), newAdmin()]);
          const responses = await Promise.all([patch(bob.id, change, alice.token), patch(alice.id, change, bob.token)]);
          const statuses = responses.map((r) => r.status).sort();
          // The loser is no admin any more: 404 (users saw the change), or 401 when auth's revocation
          // of their token was quicker still.
          assert.equal(statuses[0], 200, JSON.stringify(change));
          assert.ok([401, 404].includes(statuses[1]!), `${JSON.stringify(change)}: ${statuses}`);
          const rows = [await stored(alice.id), await stored(bob.id)];
          const stillAdmins = rows.filter((r) => r?.role === 'admin' && r.status === 'active');
          assert.equal(stillAdmins.length, 1, JSON.stringify(rows.map((r) => [r?.role, r?.status])));
        }
      });
    });

    describe('the last admin', () => {
      test('the last active admin cannot delete their account (400 last_admin, both routes) and stays; with another admin, an admin may delete their own', async () => {
        // Every other active admin goes first (earlier tests made some).
        const others = await queryRows<{ id: string }>(usersDb, sql`select id from users where role = 'admin' and status = 'active' and id <> ${String(adminId)}`);
        for (const { id } of others) assert.equal((await platform.api.call('DELETE', `/users/${id}`, { token: adminToken })).status, 204, id);
        for (const [method, path, json] of [['DELETE', `/users/${adminId}`, undefined], ['POST', '/users/delete_user', { user_id: adminId }]] as const) {
          const refused = await platform.api.call(method, path, { token: adminToken, json });
          assert.equal(refused.status, 400, `${method} ${path}: ${JSON.stringify(refused.body)}`);
          assert.equal(refused.body.error.code, 'last_admin');
        }
        assert.equal((await stored(adminId))?.status, 'active');
        assert.deepEqual(await eventsAbout('user.deleted', adminId), []);
        // A user deleting their account while an admin changes it: one waits for the other (the
        // locks are taken in one order), never a deadlock answered 500.
        // The admin is newer than the user (a higher id): its change locks the user's row first.
        for (let round = 0; round < 5; round++) {
          const user = await platform.api.signUp();
          const admin = await newAdmin();
          const [deleted, changed] = await Promise.all([
            platform.api.call('DELETE', `/users/${user.id}`, { token: user.token }),
            patch(user.id, { display_name: `Round ${round}` }, admin.token),
          ]);
          assert.equal(deleted.status, 204, JSON.stringify(deleted.body));
          assert.ok([200, 404].includes(changed.status), `${changed.status} ${JSON.stringify(changed.body)}`);
        }
        // With a second admin, either may go.
        const alice = await newAdmin();
        assert.equal((await platform.api.call('DELETE', `/users/${alice.id}`, { token: alice.token })).status, 204);
        assert.equal((await stored(alice.id))?.status, 'deleted');
      });
    });

    describe('what a body may set', () => {
      test('PATCH /users/me refuses role, status, id and every other field not a profile field with 400 parameter_unknown, changing nothing', async () => {
        const alice = await platform.api.signUp();
        const before = await stored(alice.id);
        const bodies: [Record<string, unknown>, string][] = [
          [{ role: 'admin' }, 'role'],
          [{ status: 'active' }, 'status'],
          [{ status: 'deleted' }, 'status'],
          [{ id: 1 }, 'id'],
          [{ username: 'someone_else' }, 'username'],
          [{ email_verified: true }, 'email_verified'],
          [{ email_verified_at: '2020-01-01T00:00:00Z' }, 'email_verified_at'],
          [{ password: 'a-new-password-1' }, 'password'],
          [{ password_hash: 'x' }, 'password_hash'],
          [{ display_name: 'Alice', role: 'admin' }, 'role'],
        ];
        for (const [body, param] of bodies) {
          const response = await platform.api.call('PATCH', '/users/me', { token: alice.token, json: body });
          assert.equal(response.status, 400, JSON.stringify(body));
          assert.equal(response.body.error.code, 'parameter_unknown', JSON.stringify(body));
          assert.equal(response.body.error.param, param, JSON.stringify(body));
        }
        assert.equal((await platform.api.call('PATCH', '/users/me', { token: alice.token, json: {} })).status, 400);
        assert.deepEqual(await stored(alice.id), before);
        assert.equal((await platform.api.call('GET', '/users/me', { token: alice.token })).body.role, 'user');
      });

      test('PATCH /users/:id refuses what an admin may not set (email, password, id, username…) with 400, changing nothing', async () => {
        const alice = await platform.api.signUp();
        const before = await stored(alice.id);
        const unknown: [Record<string, unknown>, string][] = [
          [{ email: 'taken-over@example.com' }, 'email'],
          [{ password: 'a-new-password-1' }, 'password'],
          [{ password_hash: 'x' }, 'password_hash'],
          [{ id: 1 }, 'id'],
          [{ username: 'renamed' }, 'username'],
          [{ email_verified: true }, 'email_verified'],
          [{ deleted_at: null }, 'deleted_at'],
          [{ role: 'admin', email: 'taken-over@example.com' }, 'email'],
        ];
        for (const [body, param] of unknown) {
          const response = await patch(alice.id, body);
          assert.equal(response.status, 400, JSON.stringify(body));
          assert.equal(response.body.error.code, 'parameter_unknown', JSON.stringify(body));
          assert.equal(response.body.error.param, param, JSON.stringify(body));
        }
        for (const body of [{}, { status: 'deleted' }, { role: 'root' }, { role: 'ADMIN' }, { status: null }, { display_name: '' }, { display_name: 'x'.repeat(101) }]) {
          assert.equal((await patch(alice.id, body)).status, 400, JSON.stringify(body));
        }
        assert.deepEqual(await stored(alice.id), before);
        assert.deepEqual(await eventsAbout('user.updated', alice.id), []);
      });
    });

    describe('deletion', () => {
      test('deleting a user keeps a tombstone: the row with its personal data erased, status deleted, its emailed links gone', async () => {
        const alice = await platform.api.signUp();
        assert.equal((await platform.api.call('PATCH', '/users/me', { token: alice.token, json: { display_name: 'Alice', email: `new-${alice.username}@example.com`, current_password: alice.password } })).status, 200);
        assert.equal((await platform.api.call('POST', '/users/password-reset', { json: { email: `${alice.username}@example.com` } })).status, 202);
        const links = async () => Number((await queryRows<{ n: number }>(usersDb, sql`select count(*)::int as n from user_tokens where user_id = ${String(alice.id)}`))[0]!.n);
        // verify (registration), verify (new address), reset: the reset is issued after the answer.
        await eventually(async () => ((await links()) === 3 ? true : undefined), { timeoutMs: 5_000 });
        assert.equal((await platform.api.call('DELETE', `/users/${alice.id}`, { token: adminToken })).status, 204);
        const row = await stored(alice.id);
        assert.deepEqual(
          { username: row?.username, email: row?.email, password_hash: row?.password_hash, display_name: row?.display_name, pending_email: row?.pending_email, email_verified_at: row?.email_verified_at, status: row?.status },
          { username: null, email: null, password_hash: null, display_name: null, pending_email: null, email_verified_at: null, status: 'deleted' },
        );
        assert.notEqual(row?.deleted_at, null);
        assert.equal(await links(), 0);
        assert.deepEqual(await eventsAbout('user.deleted', alice.id), [{ user_id: alice.id }]);
        // Not to be administered any more, nor deleted twice.
        assert.equal((await patch(alice.id, { display_name: 'Back' })).status, 404);
        assert.equal((await platform.api.call('DELETE', `/users/${alice.id}`, { token: adminToken })).status, 404);
        assert.equal((await stored(alice.id))?.display_name, null);
      });

      test("a deleted user's id is never reused: registering the same username and email again gives a new id", async () => {
        const alice = await platform.api.signUp();
        assert.equal((await platform.api.call('DELETE', `/users/${alice.id}`, { token: alice.token })).status, 204);
        const again = await platform.api.signUp(alice.username, `pw-${hex()}`);
        assert.ok(again.id > alice.id);
        assert.equal((await stored(alice.id))?.status, 'deleted');
        assert.equal((await stored(again.id))?.username, alice.username);
        assert.equal((await platform.api.call('GET', `/users/${alice.id}`, { token: again.token })).status, 404);
      });

      test("a deleted user's tokens are refused by users, payments and notifications within a bounded wait", async () => {
        const alice = await platform.api.signUp();
        assert.equal((await platform.api.call('GET', '/notifications/', { token: alice.token })).status, 200);
        assert.equal((await platform.api.call('POST', '/users/delete_user', { token: adminToken, json: { user_id: alice.id } })).status, 200);
        await refusedEverywhere(alice.token);
      });

      test("payments refuses new payments for a deleted user's id with 404 user_not_found", async () => {
        const alice = await platform.api.signUp();
        assert.equal((await pay(alice.id)).status, 200);
        assert.equal((await platform.api.call('DELETE', `/users/${alice.id}`, { token: adminToken })).status, 204);
        const refused = await eventually(async () => {
          const response = await pay(alice.id);
          return response.status === 200 ? undefined : response;
        }, { timeoutMs: travelMs, intervalMs: 50 });
        assert.equal(refused.status, 404, JSON.stringify(refused.body));
        assert.equal(refused.body.error.code, 'user_not_found');
      });
    });
  });
}
