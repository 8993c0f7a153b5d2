// The users service's email flows end to end, the tests following the emailed links like a browser:
// email change: the link sent to the new address swaps the addresses. The platform, the mail
// helpers and the browser are in email-flow-harness.ts.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { backends, eventually } from '@paymesh/app/testing';
import { queryRows, sql } from '@paymesh/platform/db/open-database';
import { addressOf, alertOf, emailFlowSuite, mailTimeoutMs, newPassword, sleep, tokenOf } from './email-flow-harness.ts';

for (const backend of backends()) {
  describe(`users: email flows (${backend})`, () => {
    const suite = emailFlowSuite(backend);
    const { api, me, loginStatus, mailsTo, verifySubject, resetSubject, verifyLink, resetLink, storedToken, tokenCount, confirmByLink, requestReset } = suite;

    describe('email change', () => {
      test('an email change needs the current password: without it 400 parameter_missing, a wrong one 400 current_password_invalid, and nothing waits', async () => {
        const user = await suite.platform.api.signUp();
        const target = `t${randomBytes(5).toString('hex')}@example.com`;
        const missing = await api('PATCH', '/users/me', { token: user.token, json: { email: target } });
        assert.equal(missing.status, 400);
        assert.equal(missing.body.error.param, 'current_password');
        const wrong = await api('PATCH', '/users/me', { token: user.token, json: { email: target, current_password: `${user.password}x` } });
        assert.equal(wrong.status, 400);
        assert.equal(wrong.body.error.code, 'current_password_invalid');
        assert.equal((await me(user)).pending_email, null);
        await sleep(500);
        assert.equal(mailsTo(target, verifySubject).length, 0);
      });

      test('a password reset takes back an email change waiting for its link: the pending address is dropped and its link confirms nothing', async () => {
        const user = await suite.platform.api.signUp();
        const address = addressOf(user);
        const hijack = `h${randomBytes(5).toString('hex')}@example.com`;
        assert.equal((await api('PATCH', '/users/me', { token: user.token, json: { email: hijack, current_password: user.password } })).status, 200);
        const hijackLink = await verifyLink(hijack);
        assert.equal((await requestReset(address)).status, 202);
        const reset = await api('POST', '/users/password-reset/confirm', { json: { token: tokenOf(await resetLink(address)), new_password: newPassword() } });
        assert.equal(reset.status, 200, JSON.stringify(reset.body));
        const used = await api('POST', '/users/verify-email', { json: { token: tokenOf(hijackLink) } });
        assert.equal(used.status, 400);
        assert.equal(used.body.error.code, 'token_invalid');
        const [row] = await queryRows<{ email: string; pending_email: string | null }>(suite.usersDb, sql`select email, pending_email from users where id = ${String(user.id)}`);
        assert.deepEqual({ ...row }, { email: address, pending_email: null });
      });

      test('an email change waits for the link sent to the new address; following it swaps the addresses', async () => {
        const user = await suite.platform.api.signUp();
        const oldAddress = addressOf(user);
        await confirmByLink(await verifyLink(oldAddress));
        const newAddress = `n${randomBytes(5).toString('hex')}@example.com`;

        const changed = await api('PATCH', '/users/me', { token: user.token, json: { email: newAddress, current_password: user.password } });
        assert.equal(changed.status, 200, JSON.stringify(changed.body));
        assert.equal(changed.body.email, oldAddress);
        assert.equal(changed.body.pending_email, newAddress);
        assert.equal(changed.body.email_verified, true);

        const link = await verifyLink(newAddress);
        assert.equal((await storedToken(tokenOf(link)))?.email, newAddress);
        // Until then the old address is the account's: a reset goes there, none to the waiting one.
        assert.equal((await me(user)).email, oldAddress);
        assert.equal((await requestReset(newAddress)).status, 202);
        assert.equal((await requestReset(oldAddress)).status, 202);
        const oldReset = tokenOf(await resetLink(oldAddress));
        const done = await confirmByLink(link);
        assert.equal(done.status, 200, done.html);
        assert.ok(done.html.includes(`${newAddress} is confirmed`));
        const after = await me(user);
        assert.equal(after.email, newAddress);
        assert.equal(after.pending_email, null);
        assert.equal(after.email_verified, true);
        assert.equal(await loginStatus(newAddress, user.password), 200, 'the new address logs in');
        // The given-up address's mailbox no longer speaks for the account.
        const stale = await api('POST', '/users/password-reset/confirm', { json: { token: oldReset, new_password: newPassword() } });
        assert.equal(stale.status, 400);
        assert.equal(stale.body.error.code, 'token_invalid');

        await suite.platform.settle();
        assert.deepEqual(mailsTo(oldAddress).map((m) => m.subject), [verifySubject, resetSubject], 'the old address got its own registration link and the reset it asked for');
        assert.ok(!mailsTo(oldAddress).some((m) => m.text.includes(tokenOf(link))));
        assert.deepEqual(mailsTo(newAddress).map((m) => m.subject), [verifySubject], 'the waiting address got its link, and no reset');
      });

      test('changing the email back to the current address drops the pending change, and its link confirms nothing', async () => {
        const user = await suite.platform.api.signUp();
        const oldAddress = addressOf(user);
        const newAddress = `n${randomBytes(5).toString('hex')}@example.com`;
        await verifyLink(oldAddress);
        assert.equal((await api('PATCH', '/users/me', { token: user.token, json: { email: newAddress, current_password: user.password } })).status, 200);
        const link = await verifyLink(newAddress);
        const back = await api('PATCH', '/users/me', { token: user.token, json: { email: oldAddress, current_password: user.password } });
        assert.equal(back.status, 200);
        assert.equal(back.body.pending_email, null);
        assert.equal(back.body.email, oldAddress);

        const answer = await api('POST', '/users/verify-email', { json: { token: tokenOf(link) } });
        assert.equal(answer.status, 400);
        assert.equal(answer.body.error.code, 'token_invalid');
        const unchanged = await me(user);
        assert.equal(unchanged.email, oldAddress);
        assert.equal(unchanged.pending_email, null);
      });

      test('when another account takes the new address before the link is followed, following it answers 409 email_taken and changes nothing', async () => {
        const user = await suite.platform.api.signUp();
        await suite.platform.confirmEmail(user.id);
        const rival = `r${randomBytes(5).toString('hex')}`;
        const contested = addressOf({ username: rival });
        assert.equal((await api('PATCH', '/users/me', { token: user.token, json: { email: contested, current_password: user.password } })).status, 200);
        const link = await verifyLink(contested);
        // The rival registers the address first (a pending change does not hold it).
        await suite.platform.api.signUp(rival);

        const page = await confirmByLink(link);
        assert.equal(page.status, 409);
        assert.match(page.contentType, /^text\/html/);
        assert.match(alertOf(page), /belongs to another account/);
        const json = await api('POST', '/users/verify-email', { json: { token: tokenOf(link) } });
        assert.equal(json.status, 409);
        assert.equal(json.body.error.code, 'email_taken');
        const unchanged = await me(user);
        assert.equal(unchanged.email, addressOf(user));
        assert.equal(unchanged.pending_email, contested);
        assert.equal(unchanged.email_verified, true);
        const [rivalRow] = await queryRows<{ email: string }>(suite.usersDb, sql`select email from users where username = ${rival}`);
        assert.equal(rivalRow?.email, contested);
      });

      test('email changes send at most 5 verification links an hour, whatever addresses they name', async () => {
        const user = await suite.platform.api.signUp();
        const targets = [0, 1].map(() => `f${randomBytes(5).toString('hex')}@example.com`);
        const sent = () => [addressOf(user), ...targets].flatMap((a) => mailsTo(a, verifySubject)).length;
        // The registration's link and six changes between two addresses. Each link is mailed only
        // while its address is still the account's (current or pending): the test waits for each
        // mail under the cap before the next change, or a slow delivery would find its address
        // already replaced and rightly send nothing.
        for (let i = 0; i < 6; i++) {
          const answer = await api('PATCH', '/users/me', { token: user.token, json: { email: targets[i % 2], current_password: user.password } });
          assert.equal(answer.status, 200);
          assert.equal(answer.body.pending_email, targets[i % 2]);
          if (i < 4) await eventually(async () => (sent() >= i + 2 ? true : undefined), { timeoutMs: mailTimeoutMs });
        }
        assert.equal(await tokenCount(user.id, 'verify_email'), 5);
        await suite.platform.settle();
        assert.equal(sent(), 5);
      });
    });
  });
}
