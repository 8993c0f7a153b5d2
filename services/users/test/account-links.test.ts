// Emailed links are bound to the address they were made for (issue 12 §2): each verification or
// reset link is mailed to the address its token names and to no other, every unused link dies on
// an email change, and only the latest link of an account works. Password reset requests answer the
// same, in the same time, for known and unknown addresses (the work happens in a job after the
// response). Through the gateway, with notifications sending over SMTP to an in-process sink.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { parseMail, startSmtpSink, type SmtpSink } from '@paymesh/app/testing/smtp-sink';
import { backends, eventually, startTestPlatform, type SignedUpUser, type TestPlatform } from '@paymesh/app/testing';
import { queryRows, sql, type Db } from '@paymesh/platform/db/open-database';

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');
const verifySubject = 'Confirm your email address';
const resetSubject = 'Reset your password';
const median = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

for (const backend of backends()) {
  describe(`users: emailed links are bound to their address (${backend})`, () => {
    let sink: SmtpSink;
    let platform: TestPlatform;
    let usersDb: Db;

    before(async () => {
      sink = await startSmtpSink();
      platform = await startTestPlatform(backend, { env: { SMTP_URL: sink.url } });
      usersDb = platform.embedded!.services.users.runtime.database.db;
    });
    after(async () => {
      await platform?.stop();
      await sink?.close();
    });

    const api = (method: string, url: string, options: Parameters<TestPlatform['api']['call']>[2] = {}) => platform.api.call(method, url, options);
    /** The tokens of the links mailed to `address` under `subject`, oldest first. */
    const tokensMailedTo = (address: string, subject: string) =>
      sink.received.filter((m) => m.rcptTo.includes(address.toLowerCase()) && m.subject === subject)
        .map((m) => /[?&]token=([A-Za-z0-9_-]{43})/.exec(parseMail(m.raw).text)?.[1] ?? assert.fail(`no link in "${subject}" to ${address}`));
    const awaitToken = (address: string, subject: string, nth = 1) =>
      eventually(async () => tokensMailedTo(address, subject)[nth - 1], { timeoutMs: 15_000 });
    const tokenAddress = async (raw: string) =>
      (await queryRows<{ email: string | null }>(usersDb, sql`select email from user_tokens where token_hash = ${sha256(raw)}`))[0]?.email;
    const tokensFor = async (email: string) =>
      Number((await queryRows<{ n: number }>(usersDb, sql`select count(*)::int as n from user_tokens where lower(email) = lower(${email})`))[0]!.n);
    const verify = (token: string) => api('POST', '/users/verify-email', { json: { token } });
    const reset = (token: string, password = 'a fresh passphrase for the test') => api('POST', '/users/password-reset/confirm', { json: { token, new_password: password } });
    const changeEmail = (user: SignedUpUser, email: string) => api('PATCH', '/users/me', { token: user.token, json: { email, current_password: user.password } });
    const me = async (user: SignedUpUser) => (await api('GET', '/users/me', { token: user.token })).body as { email: string; pending_email: string | null; email_verified: boolean };
    const refused = (answer: { status: number; body: { error?: { code: string } } }) => {
      assert.equal(answer.status, 400, JSON.stringify(answer.body));
      assert.equal(answer.body.error?.code, 'token_invalid');
    };

    /** Every link mailed so far went to the address its token names: the rule this file is about. */
    const everyLinkWentToItsAddress = async () => {
      for (const mail of sink.received.filter((m) => m.subject === verifySubject || m.subject === resetSubject)) {
        const raw = /[?&]token=([A-Za-z0-9_-]{43})/.exec(parseMail(mail.raw).text)?.[1];
        assert.ok(raw !== undefined);
        assert.deepEqual(mail.rcptTo, [(await tokenAddress(raw))?.toLowerCase()], `"${mail.subject}" went to the address its link is for`);
      }
    };

    test('two quick email changes: each address is mailed only its own link, and only the latest link confirms', async () => {
      const user = await platform.api.signUp();
      const first = `${user.username}@example.com`;
      const registrationLink = await awaitToken(first, verifySubject);
      const [b, c] = [`${user.username}.b@example.com`, `${user.username}.c@example.com`];
      assert.equal((await changeEmail(user, b)).status, 200);
      assert.equal((await changeEmail(user, c)).status, 200);
      const latest = await awaitToken(c, verifySubject);
      // The link for the registered address, made before the changes, confirms nothing any more.
      refused(await verify(registrationLink));
      // B's link (mailed or not, depending on when its delivery ran) is void.
      for (const token of tokensMailedTo(b, verifySubject)) refused(await verify(token));
      assert.equal((await verify(latest)).status, 200);
      const account = await me(user);
      assert.equal(account.email, c);
      assert.equal(account.email_verified, true);
      await everyLinkWentToItsAddress();
    });

    test('an email change past the hourly cap mails nothing and still voids every earlier link', async () => {
      const user = await platform.api.signUp();
      // The registration's link and four changes: the five links an account may be sent in an hour.
      const addresses = [1, 2, 3, 4].map((i) => `${user.username}.${i}@example.com`);
      for (const address of addresses) assert.equal((await changeEmail(user, address)).status, 200);
      const last = await awaitToken(addresses[3]!, verifySubject);
      const beyond = `${user.username}.5@example.com`;
      assert.equal((await changeEmail(user, beyond)).status, 200);
      assert.equal((await me(user)).pending_email, beyond);
      assert.equal(await tokensFor(beyond), 0, 'no link made for the address beyond the cap');
      refused(await verify(last));
      // A resend within the same hour sends nothing either, and the address stays unconfirmed.
      assert.equal((await api('POST', '/users/me/verify-email', { token: user.token })).status, 202);
      assert.equal(await tokensFor(beyond), 0);
      await everyLinkWentToItsAddress();
    });

    test('verify, then change: the confirmed address stays in use, the new one gets its own link, the old links are void', async () => {
      const user = await platform.api.signUp();
      const first = `${user.username}@example.com`;
      const link = await awaitToken(first, verifySubject);
      assert.equal((await verify(link)).status, 200);
      const next = `${user.username}.next@example.com`;
      assert.equal((await changeEmail(user, next)).status, 200);
      const nextLink = await awaitToken(next, verifySubject);
      refused(await verify(link));
      const before = await me(user);
      assert.deepEqual([before.email, before.pending_email, before.email_verified], [first, next, true]);
      assert.equal((await verify(nextLink)).status, 200);
      assert.equal((await me(user)).email, next);
      await everyLinkWentToItsAddress();
    });

    test('a link used after a newer link for the same address was sent is refused; the newer one works', async () => {
      const user = await platform.api.signUp();
      const address = `${user.username}@example.com`;
      await awaitToken(address, verifySubject, 1);
      assert.equal((await api('POST', '/users/me/verify-email', { token: user.token })).status, 202);
      const [older, newer] = [await awaitToken(address, verifySubject, 1), await awaitToken(address, verifySubject, 2)];
      refused(await verify(older));
      assert.equal((await verify(newer)).status, 200);
      refused(await verify(newer));
      await everyLinkWentToItsAddress();
    });

    test('reset links die on an email change (asked for, or confirmed) and are mailed only to the address they were made for', async () => {
      const user = await platform.api.signUp();
      const address = `${user.username}@example.com`;
      assert.equal((await api('POST', '/users/password-reset', { json: { email: address } })).status, 202);
      const resetLink = await awaitToken(address, resetSubject);
      const moved = `${user.username}.moved@example.com`;
      assert.equal((await changeEmail(user, moved)).status, 200);
      refused(await reset(resetLink));
      // Confirmed, and a reset asked for the old address: nothing is made for it any more.
      assert.equal((await verify(await awaitToken(moved, verifySubject))).status, 200);
      assert.equal((await api('POST', '/users/password-reset', { json: { email: address } })).status, 202);
      assert.equal((await api('POST', '/users/password-reset', { json: { email: moved } })).status, 202);
      const fresh = await awaitToken(moved, resetSubject);
      assert.equal(tokensMailedTo(address, resetSubject).length, 1, 'the address given up gets no new reset link');
      assert.equal((await reset(fresh)).status, 200);
      assert.equal(await platform.api.login(user.username, 'a fresh passphrase for the test').then(() => true), true);
      await everyLinkWentToItsAddress();
    });

    test("another account's link confirms nothing of this one, and this one's links stay usable", async () => {
      const [ana, bob] = [await platform.api.signUp(), await platform.api.signUp()];
      const [anaLink, bobLink] = [await awaitToken(`${ana.username}@example.com`, verifySubject), await awaitToken(`${bob.username}@example.com`, verifySubject)];
      assert.equal((await verify(bobLink)).status, 200);
      assert.equal((await me(ana)).email_verified, false);
      assert.equal((await me(bob)).email_verified, true);
      // Bob's link, already used, cannot be turned on Ana's account by changing her address to his.
      assert.equal((await changeEmail(ana, `${bob.username}@example.com`)).status, 200);
      refused(await verify(bobLink));
      refused(await verify(anaLink));
      assert.equal((await me(ana)).email, `${ana.username}@example.com`);
    });

    describe('password reset requests answer alike for known and unknown addresses', () => {
      test('status, body and headers are identical for a known and an unknown address', async () => {
        const user = await platform.api.signUp();
        const answers = [];
        for (const email of [`${user.username}@example.com`, `nobody-${user.username}@example.com`]) {
          for (const kind of ['json', 'form'] as const) {
            const options = kind === 'json' ? { json: { email } } : { form: { email } };
            const answer = await api('POST', '/users/password-reset', options);
            const headers = [...answer.headers].filter(([name]) => !['date', 'x-request-id', 'traceparent'].includes(name));
            answers.push({ kind, status: answer.status, body: answer.body, headers });
          }
        }
        assert.deepEqual(answers[0], answers[2]);
        assert.deepEqual(answers[1], answers[3]);
      });

      test('the response time does not tell a known address from an unknown one (medians of 40 interleaved pairs)', async () => {
        // Several known accounts, so the hourly cap of one account does not make the known requests cheaper.
        const known = [];
        for (let i = 0; i < 4; i++) known.push(`${(await platform.api.signUp()).username}@example.com`);
        const timed = async (email: string) => {
          const started = performance.now();
          const answer = await api('POST', '/users/password-reset', { json: { email } });
          const ms = performance.now() - started;
          assert.equal(answer.status, 202);
          return ms;
        };
        const knownMs: number[] = [];
        const unknownMs: number[] = [];
        for (let i = 0; i < 40; i++) {
          // Interleaved, and in alternating order, so that load on the machine falls on both alike.
          const unknown = `nobody-${i}-${known[0]}`;
          if (i % 2 === 0) {
            knownMs.push(await timed(known[i % known.length]!));
            unknownMs.push(await timed(unknown));
          } else {
            unknownMs.push(await timed(unknown));
            knownMs.push(await timed(known[i % known.length]!));
          }
        }
        const [mk, mu] = [median(knownMs), median(unknownMs)];
        // The review measured 57 ms against 15 ms (almost 4×). A bound that the noise of a loaded
        // machine (other test files beside this one) cannot cross and that leak could not pass:
        // the slower median within twice the faster one plus 10 ms.
        assert.ok(Math.max(mk, mu) <= 2 * Math.min(mk, mu) + 10, `median known ${mk.toFixed(1)} ms, unknown ${mu.toFixed(1)} ms`);
        // The job did the work after the answers: links reached the known addresses, the queue drained.
        await awaitToken(known[0]!, resetSubject);
        await eventually(async () => (Number((await queryRows<{ n: number }>(usersDb, sql`select count(*)::int as n from password_reset_requests`))[0]!.n) === 0 ? true : undefined), { timeoutMs: 15_000 });
        await everyLinkWentToItsAddress();
      });
    });
  });
}
