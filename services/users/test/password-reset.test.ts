// The users service's email flows end to end, the tests following the emailed links like a browser:
// password reset: the emailed link sets a new password once and signs every session out; expired,
// disabled and unknown cases. The platform, the mail helpers and the browser are in
// email-flow-harness.ts.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { backends, eventually } from '@paymesh/app/testing';
import { queryRows, sql } from '@paymesh/platform/db/open-database';
import { addressOf, afterIssueSecond, alertOf, emailFlowSuite, formOf, linkIn, newPassword, open, submit, tokenOf } from './email-flow-harness.ts';

for (const backend of backends()) {
  describe(`users: email flows (${backend})`, () => {
    const suite = emailFlowSuite(backend);
    const { api, me, loginStatus, mailsTo, awaitMails, awaitMail, resetSubject, resetLink, storedToken, tokenCount, expire, requestReset } = suite;

    describe('password reset', () => {
      test('the emailed reset link, followed in a browser, sets the new password, signs every session out, voids the other links and confirms the address', async () => {
        const user = await suite.platform.api.signUp();
        const address = addressOf(user);
        const asked = await requestReset(address);
        assert.equal(asked.status, 202);
        assert.equal(asked.body.object, 'password_reset');
        const earlier = await resetLink(address);
        assert.equal((await requestReset(address)).status, 202);
        const link = await resetLink(address, 2);
        assert.ok(link.startsWith(`${suite.publicUrl}/users/password-reset/confirm?token=`), link);
        const raw = tokenOf(link);
        const stored = await storedToken(raw);
        assert.equal(stored?.purpose, 'password_reset');
        assert.equal(stored?.user_id, String(user.id));
        assert.equal(stored?.ttl_sec, 15 * 60, 'a reset link lasts 15 minutes');
        assert.equal((await me(user)).email_verified, false);

        const page = await open(link);
        assert.equal(page.status, 200);
        assert.match(page.contentType, /^text\/html/);
        const form = formOf(page);
        assert.equal(form.action, `${new URL(link).origin}/users/password-reset/confirm`);
        assert.deepEqual(form.types, { token: 'hidden', new_password: 'password' });
        assert.equal(form.fields.token, raw);

        // Refused passwords bring the form back with the reason, and leave the link usable.
        const short = await submit(form, { new_password: 'short1' });
        assert.equal(short.status, 400);
        assert.match(short.contentType, /^text\/html/);
        assert.match(alertOf(short), /at least 8 characters/);
        const common = await submit(formOf(short), { new_password: 'password123' });
        assert.equal(common.status, 400);
        assert.match(alertOf(common), /most common/);
        assert.equal(formOf(common).fields.token, raw);
        for (const [password, code] of [['password123', 'password_too_common'], [user.username, 'password_too_common'], ['1234567', 'parameter_invalid']]) {
          const json = await api('POST', '/users/password-reset/confirm', { json: { token: raw, new_password: password } });
          assert.equal(json.status, 400, password);
          assert.equal(json.body.error.code, code, password);
          assert.equal(json.body.error.param, 'new_password');
        }

        await afterIssueSecond(user.token);
        const chosen = newPassword();
        const done = await submit(formOf(common), { new_password: chosen });
        assert.equal(done.status, 200, done.html);
        assert.match(done.contentType, /^text\/html/);
        assert.match(done.html, /Your password was changed/);

        assert.equal(await loginStatus(user.username, user.password), 401, 'the old password no longer logs in');
        const fresh = await suite.platform.api.login(user.username, chosen);
        // The token from before the reset is refused by another service, soon.
        await eventually(async () => ((await api('GET', '/notifications/', { token: user.token })).status === 401 ? true : undefined), { timeoutMs: 5_000 });
        assert.equal((await api('GET', '/notifications/', { token: fresh })).status, 200);
        // The link proved the mailbox.
        assert.equal((await me({ token: fresh })).email_verified, true);

        const again = await submit(form, { new_password: newPassword() });
        assert.equal(again.status, 400);
        assert.match(alertOf(again), /invalid, expired or already used/);
        for (const token of [raw, tokenOf(earlier)]) {
          const replay = await api('POST', '/users/password-reset/confirm', { json: { token, new_password: newPassword() } });
          assert.equal(replay.status, 400);
          assert.equal(replay.body.error.code, 'token_invalid');
        }
        assert.equal(await loginStatus(user.username, chosen), 200, 'no replay changed the password');
        await awaitMail(address, 'Your password was changed');
      });

      test('two submissions of one reset link at once: one sets the password, the other is refused', async () => {
        const user = await suite.platform.api.signUp();
        assert.equal((await requestReset(addressOf(user))).status, 202);
        const raw = tokenOf(await resetLink(addressOf(user)));
        const passwords = [newPassword(), newPassword()];
        const answers = await Promise.all(passwords.map((password) => api('POST', '/users/password-reset/confirm', { json: { token: raw, new_password: password } })));
        assert.deepEqual(answers.map((a) => a.status).sort(), [200, 400]);
        const winner = answers.findIndex((a) => a.status === 200);
        assert.equal(answers[1 - winner]!.body.error.code, 'token_invalid');
        assert.equal(await loginStatus(user.username, passwords[winner]!), 200);
        assert.equal(await loginStatus(user.username, passwords[1 - winner]!), 401);
      });

      test('a reset link sent before the account was disabled does not work while it is disabled', async () => {
        const user = await suite.platform.api.signUp();
        assert.equal((await requestReset(addressOf(user))).status, 202);
        const raw = tokenOf(await resetLink(addressOf(user)));
        assert.equal((await api('PATCH', `/users/${user.id}`, { token: suite.adminToken, json: { status: 'disabled' } })).status, 200);
        const answer = await api('POST', '/users/password-reset/confirm', { json: { token: raw, new_password: newPassword() } });
        assert.equal(answer.status, 400);
        assert.equal(answer.body.error.code, 'token_invalid');
        const [row] = await queryRows<{ email_verified_at: unknown }>(suite.usersDb, sql`select email_verified_at from users where id = ${String(user.id)}`);
        assert.equal(row?.email_verified_at, null);
        assert.equal((await api('PATCH', `/users/${user.id}`, { token: suite.adminToken, json: { status: 'active' } })).status, 200);
        assert.equal(await loginStatus(user.username, user.password), 200, 'the password is the one from before');
      });

      test('an expired reset link is refused and the password stays as it was', async () => {
        const user = await suite.platform.api.signUp();
        assert.equal((await requestReset(addressOf(user))).status, 202);
        const raw = tokenOf(await resetLink(addressOf(user)));
        await expire(raw);
        const answer = await api('POST', '/users/password-reset/confirm', { json: { token: raw, new_password: newPassword() } });
        assert.equal(answer.status, 400);
        assert.equal(answer.body.error.code, 'token_invalid');
        const page = await submit(formOf(await open(`${suite.publicUrl}/users/password-reset/confirm?token=${raw}`)), { new_password: newPassword() });
        assert.equal(page.status, 400);
        assert.equal(await loginStatus(user.username, user.password), 200);
      });

      test('a reset request answers the same for an unknown address, a disabled account and an active one; only the active one is emailed, at most 3 times an hour', async () => {
        const active = await suite.platform.api.signUp();
        const disabled = await suite.platform.api.signUp();
        const disabling = await api('PATCH', `/users/${disabled.id}`, { token: suite.adminToken, json: { status: 'disabled' } });
        assert.equal(disabling.status, 200, JSON.stringify(disabling.body));
        const unknown = `nobody_${randomBytes(5).toString('hex')}@example.com`;

        const answers = [];
        for (const email of [unknown, addressOf(disabled), addressOf(active).toUpperCase()]) {
          const answer = await requestReset(email);
          answers.push({ status: answer.status, body: answer.body, type: answer.headers.get('content-type') });
        }
        assert.equal(answers[0]!.status, 202);
        assert.deepEqual(answers[1], answers[0]);
        assert.deepEqual(answers[2], answers[0]);
        // The browser form too: the same page whoever asks.
        const pages = [];
        for (const email of [unknown, addressOf(active)]) {
          const page = await submit(formOf(await open(`${suite.publicUrl}/users/password-reset`)), { email });
          pages.push({ status: page.status, html: page.html });
        }
        assert.equal(pages[0]!.status, 202);
        assert.deepEqual(pages[1], pages[0]);

        // Three links an hour: the JSON and form requests above sent two, the next sends the
        // third, and the one after is answered alike and sends nothing.
        for (let i = 0; i < 2; i++) assert.deepEqual((await requestReset(addressOf(active))).body, answers[0]!.body);
        await awaitMails(addressOf(active), resetSubject, 3);
        await suite.platform.settle();
        assert.equal(mailsTo(addressOf(active), resetSubject).length, 3);
        assert.equal(await tokenCount(active.id, 'password_reset'), 3);
        assert.equal(mailsTo(addressOf(disabled), resetSubject).length, 0);
        assert.equal(await tokenCount(disabled.id, 'password_reset'), 0);
        assert.equal(mailsTo(unknown).length, 0);
      });

      test('registering with a taken address creates nothing and tells its owner, whose email leads to the reset form', async () => {
        const owner = await suite.platform.api.signUp();
        const address = addressOf(owner);
        const intruder = `i${randomBytes(5).toString('hex')}`;
        const attempt = await api('POST', '/users', { json: { username: intruder, email: address.toUpperCase(), password: newPassword() } });
        assert.equal(attempt.status, 202);
        assert.equal(attempt.body.object, 'registration');
        assert.equal(await loginStatus(intruder, 'anything-at-all'), 401);
        const [row] = await queryRows<{ n: number }>(suite.usersDb, sql`select count(*)::int as n from users where username = ${intruder}`);
        assert.equal(Number(row!.n), 0);

        const warning = await awaitMail(address, 'Someone tried to register with your email address');
        const link = linkIn(warning, 'Reset my password');
        assert.equal(link, `${suite.publicUrl}/users/password-reset`);
        const asked = await submit(formOf(await open(link)), { email: address });
        assert.equal(asked.status, 202);
        assert.match(asked.contentType, /^text\/html/);
        assert.match(await resetLink(address), /\/users\/password-reset\/confirm\?token=/);
      });
    });
  });
}
