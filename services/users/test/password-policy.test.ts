// The password policy's strength estimate (zxcvbn, with the account's own username, email and
// display name as a dictionary) refuses the passwords attackers guess first, wherever a password is
// chosen, and says why (issue 12 §2): registration (REST and the contract's create_user), password
// change, and reset (API and the HTML page). The bootstrap admin's configured password is covered in
// accounts.test.ts. Through the gateway, on a real database.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { parseMail, startSmtpSink, type SmtpSink } from '@paymesh/app/testing/smtp-sink';
import { backends, eventually, startTestPlatform, type TestPlatform } from '@paymesh/app/testing';

const hex = (bytes = 4) => randomBytes(bytes).toString('hex');
const strongPassphrase = 'violet tractor hums over the harbour';

/** The class: repeats, sequences, keyboard patterns, common passwords and their l33t spellings, whitespace only, the account's own names. */
const weakFor = (username: string, email: string) => [
  'aaaaaaaa', 'zzzzzzzzzzzzzzzzzzzz', ' '.repeat(8), '\t'.repeat(12), 'abcabcabcabc',
  'abcdefgh', '98765432', 'abcdefghijklmnop',
  'qwertyuiop', 'zaq12wsx', 'asdfghjkl;', '1qaz2wsx3edc', 'ZAQ!xsw2',
  'password1', 'iloveyou2', 'Summer2024!', 'P@ssw0rd2024', 'p4$$w0rd',
  `${username}ab`, `${username}12`, `${username.toUpperCase()}!!`, email, `${email}1`, username.split('').reverse().join('') + 'xy',
];

for (const backend of backends()) {
  describe(`users: password strength policy (${backend})`, () => {
    let sink: SmtpSink;
    let platform: TestPlatform;

    before(async () => {
      sink = await startSmtpSink();
      platform = await startTestPlatform(backend, { env: { SMTP_URL: sink.url } });
    });
    after(async () => {
      await platform?.stop();
      await sink?.close();
    });

    const api = (method: string, url: string, options: Parameters<TestPlatform['api']['call']>[2] = {}) => platform.api.call(method, url, options);
    /** A refusal by the policy: 400, a stable code, and for the estimate, the reasons. */
    const refusedWithReasons = (answer: { status: number; body: any }, password: string, param: string) => {
      assert.equal(answer.status, 400, `${JSON.stringify(password)}: ${JSON.stringify(answer.body)}`);
      assert.ok(['password_too_weak', 'password_too_common'].includes(answer.body.error.code), `${JSON.stringify(password)}: ${answer.body.error.code}`);
      assert.equal(answer.body.error.param, param);
      if (answer.body.error.code === 'password_too_weak') {
        assert.ok(Array.isArray(answer.body.error.reasons) && answer.body.error.reasons.length > 0, `reasons for ${JSON.stringify(password)}`);
        for (const reason of answer.body.error.reasons) assert.ok(answer.body.error.message.includes(reason), 'the message carries the reasons');
      }
    };

    test('registration refuses the class of easy passwords with 400 and the reasons, and makes no account', async () => {
      let estimated = 0;
      const count = weakFor('x', 'x').length;
      for (let i = 0; i < count; i++) {
        // A mailbox of its own each time (registrations per mailbox are limited too).
        const username = `mallory${hex(2)}`;
        const email = `${username}@example.com`;
        const password = weakFor(username, email)[i]!;
        const answer = await api('POST', '/users', { json: { username, email, password } });
        refusedWithReasons(answer, password, 'password');
        if (answer.body.error.code === 'password_too_weak') estimated++;
        assert.equal((await api('POST', '/auth/login', { json: { username, password } })).status, 401);
      }
      // Most of the class is beyond the list of common passwords: the estimate is what refuses it.
      assert.ok(estimated >= 15, `${estimated} refused by the estimate`);
    });

    test('a strong passphrase, and 8 random characters, are accepted', async () => {
      for (const password of [strongPassphrase, 'Vq7#mZ2k']) {
        const user = await platform.api.signUp(`u${hex()}`, password);
        assert.ok(user.token.length > 0);
      }
    });

    test("the contract's create_user refuses a weak password with its Invalid input body, and the reasons beside it", async () => {
      const username = `u${hex()}`;
      const answer = await api('POST', '/users/create_user', { form: { username, email: `${username}@example.com`, password: `${username}zz` } });
      refusedWithReasons(answer, `${username}zz`, 'password');
      assert.equal(answer.body.success, false);
      assert.equal(answer.body.message, 'Invalid input');
    });

    test('a password change refuses a weak new password, the display name included among the own inputs', async () => {
      const user = await platform.api.signUp();
      assert.equal((await api('PATCH', '/users/me', { token: user.token, json: { display_name: 'Marguerite Oyelaran' } })).status, 200);
      for (const password of ['Oyelaran2024', 'margueriteoyelaran', ...weakFor(user.username, `${user.username}@example.com`).slice(0, 6)]) {
        refusedWithReasons(await api('POST', '/users/me/password', { token: user.token, json: { current_password: user.password, new_password: password } }), password, 'new_password');
      }
      const changed = await api('POST', '/users/me/password', { token: user.token, json: { current_password: user.password, new_password: strongPassphrase } });
      assert.equal(changed.status, 200, JSON.stringify(changed.body));
    });

    test('a reset refuses a weak new password (API: the reasons; HTML page: the form again, with the reasons), and the link stays usable', async () => {
      const user = await platform.api.signUp();
      const address = `${user.username}@example.com`;
      assert.equal((await api('POST', '/users/password-reset', { json: { email: address } })).status, 202);
      const token = await eventually(async () => {
        const mail = sink.received.find((m) => m.rcptTo.includes(address) && m.subject === 'Reset your password');
        return mail === undefined ? undefined : /[?&]token=([A-Za-z0-9_-]{43})/.exec(parseMail(mail.raw).text)?.[1];
      }, { timeoutMs: 15_000 });
      const weak = `${user.username}ab`;
      refusedWithReasons(await api('POST', '/users/password-reset/confirm', { json: { token, new_password: weak } }), weak, 'new_password');
      const page = await fetch(`${platform.gatewayUrl}/users/password-reset/confirm`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token, new_password: 'aaaaaaaa' }).toString(),
      });
      const html = await page.text();
      assert.equal(page.status, 400);
      assert.match(html, /<form method="post" action="\/users\/password-reset\/confirm"/);
      assert.match(html, /too easy to guess/);
      assert.match(html, /Repeated characters/);
      assert.equal((await api('POST', '/users/password-reset/confirm', { json: { token, new_password: strongPassphrase } })).status, 200);
      assert.ok((await platform.api.login(user.username, strongPassphrase)).length > 0);
    });
  });
}
