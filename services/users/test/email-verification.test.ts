// The users service's email flows end to end, the tests following the emailed links like a browser:
// verification: the emailed link confirms the address, once, before it expires. The platform, the
// mail helpers and the browser are in email-flow-harness.ts.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { backends } from '@paymesh/app/testing';
import { queryRows, sql } from '@paymesh/platform/db/open-database';
import { addressOf, alertOf, emailFlowSuite, formOf, linkIn, open, submit, tokenOf } from './email-flow-harness.ts';

for (const backend of backends()) {
  describe(`users: email flows (${backend})`, () => {
    const suite = emailFlowSuite(backend);
    const { api, me, mailsTo, awaitMails, awaitMail, verifySubject, verifyLink, storedToken, tokenCount, expire } = suite;

    describe('email verification', () => {
      test('the emailed verification link confirms the address only when its form is submitted, and only once', async () => {
        const user = await suite.platform.api.signUp();
        const address = addressOf(user);
        const mail = await awaitMail(address, verifySubject);
        assert.equal(mail.headers.get('to'), address);
        const link = linkIn(mail, 'Confirm email address');
        assert.ok(link.startsWith(`${suite.publicUrl}/users/verify-email?token=`), link);
        const raw = tokenOf(link);
        assert.match(raw, /^[A-Za-z0-9_-]{43}$/, '32 random bytes, base64url');

        // Only the token's SHA-256 is kept: the table holds nothing that makes the link.
        const stored = await storedToken(raw);
        assert.equal(stored?.user_id, String(user.id));
        assert.equal(stored?.purpose, 'verify_email');
        assert.equal(stored?.email, address);
        assert.equal(stored?.ttl_sec, 48 * 3600);
        const leaks = await queryRows<{ n: number }>(suite.usersDb, sql`select count(*)::int as n from user_tokens t where position(${raw} in t::text) > 0`);
        assert.equal(Number(leaks[0]!.n), 0);

        // Opening the link (a mail scanner does) shows a form and confirms nothing.
        const page = await open(link);
        assert.equal(page.status, 200);
        assert.match(page.contentType, /^text\/html/);
        const form = formOf(page);
        assert.equal(form.action, `${new URL(link).origin}/users/verify-email`);
        assert.deepEqual(form.fields, { token: raw });
        assert.equal(form.types.token, 'hidden');
        assert.equal((await open(link)).status, 200);
        assert.equal((await me(user)).email_verified, false);

        const done = await submit(form);
        assert.equal(done.status, 200, done.html);
        assert.match(done.contentType, /^text\/html/);
        assert.ok(done.html.includes(`${address} is confirmed`), done.html);
        assert.equal((await me(user)).email_verified, true);

        // Single use: the same form again, or the token as JSON, is refused.
        const again = await submit(form);
        assert.equal(again.status, 400);
        assert.match(again.contentType, /^text\/html/);
        assert.match(alertOf(again), /invalid, expired or already used/);
        const replay = await api('POST', '/users/verify-email', { json: { token: raw } });
        assert.equal(replay.status, 400);
        assert.equal(replay.body.error.code, 'token_invalid');
      });

      test('a token in the link is shown in the page escaped, never as markup', async () => {
        const hostile = '"><script>alert(1)</script><input name="x" value="';
        for (const page of ['/users/verify-email', '/users/password-reset/confirm']) {
          const opened = await open(`${suite.publicUrl}${page}?token=${encodeURIComponent(hostile)}`);
          assert.equal(opened.status, 200);
          assert.ok(!opened.html.includes('<script>'), page);
          assert.equal(formOf(opened).fields.token, hostile, page);
          assert.equal(formOf(opened).fields.x, undefined, page);
          assert.match(opened.headers.get('content-security-policy') ?? '', /default-src 'none'/);
          // Referer carries at most the origin, never the token in the URL (test/html-pages.test.ts checks every page).
          assert.equal(opened.headers.get('referrer-policy'), 'strict-origin');
        }
      });

      test('a made-up or malformed verification token is refused with 400 token_invalid', async () => {
        for (const token of [randomBytes(32).toString('base64url'), 'short', `${randomBytes(32).toString('base64url')}x`, '']) {
          const answer = await api('POST', '/users/verify-email', { json: { token } });
          assert.equal(answer.status, 400, token);
          assert.equal(answer.body.error.code, 'token_invalid', token);
        }
      });

      test('an expired verification link is refused and confirms nothing', async () => {
        const user = await suite.platform.api.signUp();
        const raw = tokenOf(await verifyLink(addressOf(user)));
        await expire(raw);
        const answer = await api('POST', '/users/verify-email', { json: { token: raw } });
        assert.equal(answer.status, 400);
        assert.equal(answer.body.error.code, 'token_invalid');
        assert.equal((await me(user)).email_verified, false);
      });

      test('a new verification link makes the earlier one useless, and at most 5 links are sent an hour (202 all the same)', async () => {
        const user = await suite.platform.api.signUp();
        const address = addressOf(user);
        const first = await verifyLink(address);
        const resend = await api('POST', '/users/me/verify-email', { token: user.token });
        assert.equal(resend.status, 202);
        const second = await verifyLink(address, 2);
        assert.notEqual(tokenOf(second), tokenOf(first));
        const stale = await api('POST', '/users/verify-email', { json: { token: tokenOf(first) } });
        assert.equal(stale.status, 400);
        assert.equal(stale.body.error.code, 'token_invalid');

        // The registration's link and four more make five; the sixth and seventh ask for nothing.
        for (let i = 0; i < 5; i++) {
          const answer = await api('POST', '/users/me/verify-email', { token: user.token });
          assert.equal(answer.status, 202);
          assert.deepEqual(answer.body, resend.body);
        }
        assert.equal(await tokenCount(user.id, 'verify_email'), 5);
        const links = (await awaitMails(address, verifySubject, 5)).map((m) => linkIn(m, 'Confirm email address'));
        await suite.platform.settle();
        assert.equal(mailsTo(address, verifySubject).length, 5);

        // Only the latest link works (mail may arrive out of order: the table says which is latest).
        const live = [];
        for (const link of links) if ((await storedToken(tokenOf(link)))?.used_at === null) live.push(link);
        assert.equal(live.length, 1);
        const done = await api('POST', '/users/verify-email', { json: { token: tokenOf(live[0]!) } });
        assert.equal(done.status, 200);
        assert.deepEqual(done.body, { object: 'email_verification', verified: true, email: address });
      });
    });
  });
}
