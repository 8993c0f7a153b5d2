// Email recipients asked of the real users service in batches (email/recipient-lookup.ts): every
// caller gets its own user's account however many ask at once, unknown ids and ids no account
// can have included, in far fewer requests than callers; and a users service that cannot be
// reached fails every waiting look-up (the email is retried), none is left hanging.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { serviceClientsEnv, startTestPlatform, type TestPlatform } from '@paymesh/app/testing';
import { ClientCredentialsTokenSource, ServiceClient, type ServiceRequest } from '@paymesh/platform/service-client';
import { serviceAudience } from '@paymesh/platform/service-config';
import { RecipientLookup } from '../src/email/recipient-lookup.ts';

const secrets = { users: randomBytes(24).toString('base64url'), payments: randomBytes(24).toString('base64url'), notifications: randomBytes(24).toString('base64url') };

describe('notifications: email recipients looked up at users in batches', () => {
  let platform: TestPlatform;
  let tokens: ClientCredentialsTokenSource;

  before(async () => {
    platform = await startTestPlatform('pglite', { env: serviceClientsEnv(secrets) });
    tokens = new ClientCredentialsTokenSource({
      tokenUrl: `${platform.gatewayUrl}/auth/token`, clientId: 'notifications-service', clientSecret: secrets.notifications, scope: 'users:read', resource: serviceAudience('users'),
    });
  });
  after(async () => {
    await platform?.stop();
  });

  test('many look-ups at once each get their own account (or none), in fewer requests than look-ups', async () => {
    const users = await Promise.all(Array.from({ length: 12 }, () => platform.api.signUp()));
    const requests: ServiceRequest[] = [];
    const client = new ServiceClient({ baseUrl: platform.embedded!.services.users.url, tokens });
    // The real client, counted: every request it sends reaches the real users service.
    const counted = Object.assign(Object.create(client) as ServiceClient, {
      request: (req: ServiceRequest) => {
        requests.push(req);
        return client.request(req);
      },
    });
    const lookup = new RecipientLookup(counted);
    // Unknown, zero-padded, the same twice, and other ids no account can have (too long, not a number), all in one burst.
    const asked = [...users.map((u) => String(u.id)), '987654321', `00${users[0]!.id}`, String(users[1]!.id), '1000000000000000000', 'abc', '0'];
    const answers = (await Promise.all(asked.map((id) => lookup.find(id)))) as ({ id: number; username: string } | undefined)[];
    users.forEach((user, i) => assert.deepEqual([answers[i]?.id, answers[i]?.username], [user.id, user.username]));
    assert.equal(answers[12], undefined, 'an unknown id has no account');
    assert.equal(answers[13], undefined, 'a zero-padded spelling names nobody (ids.ts), as at users');
    assert.equal(answers[14]?.id, users[1]!.id, 'the same id twice: both callers answered');
    assert.deepEqual(answers.slice(15), [undefined, undefined, undefined], 'ids no account can have are nobody, and do not fail their batch');
    assert.ok(requests.length < asked.length, `${requests.length} requests for ${asked.length} look-ups`);
    assert.ok(requests.every((r) => r.method === 'POST' && r.path === '/users/internal/lookup'));
  });

  test('a users service that cannot be reached fails every waiting look-up with a clear error', async () => {
    const lookup = new RecipientLookup(new ServiceClient({ baseUrl: 'http://127.0.0.1:9', tokens, timeoutMs: 500, retries: 0 }));
    const outcomes = await Promise.allSettled(['1', '2', '3'].map((id) => lookup.find(id)));
    for (const outcome of outcomes) {
      assert.equal(outcome.status, 'rejected');
      assert.match((outcome.reason as Error).message, /^users service unreachable/);
    }
  });
});
