// The login key (packages/platform/src/login-key.ts) on users' side, through the gateway: names not
// in NFC are refused, two accounts can never hold names that fold alike, an account is signed into
// by exactly the spellings whose key is its own, and accounts stored before the keys get theirs.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { backends, startTestPlatform, type TestPlatform } from '@paymesh/app/testing';
import { queryRows, sql, type Db } from '@paymesh/platform/db/open-database';
import { loginKey } from '@paymesh/platform/login-key';
import { backfillLoginKeys } from '../src/accounts/backfill-login-keys.ts';

// Several spellings of one address register in turn: the per-mailbox registration limit (tested in
// account-abuse.test.ts) would answer the later ones 429 before the login key is reached.
const env = { USERS_REGISTRATIONS_PER_MAILBOX_PER_HOUR: '1000' };

const hex = () => randomBytes(4).toString('hex');
const password = () => `pw-${randomBytes(8).toString('hex')}`;
/** Half-width ASCII to its full-width form (what CJK input methods type by default). */
const fullWidth = (text: string) => text.replace(/[!-~]/g, (c) => String.fromCodePoint(c.codePointAt(0)! + 0xfee0));

for (const backend of backends()) {
  describe(`users: one login key per account (${backend})`, () => {
    let platform: TestPlatform;
    let db: Db;

    before(async () => {
      platform = await startTestPlatform(backend, { env });
      db = platform.embedded!.services.users.runtime.database.db;
    });
    after(async () => {
      await platform?.stop();
    });

    const register = (body: Record<string, unknown>) => platform.api.call('POST', '/users', { json: body });
    const login = (username: string, secret: string) => platform.api.call('POST', '/auth/login', { json: { username, password: secret } });
    const accountsWithEmailKey = async (email: string) =>
      Number((await queryRows<{ n: number }>(db, sql`select count(*)::int as n from users where email_key = ${loginKey(email)}`))[0]!.n);

    test('a login name not in NFC is refused with 400 login_not_normalized: registration, create_user and an email change', async () => {
      const decomposedEmail = `e\u0301lodie.${hex()}@example.com`;
      for (const body of [
        { username: `u_${hex()}`, email: decomposedEmail, password: password() },
        // Not even the ASCII rule is reached: the form comes first.
        { username: `ka\u0301_${hex()}`, email: `k${hex()}@example.com`, password: password() },
        // KELVIN SIGN: its NFC form is the letter K.
        { username: `u_${hex()}`, email: `\u212Aim.${hex()}@example.com`, password: password() },
      ]) {
        const refused = await register(body);
        assert.equal(refused.status, 400, JSON.stringify(body));
        assert.equal(refused.body.error.code, 'login_not_normalized', JSON.stringify(body));
        const legacy = await platform.api.call('POST', '/users/create_user', { form: body });
        assert.equal(legacy.status, 400);
        assert.deepEqual([legacy.body.success, legacy.body.message, legacy.body.error.code], [false, 'Invalid input', 'login_not_normalized']);
      }
      const user = await platform.api.signUp();
      const change = await platform.api.call('PATCH', '/users/me', { token: user.token, json: { email: decomposedEmail, current_password: user.password } });
      assert.equal(change.status, 400);
      assert.equal(change.body.error.code, 'login_not_normalized');
      assert.equal(change.body.error.param, 'email');
    });

    test('two accounts whose email addresses fold to the same login key cannot both exist: the second registration creates nothing', async () => {
      const tag = hex();
      const owner = { username: `owner_${tag}`, email: `strasse.${tag}@example.com`, password: password() };
      assert.equal((await register(owner)).status, 202);
      const variants = [
        `STRASSE.${tag}@EXAMPLE.COM`,
        `straße.${tag}@example.com`,
        `STRAẞE.${tag}@example.com`,
        `${fullWidth('strasse')}.${fullWidth(tag)}@example.com`,
        `\uFB06rasse.${tag}@example.com`,
      ];
      for (const [i, email] of variants.entries()) {
        const intruder = { username: `intruder_${tag}_${i}`, email, password: password() };
        // The same answer as a new account (a taken address is never revealed) ...
        assert.equal((await register(intruder)).status, 202, email);
        // ... and no account: its username does not sign in.
        assert.equal((await login(intruder.username, intruder.password)).status, 401, email);
      }
      assert.equal(await accountsWithEmailKey(owner.email), 1);
      assert.equal((await login(owner.email, owner.password)).status, 200);
    });

    test('every spelling whose login key is the account\'s signs into it; a spelling not in NFC and every other name do not', async () => {
      const tag = hex();
      const account = { username: `kit_${tag}`, email: `élodie.${tag}@example.com`, password: password() };
      assert.equal((await register(account)).status, 202);
      for (const spelling of [account.username, account.username.toUpperCase(), fullWidth(account.username), account.email, account.email.toUpperCase(), account.email.replace('@', '＠')]) {
        assert.equal((await login(spelling, account.password)).status, 200, JSON.stringify(spelling));
      }
      for (const spelling of [
        account.email.normalize('NFD'),
        `\u212Ait_${tag}`,
        `k\u0130t_${tag}`,
        `k\u0131t_${tag}`,
        `${account.username} `,
        `${account.username}.`,
        `elodie.${tag}@example.com`,
      ]) {
        assert.equal((await login(spelling, account.password)).status, 401, JSON.stringify(spelling));
      }
    });

    test('accounts stored before login keys get theirs at start; of two whose names fold alike the older keeps it and the other is logged', async () => {
      const tag = hex();
      // As rows written before migration 0003 (or by an older replica): no keys.
      const [older, newer] = await queryRows<{ id: string }>(db, sql`insert into users (username, email) values
        (${`Old_${tag}`}, ${`strasse.${tag}@example.com`}), (${`new_${tag}`}, ${`straße.${tag}@example.com`}) returning id`);
      const lines: string[] = [];
      await backfillLoginKeys(db, pino({ level: 'info' }, { write: (line: string) => void lines.push(line) }));
      const keys = await queryRows<{ id: string; username_key: string | null; email_key: string | null }>(db,
        sql`select id, username_key, email_key from users where id in (${older!.id}, ${newer!.id}) order by id`);
      assert.deepEqual(keys.map((row) => [row.username_key, row.email_key]), [
        [`old_${tag}`, `strasse.${tag}@example.com`],
        [`new_${tag}`, null],
      ]);
      const refused = lines.map((line) => JSON.parse(line) as { level: number; userId?: number; column?: string }).filter((entry) => entry.level >= 50);
      assert.deepEqual(refused.map((entry) => [entry.userId, entry.column]), [[Number(newer!.id), 'email']]);
      // Nothing of the names themselves is logged.
      assert.ok(!lines.join('\n').includes(tag));
    });
  });
}
