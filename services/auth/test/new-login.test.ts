// "New sign-in to your account": a password sign-in from a device and an address the account has
// not signed in from before reaches the user's inbox (user.new_login, produced by auth, consumed by
// notifications). The first sign-in, a known address and a known device are no news.
//
// Each sign-in speaks from its own loopback address (Linux routes all of 127.0.0.0/8 to lo), which
// is what auth sees as the client's address through the gateway.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { backends, eventually, startTestPlatform, type TestPlatform } from '@paymesh/app/testing';

interface SignIn {
  readonly status: number;
  readonly token: string | undefined;
  /** The device cookie the response set (`name=value`). */
  readonly deviceCookie: string | undefined;
}

for (const backend of backends()) {
  describe(`new sign-in notice (${backend})`, () => {
    let platform: TestPlatform;
    let lastOctet = 10;
    /** A loopback address no other sign-in of this file speaks from. */
    const freshAddress = () => `127.0.1.${++lastOctet}`;

    before(async () => {
      platform = await startTestPlatform(backend);
    });
    after(async () => {
      await platform?.stop();
    });

    const signIn = (address: string, username: string, password: string, options: { cookie?: string; userAgent?: string } = {}) =>
      new Promise<SignIn>((resolve, reject) => {
        const payload = JSON.stringify({ username, password });
        const req = httpRequest(`${platform.gatewayUrl}/auth/login`, {
          method: 'POST',
          localAddress: address,
          agent: false,
          timeout: 15_000,
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(payload),
            'user-agent': options.userAgent ?? 'test-client/1.0',
            ...(options.cookie === undefined ? {} : { cookie: options.cookie }),
          },
        }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => {
            const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { token?: string };
            const deviceCookie = res.headers['set-cookie']?.find((c) => c.startsWith('paymesh_device='))?.split(';')[0];
            resolve({ status: res.statusCode!, token: body.token, deviceCookie });
          });
          res.on('error', reject);
        });
        req.on('timeout', () => req.destroy(new Error('login request timed out')));
        req.on('error', reject);
        req.end(payload);
      });

    const register = async () => {
      const username = `nl_${randomBytes(5).toString('hex')}`;
      const account = { username, email: `${username}@example.com`, password: `pw-${randomBytes(8).toString('hex')}` };
      assert.equal((await platform.api.call('POST', '/users', { json: account })).status, 202);
      return account;
    };

    const inbox = async (token: string) =>
      (await platform.api.call('GET', '/notifications/', { token })).body as { type: string; title: string; message: string }[];

    test('a sign-in from a new device and a new address puts "New sign-in to your account" in the inbox, naming the address and the browser', async () => {
      const ana = await register();
      const home = await signIn(freshAddress(), ana.username, ana.password);
      assert.equal(home.status, 200);
      const away = freshAddress();
      const elsewhere = await signIn(away, ana.username, ana.password, { userAgent: 'Firefox/133.0 (on a train)' });
      assert.equal(elsewhere.status, 200);
      const [notice, ...others] = await eventually(async () => {
        const list = await inbox(home.token!);
        return list.length > 0 ? list : undefined;
      }, { timeoutMs: 10_000 });
      assert.equal(others.length, 0);
      assert.equal(notice!.type, 'security.new_login');
      assert.equal(notice!.title, 'New sign-in to your account');
      assert.match(notice!.message, new RegExp(`from Firefox/133\\.0 \\(on a train\\) \\(${away.replaceAll('.', '\\.')}\\)`));
    });

    test('the first sign-in, a known address and a known device elsewhere are no news; the next unknown one is', async () => {
      const bea = await register();
      const home = freshAddress();
      // The first sign-in ever: nothing to compare it with.
      const first = await signIn(home, bea.username, bea.password);
      assert.equal(first.status, 200);
      // The known address again, without the cookie (another browser at home).
      assert.equal((await signIn(home, bea.username, bea.password)).status, 200);
      // The known device from an address it has not used (the laptop on another network).
      assert.equal((await signIn(freshAddress(), bea.username, bea.password, { cookie: first.deviceCookie })).status, 200);
      // Then an unknown device at an unknown address: its notice is the first and only one, so
      // none of the sign-ins before it announced anything (events reach the inbox in order).
      const stranger = freshAddress();
      assert.equal((await signIn(stranger, bea.username, bea.password)).status, 200);
      const notices = await eventually(async () => {
        const list = await inbox(first.token!);
        return list.length > 0 ? list : undefined;
      }, { timeoutMs: 10_000 });
      assert.deepEqual(notices.map((n) => n.type), ['security.new_login']);
      assert.match(notices[0]!.message, new RegExp(`\\(${stranger.replaceAll('.', '\\.')}\\)`));
    });
  });
}
