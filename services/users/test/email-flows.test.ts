// The users service's email flows end to end: the notifications service sends the messages over a
// real SMTP exchange to an in-process sink, and the tests follow the emailed links like a browser
// (GET the page, submit its form). Verification, password reset, email change, password change,
// and who is (not) written to: unknown, disabled, throttled, unconfirmed addresses.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseMail, startSmtpSink, type Mail, type SmtpSink } from '@paymesh/app/testing/smtp-sink';
import { backends, eventually, startTestPlatform, type TestPlatform } from '@paymesh/app/testing';
import { queryRows, sql, type Db } from '@paymesh/platform/db/open-database';

// Mail goes through SMTP only; nothing lands in an outbox folder.
const outboxDir = mkdtempSync(path.join(tmpdir(), 'paymesh-outbox-unused-'));

type User = { id: number; token: string; username: string; password: string };
const addressOf = (user: { username: string }) => `${user.username}@example.com`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');
const newPassword = () => `new-pw-${randomBytes(8).toString('hex')}`;
/** How long a message may take from the request to the sink (outbox relay, delivery worker, SMTP). */
const mailTimeoutMs = 10_000;
/** After the last expected message arrived: long enough for one that should not come to show up. */
const quietMs = 1_500;

/** The link a message's text part offers under `label` ("Confirm email address: <url>"). */
function linkIn(mail: Mail, label: string): string {
  const links = mail.text.match(/https?:\/\/\S+/g) ?? [];
  assert.equal(links.length, 1, `one link in "${mail.subject}"`);
  const labelled = new RegExp(`${label}: (https?://\\S+)`).exec(mail.text);
  assert.ok(labelled !== null, `"${label}: <url>" in "${mail.subject}"`);
  assert.ok(mail.html.includes(`href="${labelled[1]!.replaceAll('&', '&amp;')}"`), 'the HTML part links to it too');
  return labelled[1]!;
}

const tokenOf = (link: string) => new URL(link).searchParams.get('token') ?? assert.fail(`no token in ${link}`);

// --- a browser, as far as these pages need one: open a link, submit the form on the page ----------

interface Page { readonly url: string; readonly status: number; readonly contentType: string; readonly headers: Headers; readonly html: string }
interface Form { readonly method: string; readonly action: string; readonly fields: Record<string, string>; readonly types: Record<string, string> }

async function open(url: string): Promise<Page> {
  const response = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(10_000) });
  return { url, status: response.status, contentType: response.headers.get('content-type') ?? '', headers: response.headers, html: await response.text() };
}

const unescapeHtml = (text: string) =>
  text.replace(/&(amp|lt|gt|quot|#39);/g, (_m, name: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'" })[name]!);

function attributes(tag: string): Record<string, string> {
  const found: Record<string, string> = {};
  for (const [, name, value] of tag.matchAll(/([\w-]+)(?:="([^"]*)")?/g)) found[name!.toLowerCase()] = unescapeHtml(value ?? '');
  return found;
}

/** The page's one form: where it goes and the values its inputs hold (hidden fields included). */
function formOf(page: Page): Form {
  const forms = [...page.html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)];
  assert.equal(forms.length, 1, `one form on ${page.url}`);
  const [, formTag, content] = forms[0]!;
  const form = attributes(formTag!);
  const fields: Record<string, string> = {};
  const types: Record<string, string> = {};
  for (const [, inputTag] of content!.matchAll(/<input\b([^>]*)>/gi)) {
    const input = attributes(inputTag!);
    if (input.name === undefined) continue;
    fields[input.name] = input.value ?? '';
    types[input.name] = input.type ?? 'text';
  }
  return { method: (form.method ?? 'get').toLowerCase(), action: new URL(form.action ?? page.url, page.url).href, fields, types };
}

/** Submits `form` as a browser does (form-encoded, its hidden fields included), with what the user typed. */
async function submit(form: Form, typed: Record<string, string> = {}): Promise<Page> {
  assert.equal(form.method, 'post');
  const response = await fetch(form.action, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ ...form.fields, ...typed }).toString(),
    redirect: 'manual',
    signal: AbortSignal.timeout(10_000),
  });
  return { url: form.action, status: response.status, contentType: response.headers.get('content-type') ?? '', headers: response.headers, html: await response.text() };
}

const alertOf = (page: Page) => unescapeHtml(/<p role="alert"[^>]*>([^<]*)<\/p>/.exec(page.html)?.[1] ?? '');

/** An access token's issue time, in seconds. */
const issuedAtSec = (token: string) => (JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as { iat: number }).iat;

/**
 * Token times have one-second resolution and a password change refuses the tokens issued before
 * the second it happened in (a login right after the change must work): a token older than the
 * change by less than a second survives by design. Waiting for the next second keeps the test about
 * the rule, not about the clock.
 */
async function afterIssueSecond(token: string): Promise<void> {
  const wait = (issuedAtSec(token) + 1) * 1000 - Date.now();
  if (wait > 0) await sleep(wait + 5);
}

for (const backend of backends()) {
  describe(`users: email flows (${backend})`, () => {
    let sink: SmtpSink;
    let platform: TestPlatform;
    let usersDb: Db;
    let adminToken: string;
    let publicUrl: string;

    before(async () => {
      sink = await startSmtpSink();
      platform = await startTestPlatform(backend, { env: { SMTP_URL: sink.url, EMAIL_OUTBOX_DIR: outboxDir } });
      usersDb = platform.embedded!.services.users.runtime.database.db;
      adminToken = await platform.api.adminToken();
      publicUrl = `http://localhost:${platform.embedded!.plan.gateway}`;
    });
    after(async () => {
      await platform?.stop();
      await sink?.close();
    });

    const api = (method: string, url: string, options: Parameters<TestPlatform['api']['call']>[2] = {}) => platform.api.call(method, url, options);
    const me = async (user: Pick<User, 'token'>) => {
      const answer = await api('GET', '/users/me', { token: user.token });
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      return answer.body as { id: number; username: string; email: string; display_name: string | null; email_verified: boolean; pending_email: string | null; role: string; status: string };
    };
    const loginStatus = async (username: string, password: string) => (await api('POST', '/auth/login', { json: { username, password } })).status;

    const mailsTo = (address: string, subject?: string) =>
      sink.received.filter((m) => m.rcptTo.includes(address.toLowerCase())).map((m) => parseMail(m.raw)).filter((m) => subject === undefined || m.subject === subject);
    /** Waits until `count` messages with this subject reached `address`, and returns them in order of arrival. */
    const awaitMails = (address: string, subject: string, count: number) =>
      eventually(async () => {
        const found = mailsTo(address, subject);
        assert.ok(found.length <= count, `at most ${count} "${subject}" to ${address}, got ${found.length}`);
        return found.length === count ? found : undefined;
      }, { timeoutMs: mailTimeoutMs });
    const awaitMail = async (address: string, subject: string, nth = 1) => (await awaitMails(address, subject, nth))[nth - 1]!;

    const verifySubject = 'Confirm your email address';
    const resetSubject = 'Reset your password';
    const verifyLink = async (address: string, nth = 1) => linkIn(await awaitMail(address, verifySubject, nth), 'Confirm email address');
    const resetLink = async (address: string, nth = 1) => linkIn(await awaitMail(address, resetSubject, nth), 'Choose a new password');

    const storedToken = async (raw: string) =>
      (await queryRows<{ user_id: string; purpose: string; email: string | null; used_at: unknown; ttl_sec: number }>(usersDb,
        sql`select user_id, purpose, email, used_at, extract(epoch from expires_at - created_at)::int as ttl_sec from user_tokens where token_hash = ${sha256(raw)}`))[0];
    const tokenCount = async (userId: number, purpose: string) =>
      Number((await queryRows<{ n: number }>(usersDb, sql`select count(*)::int as n from user_tokens where user_id = ${String(userId)} and purpose = ${purpose}`))[0]!.n);
    const expire = (raw: string) => usersDb.execute(sql`update user_tokens set expires_at = now() - interval '1 second' where token_hash = ${sha256(raw)}`);

    /** Follows an emailed verification link the way a person does: opens it, presses Confirm. */
    const confirmByLink = async (link: string) => submit(formOf(await open(link)));
    const requestReset = (email: string) => api('POST', '/users/password-reset', { json: { email } });

    describe('email verification', () => {
      test('the emailed verification link confirms the address only when its form is submitted, and only once', async () => {
        const user = await platform.api.signUp();
        const address = addressOf(user);
        const mail = await awaitMail(address, verifySubject);
        assert.equal(mail.headers.get('to'), address);
        const link = linkIn(mail, 'Confirm email address');
        assert.ok(link.startsWith(`${publicUrl}/users/verify-email?token=`), link);
        const raw = tokenOf(link);
        assert.match(raw, /^[A-Za-z0-9_-]{43}$/, '32 random bytes, base64url');

        // Only the token's SHA-256 is kept: the table holds nothing that makes the link.
        const stored = await storedToken(raw);
        assert.equal(stored?.user_id, String(user.id));
        assert.equal(stored?.purpose, 'verify_email');
        assert.equal(stored?.email, address);
        assert.equal(stored?.ttl_sec, 48 * 3600);
        const leaks = await queryRows<{ n: number }>(usersDb, sql`select count(*)::int as n from user_tokens t where position(${raw} in t::text) > 0`);
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
          const opened = await open(`${publicUrl}${page}?token=${encodeURIComponent(hostile)}`);
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
        const user = await platform.api.signUp();
        const raw = tokenOf(await verifyLink(addressOf(user)));
        await expire(raw);
        const answer = await api('POST', '/users/verify-email', { json: { token: raw } });
        assert.equal(answer.status, 400);
        assert.equal(answer.body.error.code, 'token_invalid');
        assert.equal((await me(user)).email_verified, false);
      });

      test('a new verification link makes the earlier one useless, and at most 5 links are sent an hour (202 all the same)', async () => {
        const user = await platform.api.signUp();
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
        await sleep(quietMs);
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

    describe('password reset', () => {
      test('the emailed reset link, followed in a browser, sets the new password, signs every session out, voids the other links and confirms the address', async () => {
        const user = await platform.api.signUp();
        const address = addressOf(user);
        const asked = await requestReset(address);
        assert.equal(asked.status, 202);
        assert.equal(asked.body.object, 'password_reset');
        const earlier = await resetLink(address);
        assert.equal((await requestReset(address)).status, 202);
        const link = await resetLink(address, 2);
        assert.ok(link.startsWith(`${publicUrl}/users/password-reset/confirm?token=`), link);
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
        const fresh = await platform.api.login(user.username, chosen);
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
        const user = await platform.api.signUp();
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
        const user = await platform.api.signUp();
        assert.equal((await requestReset(addressOf(user))).status, 202);
        const raw = tokenOf(await resetLink(addressOf(user)));
        assert.equal((await api('PATCH', `/users/${user.id}`, { token: adminToken, json: { status: 'disabled' } })).status, 200);
        const answer = await api('POST', '/users/password-reset/confirm', { json: { token: raw, new_password: newPassword() } });
        assert.equal(answer.status, 400);
        assert.equal(answer.body.error.code, 'token_invalid');
        const [row] = await queryRows<{ email_verified_at: unknown }>(usersDb, sql`select email_verified_at from users where id = ${String(user.id)}`);
        assert.equal(row?.email_verified_at, null);
        assert.equal((await api('PATCH', `/users/${user.id}`, { token: adminToken, json: { status: 'active' } })).status, 200);
        assert.equal(await loginStatus(user.username, user.password), 200, 'the password is the one from before');
      });

      test('an expired reset link is refused and the password stays as it was', async () => {
        const user = await platform.api.signUp();
        assert.equal((await requestReset(addressOf(user))).status, 202);
        const raw = tokenOf(await resetLink(addressOf(user)));
        await expire(raw);
        const answer = await api('POST', '/users/password-reset/confirm', { json: { token: raw, new_password: newPassword() } });
        assert.equal(answer.status, 400);
        assert.equal(answer.body.error.code, 'token_invalid');
        const page = await submit(formOf(await open(`${publicUrl}/users/password-reset/confirm?token=${raw}`)), { new_password: newPassword() });
        assert.equal(page.status, 400);
        assert.equal(await loginStatus(user.username, user.password), 200);
      });

      test('a reset request answers the same for an unknown address, a disabled account and an active one; only the active one is emailed, at most 3 times an hour', async () => {
        const active = await platform.api.signUp();
        const disabled = await platform.api.signUp();
        const disabling = await api('PATCH', `/users/${disabled.id}`, { token: adminToken, json: { status: 'disabled' } });
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
          const page = await submit(formOf(await open(`${publicUrl}/users/password-reset`)), { email });
          pages.push({ status: page.status, html: page.html });
        }
        assert.equal(pages[0]!.status, 202);
        assert.deepEqual(pages[1], pages[0]);

        // Three links an hour: the JSON and form requests above sent two, the next sends the
        // third, and the one after is answered alike and sends nothing.
        for (let i = 0; i < 2; i++) assert.deepEqual((await requestReset(addressOf(active))).body, answers[0]!.body);
        await awaitMails(addressOf(active), resetSubject, 3);
        await sleep(quietMs);
        assert.equal(mailsTo(addressOf(active), resetSubject).length, 3);
        assert.equal(await tokenCount(active.id, 'password_reset'), 3);
        assert.equal(mailsTo(addressOf(disabled), resetSubject).length, 0);
        assert.equal(await tokenCount(disabled.id, 'password_reset'), 0);
        assert.equal(mailsTo(unknown).length, 0);
      });

      test('registering with a taken address creates nothing and tells its owner, whose email leads to the reset form', async () => {
        const owner = await platform.api.signUp();
        const address = addressOf(owner);
        const intruder = `i${randomBytes(5).toString('hex')}`;
        const attempt = await api('POST', '/users', { json: { username: intruder, email: address.toUpperCase(), password: newPassword() } });
        assert.equal(attempt.status, 202);
        assert.equal(attempt.body.object, 'registration');
        assert.equal(await loginStatus(intruder, 'anything-at-all'), 401);
        const [row] = await queryRows<{ n: number }>(usersDb, sql`select count(*)::int as n from users where username = ${intruder}`);
        assert.equal(Number(row!.n), 0);

        const warning = await awaitMail(address, 'Someone tried to register with your email address');
        const link = linkIn(warning, 'Reset my password');
        assert.equal(link, `${publicUrl}/users/password-reset`);
        const asked = await submit(formOf(await open(link)), { email: address });
        assert.equal(asked.status, 202);
        assert.match(asked.contentType, /^text\/html/);
        assert.match(await resetLink(address), /\/users\/password-reset\/confirm\?token=/);
      });
    });

    describe('email change', () => {
      test('an email change needs the current password: without it 400 parameter_missing, a wrong one 400 current_password_invalid, and nothing waits', async () => {
        const user = await platform.api.signUp();
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
        const user = await platform.api.signUp();
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
        const [row] = await queryRows<{ email: string; pending_email: string | null }>(usersDb, sql`select email, pending_email from users where id = ${String(user.id)}`);
        assert.deepEqual({ ...row }, { email: address, pending_email: null });
      });

      test('an email change waits for the link sent to the new address; following it swaps the addresses', async () => {
        const user = await platform.api.signUp();
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

        await sleep(quietMs);
        assert.deepEqual(mailsTo(oldAddress).map((m) => m.subject), [verifySubject, resetSubject], 'the old address got its own registration link and the reset it asked for');
        assert.ok(!mailsTo(oldAddress).some((m) => m.text.includes(tokenOf(link))));
        assert.deepEqual(mailsTo(newAddress).map((m) => m.subject), [verifySubject], 'the waiting address got its link, and no reset');
      });

      test('changing the email back to the current address drops the pending change, and its link confirms nothing', async () => {
        const user = await platform.api.signUp();
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
        const user = await platform.api.signUp();
        await platform.confirmEmail(user.id);
        const rival = `r${randomBytes(5).toString('hex')}`;
        const contested = addressOf({ username: rival });
        assert.equal((await api('PATCH', '/users/me', { token: user.token, json: { email: contested, current_password: user.password } })).status, 200);
        const link = await verifyLink(contested);
        // The rival registers the address first (a pending change does not hold it).
        await platform.api.signUp(rival);

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
        const [rivalRow] = await queryRows<{ email: string }>(usersDb, sql`select email from users where username = ${rival}`);
        assert.equal(rivalRow?.email, contested);
      });

      test('email changes send at most 5 verification links an hour, whatever addresses they name', async () => {
        const user = await platform.api.signUp();
        const targets = [0, 1].map(() => `f${randomBytes(5).toString('hex')}@example.com`);
        // The registration's link and six changes between two addresses.
        for (let i = 0; i < 6; i++) {
          const answer = await api('PATCH', '/users/me', { token: user.token, json: { email: targets[i % 2], current_password: user.password } });
          assert.equal(answer.status, 200);
          assert.equal(answer.body.pending_email, targets[i % 2]);
        }
        assert.equal(await tokenCount(user.id, 'verify_email'), 5);
        const sent = () => [addressOf(user), ...targets].flatMap((a) => mailsTo(a, verifySubject)).length;
        await eventually(async () => (sent() >= 5 ? true : undefined), { timeoutMs: mailTimeoutMs });
        await sleep(quietMs);
        assert.equal(sent(), 5);
      });
    });

    describe('self-service', () => {
      test('changing the password needs the current one and an acceptable new one; it signs every session out and is announced by email', async () => {
        const user = await platform.api.signUp();
        const address = addressOf(user);
        assert.equal((await requestReset(address)).status, 202);
        const pendingReset = tokenOf(await resetLink(address));

        const change = (body: Record<string, unknown>) => api('POST', '/users/me/password', { token: user.token, json: body });
        const wrong = await change({ current_password: `${user.password}x`, new_password: newPassword() });
        assert.equal(wrong.status, 400);
        assert.equal(wrong.body.error.code, 'current_password_invalid');
        for (const [password, code] of [['password123', 'password_too_common'], [user.username.toUpperCase(), 'password_too_common'], ['short', 'parameter_invalid']]) {
          const refused = await change({ current_password: user.password, new_password: password });
          assert.equal(refused.status, 400, password);
          assert.equal(refused.body.error.code, code, password);
        }
        assert.equal(await loginStatus(user.username, user.password), 200, 'nothing refused changed the password');

        await afterIssueSecond(user.token);
        const chosen = newPassword();
        const changed = await change({ current_password: user.password, new_password: chosen });
        assert.equal(changed.status, 200, JSON.stringify(changed.body));
        assert.equal(changed.body.changed, true);
        for (const path of ['/notifications/', '/users/me']) {
          await eventually(async () => ((await api('GET', path, { token: user.token })).status === 401 ? true : undefined), { timeoutMs: 5_000 });
        }
        assert.equal(await loginStatus(user.username, user.password), 401);
        const fresh = await platform.api.login(user.username, chosen);
        assert.equal((await api('GET', '/notifications/', { token: fresh })).status, 200);

        const announced = await awaitMail(address, 'Your password was changed');
        assert.match(announced.text, /every session was signed out/);
        // A reset link still in the mailbox from before the change is void.
        const stale = await api('POST', '/users/password-reset/confirm', { json: { token: pendingReset, new_password: newPassword() } });
        assert.equal(stale.status, 400);
        assert.equal(stale.body.error.code, 'token_invalid');
        // The change does not pass for a confirmation of the address.
        assert.equal((await me({ token: fresh })).email_verified, false);
      });

      test('a stolen token is no password oracle: after 5 wrong current passwords in 15 minutes, even the right one is refused with 429', async () => {
        const user = await platform.api.signUp();
        const change = (current: string) => api('POST', '/users/me/password', { token: user.token, json: { current_password: current, new_password: newPassword() } });
        for (let i = 0; i < 5; i++) assert.equal((await change(`wrong-${i}-${user.password}`)).status, 400);
        const blocked = await change(user.password);
        assert.equal(blocked.status, 429);
        assert.equal(blocked.body.error.code, 'rate_limited');
        assert.equal(await loginStatus(user.username, user.password), 200, 'the password did not change');
      });

      test('PATCH /users/me refuses role, status, id, username and the verification fields (400) and changes nothing', async () => {
        const user = await platform.api.signUp();
        const before = await me(user);
        const attempts: Record<string, unknown>[] = [
          { role: 'admin' }, { status: 'disabled' }, { id: 1 }, { username: 'someone_else' },
          { email_verified: true }, { pending_email: 'x@example.com' },
          { display_name: 'Mallory', role: 'admin' }, { email: 'new@example.com', status: 'active' },
        ];
        for (const body of attempts) {
          const answer = await api('PATCH', '/users/me', { token: user.token, json: body });
          assert.equal(answer.status, 400, JSON.stringify(body));
          assert.equal(answer.body.error.code, 'parameter_unknown', JSON.stringify(body));
        }
        assert.deepEqual(await me(user), before);
        assert.equal((await api('GET', '/users/me', { token: await platform.api.login(user.username, user.password) })).body.role, 'user');
      });
    });

    describe('what an unconfirmed address gets', () => {
      test('a payment receipt is not emailed to an unconfirmed address, and is once the address is confirmed', async () => {
        const user = await platform.api.signUp();
        const address = addressOf(user);
        const pay = async (amount: number) => {
          const paid = await api('POST', '/payments', { token: user.token, json: { amount, user_id: user.id } });
          assert.equal(paid.status, 200, JSON.stringify(paid.body));
        };
        await pay(5);
        const receipts = async () => {
          const list = await api('GET', '/notifications/deliveries?channel=email', { token: user.token });
          assert.equal(list.status, 200, JSON.stringify(list.body));
          return (list.body.data as { type: string; status: string; last_error: string | null }[]).filter((d) => d.type === 'payment.succeeded');
        };
        const [canceled] = await eventually(async () => {
          const found = await receipts();
          return found.length === 1 && found[0]!.status !== 'pending' ? found : undefined;
        }, { timeoutMs: mailTimeoutMs });
        assert.equal(canceled!.status, 'canceled');
        assert.match(canceled!.last_error ?? '', /not verified/);

        await confirmByLink(await verifyLink(address));
        await pay(6);
        const receipt = await awaitMail(address, 'Payment received');
        assert.match(receipt.text, /\$6\.00/);
        await sleep(quietMs);
        assert.equal(mailsTo(address, 'Payment received').length, 1, 'the earlier receipt was not sent late');
      });
    });
  });
}
