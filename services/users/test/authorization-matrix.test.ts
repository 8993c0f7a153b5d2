// Who may call what on the users service: every endpoint, through the gateway, for each kind of
// caller (nobody, a garbage token, another user, the user themself, an admin, a platform service).
// One test per cell, so that a failure names the endpoint and the caller. A cell that changes
// state gets a user of its own; a refused call must leave the user's row as it was.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { importJWK, SignJWT, type JWK } from 'jose';
import { Api, backends, serviceClientsEnv, startTestPlatform, type ApiResponse, type TestPlatform } from '@paymesh/app/testing';
import { queryRows, sql, type Db } from '@paymesh/platform/db/open-database';

// The platform's service clients with secrets this test knows (given to the platform), so that a
// service can get its token at the token endpoint as in production.
const secrets = { users: randomBytes(32).toString('base64url'), payments: randomBytes(32).toString('base64url'), notifications: randomBytes(32).toString('base64url') };

type CallerName = 'anonymous' | 'garbage token' | 'another user' | 'the user themself' | 'an admin' | 'a service (users:read)' | "auth's service token (users:credentials)";
const everyCaller: CallerName[] = ['anonymous', 'garbage token', 'another user', 'the user themself', 'an admin', 'a service (users:read)'];

interface Target { id: number; username: string; password: string; token: string }
interface StoredUser { username: string | null; email: string | null; password_hash: string | null; display_name: string | null; role: string; status: string }
interface Request { method: string; path: string; json?: unknown; direct?: boolean }
interface Expected {
  status: number;
  /** error.code of a refusal. */
  code?: string;
  /** The exact body (public endpoints: everyone gets the same answer). */
  body?: unknown;
  /** An HTML page. */
  html?: boolean;
  /** More checks on an accepted call; `stored` reads the target's row in the users database, `before` is the row before the call. */
  check?: (response: ApiResponse, target: Target, stored: () => Promise<StoredUser | undefined>, before: StoredUser | undefined) => void | Promise<void>;
}
interface Endpoint {
  readonly name: string;
  /** Each cell gets a user of its own (the call deletes, promotes or changes a password). */
  readonly changesState?: boolean;
  readonly request: (target: Target) => Request;
  /** Public endpoints: the one answer for every caller. */
  readonly everyone?: Expected;
  readonly cells?: Partial<Record<CallerName, Expected>>;
}

const unique = (prefix: string) => `${prefix}${randomBytes(5).toString('hex')}`;
const registration = () => {
  const username = unique('mx');
  return { username, email: `${username}@example.com`, password: `pw-${randomBytes(8).toString('hex')}` };
};
/** A well-formed link token that was never issued. */
const unknownLinkToken = () => randomBytes(32).toString('base64url');

const unauthenticated: Partial<Record<CallerName, Expected>> = {
  'anonymous': { status: 401, code: 'authorization_missing' },
  'garbage token': { status: 401, code: 'invalid_token' },
};
const registered = { object: 'registration', message: 'Check your email: follow the link we sent to confirm your address. You can log in now.' };
const resetAsked = { object: 'password_reset', message: 'If an account has this email address, a link to reset its password is on its way. It works once, for 15 minutes.' };

const endpoints: Endpoint[] = [
  // Public: the token, good or bad, changes nothing.
  { name: 'POST /users', request: () => ({ method: 'POST', path: '/users', json: registration() }), everyone: { status: 202, body: registered } },
  { name: 'POST /users/create_user (contract)', request: () => ({ method: 'POST', path: '/users/create_user', json: registration() }), everyone: { status: 200, body: { success: true, message: 'User created successfully' } } },
  { name: 'GET /users/verify-email', request: () => ({ method: 'GET', path: `/users/verify-email?token=${unknownLinkToken()}` }), everyone: { status: 200, html: true } },
  { name: 'POST /users/verify-email', request: () => ({ method: 'POST', path: '/users/verify-email', json: { token: unknownLinkToken() } }), everyone: { status: 400, code: 'token_invalid' } },
  { name: 'GET /users/password-reset', request: () => ({ method: 'GET', path: '/users/password-reset' }), everyone: { status: 200, html: true } },
  { name: 'POST /users/password-reset', request: (t) => ({ method: 'POST', path: '/users/password-reset', json: { email: `${t.username}@example.com` } }), everyone: { status: 202, body: resetAsked } },
  { name: 'GET /users/password-reset/confirm', request: () => ({ method: 'GET', path: `/users/password-reset/confirm?token=${unknownLinkToken()}` }), everyone: { status: 200, html: true } },
  { name: 'POST /users/password-reset/confirm', request: () => ({ method: 'POST', path: '/users/password-reset/confirm', json: { token: unknownLinkToken(), new_password: 'a-brand-new-password-1' } }), everyone: { status: 400, code: 'token_invalid' } },

  // Bearer: one's own account.
  {
    name: 'GET /users/me',
    request: () => ({ method: 'GET', path: '/users/me' }),
    cells: {
      // Each user reads themself: "me" is the token's subject, never someone else.
      'another user': { status: 200, check: (r, t) => assert.notEqual(r.body.id, t.id) },
      'the user themself': { status: 200, check: (r, t) => assert.equal(r.body.id, t.id) },
      'an admin': { status: 200, check: (r) => assert.equal(r.body.username, 'admin') },
      'a service (users:read)': { status: 403, code: 'forbidden' },
    },
  },
  {
    name: 'PATCH /users/me',
    request: () => ({ method: 'PATCH', path: '/users/me', json: { display_name: 'Matrix' } }),
    cells: {
      'another user': { status: 200, check: (r, t) => assert.notEqual(r.body.id, t.id) },
      'the user themself': { status: 200, check: (r, t) => assert.deepEqual([r.body.id, r.body.display_name], [t.id, 'Matrix']) },
      'an admin': { status: 200, check: (r) => assert.equal(r.body.username, 'admin') },
      'a service (users:read)': { status: 403, code: 'insufficient_scope' },
    },
  },
  {
    name: 'DELETE /users/me',
    changesState: true,
    request: () => ({ method: 'DELETE', path: '/users/me' }),
    cells: {
      // Only the token's own subject goes: never the account a caller might have meant. (Another
      // user and the admin would delete themselves here, and both are shared by the other cells.)
      'the user themself': { status: 204, check: async (_r, _t, stored) => assert.equal((await stored())?.status, 'deleted') },
      'a service (users:read)': { status: 403, code: 'forbidden' },
    },
  },
  {
    name: 'POST /users/me/password',
    changesState: true,
    // The body carries the target's current password: only the target's own token can use it.
    request: (t) => ({ method: 'POST', path: '/users/me/password', json: { current_password: t.password, new_password: `new-${randomBytes(8).toString('hex')}` } }),
    cells: {
      'another user': { status: 400, code: 'current_password_invalid' },
      'the user themself': { status: 200, check: async (r, _t, stored, before) => {
        assert.equal(r.body.changed, true);
        assert.notEqual((await stored())?.password_hash, before?.password_hash);
      } },
      'an admin': { status: 400, code: 'current_password_invalid' },
      'a service (users:read)': { status: 403, code: 'insufficient_scope' },
    },
  },
  {
    name: 'POST /users/me/verify-email',
    request: () => ({ method: 'POST', path: '/users/me/verify-email' }),
    cells: {
      'another user': { status: 202 },
      'the user themself': { status: 202 },
      'an admin': { status: 202 },
      'a service (users:read)': { status: 403, code: 'insufficient_scope' },
    },
  },

  // Bearer: an account by id.
  {
    name: 'GET /users/:id',
    request: (t) => ({ method: 'GET', path: `/users/${t.id}` }),
    cells: {
      'another user': { status: 404, code: 'user_not_found' },
      'the user themself': { status: 200, check: (r, t) => assert.equal(r.body.id, t.id) },
      'an admin': { status: 200, check: (r, t) => assert.equal(r.body.id, t.id) },
      'a service (users:read)': { status: 200, check: (r, t) => assert.equal(r.body.id, t.id) },
    },
  },
  {
    name: 'DELETE /users/:id',
    changesState: true,
    request: (t) => ({ method: 'DELETE', path: `/users/${t.id}` }),
    cells: {
      'another user': { status: 404, code: 'user_not_found' },
      'the user themself': { status: 204, check: async (_r, _t, stored) => assert.equal((await stored())?.status, 'deleted') },
      'an admin': { status: 204, check: async (_r, _t, stored) => assert.equal((await stored())?.status, 'deleted') },
      'a service (users:read)': { status: 403, code: 'forbidden' },
    },
  },
  {
    name: 'POST /users/delete_user (contract)',
    changesState: true,
    request: (t) => ({ method: 'POST', path: '/users/delete_user', json: { user_id: t.id } }),
    cells: {
      'another user': { status: 404, code: 'user_not_found', check: (r) => assert.deepEqual([r.body.success, r.body.message], [false, 'User not found']) },
      'the user themself': { status: 200, body: { success: true, message: 'User deleted successfully' }, check: async (_r, _t, stored) => assert.equal((await stored())?.status, 'deleted') },
      'an admin': { status: 200, body: { success: true, message: 'User deleted successfully' }, check: async (_r, _t, stored) => assert.equal((await stored())?.status, 'deleted') },
      'a service (users:read)': { status: 403, code: 'forbidden' },
    },
  },

  // Admin only.
  {
    name: 'GET /users',
    request: () => ({ method: 'GET', path: '/users?limit=2' }),
    cells: {
      'another user': { status: 403, code: 'forbidden' },
      'the user themself': { status: 403, code: 'forbidden' },
      'an admin': { status: 200, check: (r) => assert.deepEqual([r.body.object, r.body.data.length, r.body.has_more], ['list', 2, true]) },
      'a service (users:read)': { status: 403, code: 'forbidden' },
    },
  },
  {
    name: 'PATCH /users/:id',
    changesState: true,
    request: (t) => ({ method: 'PATCH', path: `/users/${t.id}`, json: { role: 'admin' } }),
    cells: {
      'another user': { status: 404, code: 'user_not_found' },
      // Nobody promotes themself.
      'the user themself': { status: 403, code: 'forbidden' },
      'an admin': { status: 200, check: async (r, t, stored) => {
        assert.deepEqual([r.body.id, r.body.role], [t.id, 'admin']);
        assert.equal((await stored())?.role, 'admin');
      } },
      'a service (users:read)': { status: 403, code: 'forbidden' },
    },
  },

  // Internal: the look-up of many accounts (notifications' email addresses). Never routed by the gateway.
  {
    name: 'POST /users/internal/lookup through the gateway',
    request: (t) => ({ method: 'POST', path: '/users/internal/lookup', json: { ids: [String(t.id)] } }),
    cells: Object.fromEntries([...everyCaller, "auth's service token (users:credentials)" as const].map((c) => [c, { status: 404, code: 'route_not_found' }])),
  },
  {
    name: 'POST /users/internal/lookup on the users service',
    request: (t) => ({ method: 'POST', path: '/users/internal/lookup', json: { ids: [String(t.id)] }, direct: true }),
    cells: {
      'another user': { status: 403, code: 'forbidden' },
      'the user themself': { status: 403, code: 'forbidden' },
      'an admin': { status: 403, code: 'forbidden' },
      'a service (users:read)': { status: 200, check: (r, t) => assert.deepEqual(r.body.data.map((u: { id: number }) => u.id), [t.id]) },
      // Auth's own token carries users:read beside users:credentials.
      "auth's service token (users:credentials)": { status: 200, check: (r, t) => assert.deepEqual(r.body.data.map((u: { id: number }) => u.id), [t.id]) },
    },
  },

  // Internal: auth's credential check. Never routed by the gateway, whoever asks.
  {
    name: 'POST /users/internal/verify-credentials through the gateway',
    request: (t) => ({ method: 'POST', path: '/users/internal/verify-credentials', json: { username: t.username, password: t.password } }),
    cells: Object.fromEntries([...everyCaller, "auth's service token (users:credentials)" as const].map((c) => [c, { status: 404, code: 'route_not_found' }])),
  },
  {
    name: 'POST /users/internal/verify-credentials on the users service',
    request: (t) => ({ method: 'POST', path: '/users/internal/verify-credentials', json: { username: t.username, password: t.password }, direct: true }),
    cells: {
      'another user': { status: 403, code: 'forbidden' },
      'the user themself': { status: 403, code: 'forbidden' },
      'an admin': { status: 403, code: 'forbidden' },
      'a service (users:read)': { status: 403, code: 'insufficient_scope' },
      "auth's service token (users:credentials)": { status: 200, check: (r, t) => assert.deepEqual(r.body, { user_id: t.id, username: t.username, role: 'user' }) },
    },
  },
];

for (const backend of backends()) {
  describe(`users: the authorization matrix (${backend})`, () => {
    let platform: TestPlatform;
    let usersDb: Db;
    let direct: Api;
    let adminToken: string;
    let serviceToken: string;
    let credentialsToken: string;
    let other: Target;
    let shared: Target;

    /** Signs a token exactly like the one auth mints for itself (no client can get users:credentials at the token endpoint). */
    const authServiceToken = async () => {
      const authDb = platform.embedded!.services.auth.runtime.database.db;
      const [row] = await queryRows<{ private_jwk: JWK }>(authDb, sql`select private_jwk from signing_keys where not_before <= now() order by not_before desc limit 1`);
      const jwk = row!.private_jwk;
      return new SignJWT({ client_id: 'auth-service', scope: 'users:credentials users:read', paymesh_service: true })
        .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: jwk.kid })
        .setIssuer(`http://localhost:${platform.embedded!.plan.gateway}/auth`)
        .setAudience('urn:paymesh:users')
        .setSubject('auth-service')
        .setJti(randomUUID())
        .setIssuedAt()
        .setExpirationTime('10m')
        .sign(await importJWK(jwk, 'ES256'));
    };

    before(async () => {
      platform = await startTestPlatform(backend, { env: serviceClientsEnv(secrets) });
      usersDb = platform.embedded!.services.users.runtime.database.db;
      direct = new Api(platform.embedded!.services.users.url);
      adminToken = await platform.api.adminToken();
      const basic = `Basic ${Buffer.from(`payments-service:${secrets.payments}`).toString('base64')}`;
      const granted = await platform.api.call('POST', '/auth/token', { headers: { authorization: basic }, form: { grant_type: 'client_credentials', scope: 'users:read', resource: 'urn:paymesh:users' } });
      assert.equal(granted.status, 200, JSON.stringify(granted.body));
      serviceToken = granted.body.access_token;
      credentialsToken = await authServiceToken();
      other = await platform.api.signUp();
      shared = await platform.api.signUp();
    });
    after(async () => {
      await platform?.stop();
    });

    const tokenOf = (caller: CallerName, target: Target): string | undefined => ({
      'anonymous': undefined,
      'garbage token': 'not-a.real-token.at-all',
      'another user': other.token,
      'the user themself': target.token,
      'an admin': adminToken,
      'a service (users:read)': serviceToken,
      "auth's service token (users:credentials)": credentialsToken,
    })[caller];

    const row = async (id: number) => (await queryRows<StoredUser>(usersDb, sql`select username, email, password_hash, display_name, role, status, email_verified_at, pending_email from users where id = ${String(id)}`))[0];

    for (const endpoint of endpoints) {
      describe(endpoint.name, () => {
        const cells = endpoint.everyone !== undefined
          ? Object.fromEntries(everyCaller.map((c) => [c, endpoint.everyone!]))
          : { ...unauthenticated, ...endpoint.cells };
        for (const [caller, expected] of Object.entries(cells) as [CallerName, Expected][]) {
          test(`${endpoint.name} as ${caller}: ${expected.status}${expected.code === undefined ? '' : ` ${expected.code}`}`, async () => {
            const target = endpoint.changesState === true ? await platform.api.signUp() : shared;
            const before = await row(target.id);
            const request = endpoint.request(target);
            const response = await (request.direct === true ? direct : platform.api).call(request.method, request.path, { token: tokenOf(caller, target), json: request.json });
            assert.equal(response.status, expected.status, JSON.stringify(response.body));
            if (expected.code !== undefined) assert.equal(response.body.error.code, expected.code);
            if (expected.code === 'invalid_token') assert.equal(response.body.message, 'Invalid token');
            if (expected.body !== undefined) assert.deepEqual(response.body, expected.body);
            if (expected.html === true) {
              assert.match(response.headers.get('content-type') ?? '', /^text\/html/);
              assert.match(String(response.body), /^<!doctype html>/);
            }
            await expected.check?.(response, target, () => row(target.id), before);
            // A refusal changes nothing about the user it was aimed at.
            if (expected.status >= 400) assert.deepEqual(await row(target.id), before);
          });
        }
      });
    }
  });
}
