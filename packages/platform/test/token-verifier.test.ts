// Every service verifies access tokens on its own, so this is where a forged, stale or revoked token
// must stop. The issuer here is independent of the auth service (test-issuer.ts): tokens are built
// claim by claim, including the hostile ones.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { exportSPKI, SignJWT } from 'jose';
import { localUserId } from '../src/auth/caller.ts';
import { RevocationList } from '../src/auth/revocation-list.ts';
import { TokenRevoked } from '../src/auth/token-revoked.ts';
import { createTokenVerifier, InvalidTokenError, type TokenVerifier } from '../src/auth/token-verifier.ts';
import { openDatabase, type Database } from '../src/db/open-database.ts';
import { AppError } from '../src/errors.ts';
import { newEvent } from '../src/events/event.ts';
import { InProcessTransport } from '../src/events/in-process-transport.ts';
import { createLogger } from '../src/logger.ts';
import { createMetrics } from '../src/metrics.ts';
import { closedPort } from './closed-port.ts';
import { audience, newSigningKey, TestIssuer, type SigningKey } from './test-issuer.ts';

const logger = createLogger('test', 'silent');
const metrics = createMetrics('test');
const platformMigrations = resolve(import.meta.dirname, '../migrations');

let issuer: TestIssuer;
let attacker: TestIssuer;
let database: Database;
let revocations: RevocationList;
let verify: TokenVerifier;

before(async () => {
  [issuer, attacker] = await Promise.all([TestIssuer.start('trusted-key'), TestIssuer.start('attacker-key')]);
  database = await openDatabase({ url: undefined, dataDir: 'memory://', migrations: [{ scope: 'platform', dir: platformMigrations }], logger });
  revocations = new RevocationList(database.db, logger, metrics);
  verify = createTokenVerifier({ issuers: [{ issuer: issuer.issuer, jwksUrl: issuer.jwksUrl, audience, ownIssuer: true }], revocations });
});

after(async () => {
  await revocations?.stop();
  await database?.close();
  await issuer?.close();
  await attacker?.close();
});

const nowSec = () => Math.floor(Date.now() / 1000);

async function refused(token: string | Promise<string>, reason?: RegExp, verifier: TokenVerifier = verify): Promise<void> {
  const t = await token;
  await assert.rejects(verifier(t), (error: unknown) => {
    assert.ok(error instanceof InvalidTokenError, `expected InvalidTokenError, got ${String(error)}`);
    if (reason !== undefined) assert.match(error.message, reason);
    return true;
  });
}

function base64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function validClaims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { iss: issuer.issuer, aud: audience, sub: 'user-42', jti: randomUUID(), iat: nowSec(), exp: nowSec() + 300, client_id: 'web-app', scope: 'payments:read', role: 'user', ...overrides };
}

describe('a valid access token', () => {
  test('yields the caller it describes', async () => {
    const iat = nowSec();
    const token = await issuer.token({ claims: { jti: 'jti-user-1', iat, exp: iat + 300, role: 'admin', scope: 'payments:read  payments:write', gid: 'grant-7' } });
    assert.deepEqual(await verify(token), {
      kind: 'user',
      subject: 'user-42',
      clientId: 'web-app',
      grantId: 'grant-7',
      role: 'admin',
      scopes: new Set(['payments:read', 'payments:write']),
      tokenId: 'jti-user-1',
      issuer: issuer.issuer,
      issuedAtSec: iat,
      issuedAtMs: iat * 1000,
      expiresAtSec: iat + 300,
    });
  });

  test('a client_credentials token (subject is the client, no role) is a service only when our auth marks it as one of the platform\'s services', async () => {
    const caller = await verify(await issuer.token({ claims: { sub: 'payments-service', client_id: 'payments-service', role: undefined, scope: 'users:read', paymesh_service: true } }));
    assert.equal(caller.kind, 'service');
    const partner = await verify(await issuer.token({ claims: { sub: 'partner-app', client_id: 'partner-app', role: undefined, scope: 'users:read' } }));
    assert.equal(partner.kind, 'user', 'an unmarked client_credentials token is nobody trusted');
    assert.equal(caller.role, undefined);
    assert.deepEqual(caller.scopes, new Set(['users:read']));
  });

  test('a token whose subject equals its client but carries a user role is a user, not a service', async () => {
    const caller = await verify(await issuer.token({ claims: { sub: 'web-app', client_id: 'web-app', role: 'user' } }));
    assert.equal(caller.kind, 'user');
  });

  test('a token without client_id whose subject is empty is not a service', async () => {
    const caller = await verify(await issuer.token({ claims: { sub: '', client_id: undefined, role: undefined } }));
    assert.equal(caller.kind, 'user');
  });

  test('an external issuer never vouches for a service or a local user: its subjects are prefixed and it has no role', async () => {
    const external = createTokenVerifier({ issuers: [{ issuer: issuer.issuer, jwksUrl: issuer.jwksUrl, audience, ownIssuer: false }], revocations: undefined });
    const asService = await external(await issuer.token({ claims: { sub: 'okta-client', client_id: 'okta-client', role: undefined } }));
    assert.equal(asService.kind, 'user');
    assert.equal(asService.subject, 'external:okta-client');
    const asAdmin = await external(await issuer.token({ claims: { sub: '1', role: 'admin' } }));
    assert.equal(asAdmin.subject, 'external:1');
    assert.equal(asAdmin.role, undefined);
  });

  test('a caller is a local user only with a local numeric subject: external identities and services are refused (403)', async () => {
    const external = createTokenVerifier({ issuers: [{ issuer: issuer.issuer, jwksUrl: issuer.jwksUrl, audience, ownIssuer: false }], revocations: undefined });
    const outsider = await external(await issuer.token({ claims: { sub: '42' } }));
    assert.throws(() => localUserId(outsider), (error: unknown) => error instanceof AppError && error.statusCode === 403);
    const service = await verify(await issuer.token({ claims: { sub: 'payments-service', client_id: 'payments-service', role: undefined, paymesh_service: true } }));
    assert.throws(() => localUserId(service), (error: unknown) => error instanceof AppError && error.statusCode === 403);
    const local = await verify(await issuer.token({ claims: { sub: '42', role: 'user' } }));
    assert.equal(localUserId(local), '42');
  });

  test('an unknown role is dropped rather than trusted', async () => {
    const caller = await verify(await issuer.token({ claims: { role: 'superuser' } }));
    assert.equal(caller.role, undefined);
    assert.equal(caller.kind, 'user');
  });

  test('a token that expired within the 5 s leeway is still accepted (clock skew)', async () => {
    await verify(await issuer.token({ claims: { iat: nowSec() - 300, exp: nowSec() - 2 } }));
  });

  test('the audience may be one among several', async () => {
    await verify(await issuer.token({ claims: { aud: ['urn:other', audience] } }));
  });

  test('the media-type form of typ (application/at+jwt) is accepted', async () => {
    await verify(await issuer.token({ header: { typ: 'application/at+jwt' } }));
  });
});

describe('a token is refused as invalid', () => {
  test('when it is not a JWT at all', async () => {
    for (const token of ['', 'garbage', 'a.b.c', 'eyJhbGciOiJFUzI1NiJ9..', `${base64url({ alg: 'ES256' })}.not-base64-json.sig`]) {
      await refused(token, undefined);
    }
  });

  test('when it is unsigned (alg none)', async () => {
    const token = `${base64url({ alg: 'none', typ: 'at+jwt' })}.${base64url(validClaims())}.`;
    await refused(token);
  });

  test('when it is HMAC-signed with the public key as the secret (algorithm confusion)', async () => {
    const pem = await exportSPKI(issuer.key.publicKey);
    for (const secret of [pem, JSON.stringify(issuer.key.publicJwk)]) {
      const token = await new SignJWT(validClaims()).setProtectedHeader({ alg: 'HS256', kid: issuer.key.kid, typ: 'at+jwt' }).sign(new TextEncoder().encode(secret));
      await refused(token, /alg/);
    }
  });

  test('when its payload was altered after signing', async () => {
    const [header, , signature] = (await issuer.token()).split('.');
    await refused(`${header}.${base64url(validClaims({ sub: 'user-1', role: 'admin' }))}.${signature}`, /signature/);
  });

  test('when its issuer is not trusted, without fetching anything from that issuer', async () => {
    const fetchesBefore = attacker.jwksRequests;
    await refused(attacker.token({ claims: { iss: attacker.issuer } }), /untrusted issuer/);
    await refused(issuer.token({ claims: { iss: `${issuer.issuer}/` } }), /untrusted issuer/);
    await refused(issuer.token({ claims: { iss: undefined } }), /untrusted issuer/);
    assert.equal(attacker.jwksRequests, fetchesBefore);
  });

  test('when it is for another audience', async () => {
    await refused(issuer.token({ claims: { aud: 'urn:some-other-api' } }), /aud/);
    await refused(issuer.token({ claims: { aud: undefined } }), /aud/);
  });

  test('when its typ is missing or is not at+jwt (an ID token is not an access token)', async () => {
    await refused(issuer.token({ header: { typ: undefined } }), /typ/);
    await refused(issuer.token({ header: { typ: 'JWT' } }), /typ/);
    await refused(issuer.token({ header: { typ: 'id_token+jwt' } }), /typ/);
  });

  test('when it expired beyond the leeway', async () => {
    await refused(issuer.token({ claims: { iat: nowSec() - 600, exp: nowSec() - 10 } }), /exp/);
  });

  test('when it is not valid yet (nbf in the future)', async () => {
    await refused(issuer.token({ claims: { nbf: nowSec() + 60 } }), /nbf/);
  });

  test('when a required claim (exp, iat, sub, jti) is missing', async () => {
    for (const claim of ['exp', 'iat', 'sub', 'jti']) {
      await refused(issuer.token({ claims: { [claim]: undefined } }), new RegExp(claim));
    }
  });

  test('when it is signed by a key the issuer never published', async () => {
    await refused(issuer.token({ key: attacker.key }));
    const impostor: SigningKey = await newSigningKey(issuer.key.kid); // reuses the trusted kid
    await refused(issuer.token({ key: impostor }), /signature/);
  });

  test('when its header points at the attacker\'s keys (jku, x5u, embedded jwk): never followed', async () => {
    const fetchesBefore = attacker.jwksRequests;
    await refused(issuer.token({ key: attacker.key, header: { jku: attacker.jwksUrl } }));
    await refused(issuer.token({ key: attacker.key, header: { x5u: attacker.jwksUrl } }));
    await refused(issuer.token({ key: attacker.key, header: { jwk: attacker.key.publicJwk, kid: undefined } }));
    await refused(issuer.token({ key: attacker.key, header: { jwk: attacker.key.publicJwk, kid: issuer.key.kid } }));
    assert.equal(attacker.jwksRequests, fetchesBefore, 'the attacker\'s JWKS was never fetched');
  });

  test('when it claims one trusted issuer but is signed with another trusted issuer\'s key', async () => {
    const both = createTokenVerifier({
      issuers: [{ issuer: issuer.issuer, jwksUrl: issuer.jwksUrl, audience, ownIssuer: true }, { issuer: attacker.issuer, jwksUrl: attacker.jwksUrl, audience, ownIssuer: true }],
      revocations: undefined,
    });
    await both(await attacker.token()); // sanity: the second issuer's own tokens are fine
    await refused(attacker.token({ claims: { iss: issuer.issuer } }), undefined, both);
  });

  test('when it is signed with an algorithm outside the allowlist', async () => {
    const eddsaOnly = createTokenVerifier({ issuers: [{ issuer: issuer.issuer, jwksUrl: issuer.jwksUrl, audience, ownIssuer: true }], algorithms: ['EdDSA'], revocations: undefined });
    await refused(issuer.token(), /alg/, eddsaOnly);
  });
});

describe('revoked tokens', () => {
  function revoke(revoked: TokenRevoked, list: RevocationList = revocations): Promise<void> {
    return list.add(revoked);
  }

  test('a token whose jti was revoked is refused; the same user\'s other tokens are not', async () => {
    const jti = randomUUID();
    const token = await issuer.token({ claims: { jti } });
    await verify(token);
    await revoke({ jti, expiresAt: nowSec() + 900 });
    await refused(token, /revoked/);
    await verify(await issuer.token());
  });

  test('revoking a subject refuses its tokens issued before the cut-off, not those issued after', async () => {
    const sub = `user-${randomUUID()}`;
    const cutOff = nowSec() - 5;
    const older = await issuer.token({ claims: { sub, iat: cutOff - 60 } });
    const justBefore = await issuer.token({ claims: { sub, iat: cutOff - 1 } });
    const atCutOff = await issuer.token({ claims: { sub, iat: cutOff } });
    const newer = await issuer.token({ claims: { sub, iat: nowSec() } });
    await revoke({ sub, issuedBefore: cutOff, expiresAt: nowSec() + 900 });
    await refused(older, /revoked/);
    await refused(justBefore, /revoked/);
    await verify(atCutOff);
    await verify(newer);
    await verify(await issuer.token({ claims: { sub: `${sub}-other`, iat: cutOff - 60 } }));
  });

  test('an earlier cut-off arriving late never shortens a later one', async () => {
    const sub = `user-${randomUUID()}`;
    const token = await issuer.token({ claims: { sub, iat: nowSec() - 30 } });
    await revoke({ sub, issuedBefore: nowSec(), expiresAt: nowSec() + 900 });
    await revoke({ sub, issuedBefore: nowSec() - 60, expiresAt: nowSec() + 900 }); // a replayed, older event
    await refused(token, /revoked/);
  });

  test('revocations survive a restart: a list loaded from the database refuses the same tokens', async () => {
    const jti = randomUUID();
    const sub = `user-${randomUUID()}`;
    const byJti = await issuer.token({ claims: { jti } });
    const bySub = await issuer.token({ claims: { sub, iat: nowSec() - 30 } });
    await revoke({ jti, expiresAt: nowSec() + 900 });
    await revoke({ sub, issuedBefore: nowSec() - 10, expiresAt: nowSec() + 900 });

    const restarted = new RevocationList(database.db, logger, metrics);
    await restarted.start(new InProcessTransport(), 0, 'payments');
    try {
      const verifyAfterRestart = createTokenVerifier({ issuers: [{ issuer: issuer.issuer, jwksUrl: issuer.jwksUrl, audience, ownIssuer: true }], revocations: restarted });
      await refused(byJti, /revoked/, verifyAfterRestart);
      await refused(bySub, /revoked/, verifyAfterRestart);
      await verifyAfterRestart(await issuer.token({ claims: { sub, iat: nowSec() } }));
    } finally {
      await restarted.stop();
    }
  });

  test('a revocation announced on the transport is honoured, including one announced before the list started', async () => {
    const transport = new InProcessTransport();
    const early = randomUUID();
    const late = randomUUID();
    await transport.publish(newEvent<TokenRevoked>(TokenRevoked.subject, { jti: early, expiresAt: nowSec() + 900 }, undefined));
    const list = new RevocationList(database.db, logger, metrics);
    await list.start(transport, 60_000, 'payments');
    try {
      await transport.publish(newEvent<TokenRevoked>(TokenRevoked.subject, { jti: late, expiresAt: nowSec() + 900 }, undefined));
      const following = createTokenVerifier({ issuers: [{ issuer: issuer.issuer, jwksUrl: issuer.jwksUrl, audience, ownIssuer: true }], revocations: list });
      await refused(issuer.token({ claims: { jti: early } }), /revoked/, following);
      await refused(issuer.token({ claims: { jti: late } }), /revoked/, following);
    } finally {
      await list.stop();
    }
  });

  test("a revoked grant refuses every token issued under it, and only those", async () => {
    const list = new RevocationList(database.db, logger, metrics);
    const grantVerifier = createTokenVerifier({ issuers: [{ issuer: issuer.issuer, jwksUrl: issuer.jwksUrl, audience, ownIssuer: true }], revocations: list });
    await list.add({ grantId: 'grant-ended', expiresAt: nowSec() + 900 });
    await refused(issuer.token({ claims: { gid: 'grant-ended' } }), /revoked/, grantVerifier);
    await refused(issuer.token({ claims: { gid: 'grant-ended', jti: randomUUID() } }), /revoked/, grantVerifier);
    assert.equal((await grantVerifier(await issuer.token({ claims: { gid: 'grant-live' } }))).grantId, 'grant-live');
  });

  test('an expired revocation is pruned and forgotten', async () => {
    const list = new RevocationList(database.db, logger, metrics);
    const jti = randomUUID();
    await list.add({ jti, expiresAt: nowSec() + 60 });
    assert.equal(list.isRevoked({ tokenId: jti, subject: 'user-42', issuedAtMs: Date.now(), grantId: undefined }), true);
    await list.prune(nowSec() + 60 + 61); // past its expiry and the verifier's leeway
    assert.equal(list.isRevoked({ tokenId: jti, subject: 'user-42', issuedAtMs: Date.now(), grantId: undefined }), false);
  });
});

describe('issued-at', () => {
  test('an iat in the future beyond the clock leeway (5 s) is refused, near or far; within the leeway it is accepted', async () => {
    await verify(await issuer.token({ claims: { iat: nowSec() + 3 } }));
    for (const iat of [nowSec() + 7, nowSec() + 3600, nowSec() + 10 * 365 * 86400, 2 ** 40]) {
      await refused(issuer.token({ claims: { iat, exp: iat + 300 } }), /iat/);
    }
  });

  test('a missing or non-numeric iat is refused', async () => {
    await refused(issuer.token({ claims: { iat: undefined } }));
    await refused(issuer.token({ claims: { iat: String(nowSec()) } }));
  });

  test('a subject cut within a second refuses that second\'s tokens minted before it (iat_ms) or without iat_ms, and keeps those minted after it', async () => {
    const sub = `user-${randomUUID()}`;
    const second = nowSec() - 10;
    const cutMs = second * 1000 + 500;
    const token = (iat: number, iatMs?: number) => issuer.token({ claims: { sub, iat, iat_ms: iatMs } });
    const sameSecondBefore = await token(second, cutMs - 1);
    const sameSecondAfter = await token(second, cutMs);
    const sameSecondCoarse = await token(second);
    const secondBefore = await token(second - 1, cutMs - 1000);
    const secondAfter = await token(second + 1);
    // An iat_ms outside its iat second is not believed: the token counts from the start of its second.
    const inconsistent = await token(second, cutMs + 1000);
    await revocations.add({ sub, issuedBeforeMs: cutMs, issuedBefore: second + 1, expiresAt: nowSec() + 900 });
    await refused(sameSecondBefore, /revoked/);
    await refused(sameSecondCoarse, /revoked/);
    await refused(secondBefore, /revoked/);
    await refused(inconsistent, /revoked/);
    await verify(sameSecondAfter);
    await verify(secondAfter);
  });

  test('a millisecond cut survives a restart (stored and reloaded at millisecond precision)', async () => {
    const sub = `user-${randomUUID()}`;
    const second = nowSec() - 10;
    await revocations.add({ sub, issuedBeforeMs: second * 1000 + 700, issuedBefore: second + 1, expiresAt: nowSec() + 900 });
    const restarted = new RevocationList(database.db, logger, metrics);
    await restarted.start(new InProcessTransport(), 0, 'payments');
    try {
      assert.equal(restarted.isRevoked({ tokenId: randomUUID(), subject: sub, issuedAtMs: second * 1000 + 699, grantId: undefined }), true);
      assert.equal(restarted.isRevoked({ tokenId: randomUUID(), subject: sub, issuedAtMs: second * 1000 + 700, grantId: undefined }), false);
    } finally {
      await restarted.stop();
    }
  });
});

describe('the issuer\'s keys', () => {
  test('tokens with unknown kids cost at most one JWKS refetch per cooldown', async () => {
    const fresh = createTokenVerifier({ issuers: [{ issuer: issuer.issuer, jwksUrl: issuer.jwksUrl, audience, ownIssuer: true }], revocations: undefined });
    const fetchesBefore = issuer.jwksRequests;
    await fresh(await issuer.token());
    assert.equal(issuer.jwksRequests, fetchesBefore + 1);
    for (let i = 0; i < 10; i++) await refused(issuer.token({ key: attacker.key, header: { kid: `random-${i}` } }), undefined, fresh);
    assert.equal(issuer.jwksRequests, fetchesBefore + 1, 'still within the 30 s cooldown: no refetch');
  });

  test('a key published after the last fetch is picked up by a refetch (rotation)', async () => {
    const rotating = await TestIssuer.start('key-2024');
    try {
      const fresh = createTokenVerifier({ issuers: [{ issuer: rotating.issuer, jwksUrl: rotating.jwksUrl, audience, ownIssuer: true }], jwksCooldownMs: 0, revocations: undefined });
      await fresh(await rotating.token());
      const next = await newSigningKey('key-2025');
      rotating.published.push(next.publicJwk);
      const caller = await fresh(await rotating.token({ key: next }));
      assert.equal(caller.subject, 'user-42');
      assert.equal(rotating.jwksRequests, 2);
    } finally {
      await rotating.close();
    }
  });

  test('each JWKS fetch is counted by outcome, so a failing issuer shows before tokens fail (jwks_refreshes_total)', async () => {
    const counted = createMetrics('jwks-count-test');
    const onJwksFetch = (outcome: 'ok' | 'failed') => counted.jwksRefreshes.inc({ outcome });
    const good = createTokenVerifier({ issuers: [{ issuer: issuer.issuer, jwksUrl: issuer.jwksUrl, audience, ownIssuer: true }], onJwksFetch, revocations: undefined });
    await good(await issuer.token());
    const port = await closedPort();
    const cutOff = createTokenVerifier({ issuers: [{ issuer: issuer.issuer, jwksUrl: `http://127.0.0.1:${port}/jwks`, audience, ownIssuer: true }], onJwksFetch, revocations: undefined });
    await assert.rejects(cutOff(await issuer.token()));
    const values = Object.fromEntries((await counted.jwksRefreshes.get()).values.map((v) => [v.labels.outcome, v.value]));
    assert.deepEqual(values, { ok: 1, failed: 1 });
  });

  test('an unreachable JWKS is an outage (503), not a bad token', async () => {
    const port = await closedPort();
    const cutOff = createTokenVerifier({ issuers: [{ issuer: issuer.issuer, jwksUrl: `http://127.0.0.1:${port}/jwks`, audience, ownIssuer: true }], revocations: undefined });
    await assert.rejects(cutOff(await issuer.token()), (error: unknown) => {
      assert.ok(!(error instanceof InvalidTokenError));
      assert.ok(error instanceof AppError);
      assert.equal(error.statusCode, 503);
      assert.equal(error.code, 'service_unavailable');
      return true;
    });
  });

  test('a JWKS endpoint dropping connections is an outage, and verification recovers once it answers', async () => {
    const flaky = await TestIssuer.start();
    try {
      const fresh = createTokenVerifier({ issuers: [{ issuer: flaky.issuer, jwksUrl: flaky.jwksUrl, audience, ownIssuer: true }], revocations: undefined });
      flaky.mode = 'hang-up';
      await assert.rejects(fresh(await flaky.token()), (error: unknown) => error instanceof AppError && error.statusCode === 503);
      flaky.mode = 'serve';
      assert.equal((await fresh(await flaky.token())).subject, 'user-42');
    } finally {
      await flaky.close();
    }
  });

  test('a JWKS endpoint answering 500 is an outage (503), not a bad token', async () => {
    const failing = await TestIssuer.start();
    try {
      failing.mode = 'status500';
      const fresh = createTokenVerifier({ issuers: [{ issuer: failing.issuer, jwksUrl: failing.jwksUrl, audience, ownIssuer: true }], revocations: undefined });
      await assert.rejects(fresh(await failing.token()), (error: unknown) => error instanceof AppError && error.statusCode === 503);
    } finally {
      await failing.close();
    }
  });
});

describe('createTokenVerifier', () => {
  test('refuses to be built with an unsigned or symmetric algorithm in the allowlist', () => {
    for (const algorithms of [['none'], ['ES256', 'none'], ['HS256'], ['ES256', 'HS384'], ['HS512']]) {
      assert.throws(() => createTokenVerifier({ issuers: [], algorithms, revocations: undefined }), /never allowed/, algorithms.join(','));
    }
  });

  test('fetches nothing until the first token arrives', async () => {
    const idle = await TestIssuer.start();
    try {
      createTokenVerifier({ issuers: [{ issuer: idle.issuer, jwksUrl: idle.jwksUrl, audience, ownIssuer: true }], revocations: undefined });
      await new Promise((resolve) => setTimeout(resolve, 20));
      assert.equal(idle.jwksRequests, 0);
    } finally {
      await idle.close();
    }
  });
});

describe('the verified-token cache', () => {
  test('a token verified once still expires: past exp (and the leeway) it is refused', async () => {
    let clockMs = Date.now();
    const cached = createTokenVerifier({ issuers: [{ issuer: issuer.issuer, jwksUrl: issuer.jwksUrl, audience, ownIssuer: true }], revocations: undefined, now: () => clockMs });
    const iat = Math.floor(clockMs / 1000);
    const token = await issuer.token({ claims: { iat, exp: iat + 60 } });
    assert.equal((await cached(token)).expiresAtSec, iat + 60);
    assert.equal((await cached(token)).expiresAtSec, iat + 60);
    clockMs += 66_000;
    await refused(token, /exp/, cached);
  });

  test('a token verified once is refused as soon as it is revoked', async () => {
    const list = new RevocationList(database.db, logger, metrics);
    const cached = createTokenVerifier({ issuers: [{ issuer: issuer.issuer, jwksUrl: issuer.jwksUrl, audience, ownIssuer: true }], revocations: list });
    const jti = randomUUID();
    const token = await issuer.token({ claims: { jti } });
    await cached(token);
    await list.add({ jti, expiresAt: nowSec() + 300 });
    await refused(token, /revoked/, cached);
  });

  test('only the exact token string is remembered: a tampered copy is verified (and refused)', async () => {
    const cached = createTokenVerifier({ issuers: [{ issuer: issuer.issuer, jwksUrl: issuer.jwksUrl, audience, ownIssuer: true }], revocations: undefined });
    const token = await issuer.token({ claims: { role: 'user' } });
    await cached(token);
    const [header, payload, signature] = token.split('.');
    const forgedPayload = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), role: 'admin' })).toString('base64url');
    await refused(`${header}.${forgedPayload}.${signature}`, undefined, cached);
  });
});
