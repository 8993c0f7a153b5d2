// What the users service's email-flow suites share: the platform of a suite, sending over a real
// SMTP exchange to an in-process sink, the helpers that wait for its mail and read its links, and a
// browser as far as the emailed pages need one (open a link, submit the form on the page).
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before } from 'node:test';
import { parseMail, startSmtpSink, type Mail, type SmtpSink } from '@paymesh/app/testing/smtp-sink';
import { eventually, startTestPlatform, type Backend, type TestPlatform } from '@paymesh/app/testing';
import { queryRows, sql, type Db } from '@paymesh/platform/db/open-database';

// Mail goes through SMTP only; nothing lands in an outbox folder.
const outboxDir = mkdtempSync(path.join(tmpdir(), 'paymesh-outbox-unused-'));

export type User = { id: number; token: string; username: string; password: string };
export const addressOf = (user: { username: string }) => `${user.username}@example.com`;
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
export const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');
export const newPassword = () => `new-pw-${randomBytes(8).toString('hex')}`;
/** How long a message may take from the request to the sink (outbox relay, delivery worker, SMTP). */
export const mailTimeoutMs = 10_000;

/** The link a message's text part offers under `label` ("Confirm email address: <url>"). */
export function linkIn(mail: Mail, label: string): string {
  const links = mail.text.match(/https?:\/\/\S+/g) ?? [];
  assert.equal(links.length, 1, `one link in "${mail.subject}"`);
  const labelled = new RegExp(`${label}: (https?://\\S+)`).exec(mail.text);
  assert.ok(labelled !== null, `"${label}: <url>" in "${mail.subject}"`);
  assert.ok(mail.html.includes(`href="${labelled[1]!.replaceAll('&', '&amp;')}"`), 'the HTML part links to it too');
  return labelled[1]!;
}

export const tokenOf = (link: string) => new URL(link).searchParams.get('token') ?? assert.fail(`no token in ${link}`);

// --- a browser, as far as these pages need one: open a link, submit the form on the page ----------

export interface Page { readonly url: string; readonly status: number; readonly contentType: string; readonly headers: Headers; readonly html: string }
export interface Form { readonly method: string; readonly action: string; readonly fields: Record<string, string>; readonly types: Record<string, string> }

export async function open(url: string): Promise<Page> {
  const response = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(10_000) });
  return { url, status: response.status, contentType: response.headers.get('content-type') ?? '', headers: response.headers, html: await response.text() };
}

export const unescapeHtml = (text: string) =>
  text.replace(/&(amp|lt|gt|quot|#39);/g, (_m, name: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'" })[name]!);

export function attributes(tag: string): Record<string, string> {
  const found: Record<string, string> = {};
  for (const [, name, value] of tag.matchAll(/([\w-]+)(?:="([^"]*)")?/g)) found[name!.toLowerCase()] = unescapeHtml(value ?? '');
  return found;
}

/** The page's one form: where it goes and the values its inputs hold (hidden fields included). */
export function formOf(page: Page): Form {
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
export async function submit(form: Form, typed: Record<string, string> = {}): Promise<Page> {
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

export const alertOf = (page: Page) => unescapeHtml(/<p role="alert"[^>]*>([^<]*)<\/p>/.exec(page.html)?.[1] ?? '');

/** An access token's issue time, in seconds. */
export const issuedAtSec = (token: string) => (JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as { iat: number }).iat;

/**
 * Token times have one-second resolution and a password change refuses the tokens issued before
 * the second it happened in (a login right after the change must work): a token older than the
 * change by less than a second survives by design. Waiting for the next second keeps the test about
 * the rule, not about the clock.
 */
export async function afterIssueSecond(token: string): Promise<void> {
  const wait = (issuedAtSec(token) + 1) * 1000 - Date.now();
  if (wait > 0) await sleep(wait + 5);
}

/** The platform of a suite (started in its `before`, stopped in its `after`), its SMTP sink, and the helpers its tests use. */
export function emailFlowSuite(backend: Backend) {
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

  return {
    get sink() {
      return sink;
    },
    get platform() {
      return platform;
    },
    get usersDb() {
      return usersDb;
    },
    get adminToken() {
      return adminToken;
    },
    get publicUrl() {
      return publicUrl;
    },
    api, me, loginStatus, mailsTo, awaitMails, awaitMail, verifySubject, resetSubject, verifyLink, resetLink, storedToken, tokenCount, expire, confirmByLink, requestReset,
  };
}
