// The users service's email flows end to end, the tests following the emailed links like a browser:
// self-service: a password change (with the current one, rate limited, announced by email) and what
// PATCH /users/me refuses. The platform, the mail helpers and the browser are in
// email-flow-harness.ts.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { backends, eventually } from '@paymesh/app/testing';
import { addressOf, afterIssueSecond, emailFlowSuite, newPassword, tokenOf } from './email-flow-harness.ts';

for (const backend of backends()) {
  describe(`users: email flows (${backend})`, () => {
    const suite = emailFlowSuite(backend);
    const { api, me, loginStatus, awaitMail, resetLink, requestReset } = suite;

    describe('self-service', () => {
      test('changing the password needs the current one and an acceptable new one; it signs every session out and is announced by email', async () => {
        const user = await suite.platform.api.signUp();
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
        const fresh = await suite.platform.api.login(user.username, chosen);
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
        const user = await suite.platform.api.signUp();
        const change = (current: string) => api('POST', '/users/me/password', { token: user.token, json: { current_password: current, new_password: newPassword() } });
        for (let i = 0; i < 5; i++) assert.equal((await change(`wrong-${i}-${user.password}`)).status, 400);
        const blocked = await change(user.password);
        assert.equal(blocked.status, 429);
        assert.equal(blocked.body.error.code, 'rate_limited');
        assert.equal(await loginStatus(user.username, user.password), 200, 'the password did not change');
      });

      test('wrong current passwords sent all at once get no more than 5 guesses: the rest are refused with 429 and the Retry-After of the 15-minute window', async () => {
        const user = await suite.platform.api.signUp();
        const change = (current: string) => api('POST', '/users/me/password', { token: user.token, json: { current_password: current, new_password: newPassword() } });
        const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => change(`wrong-${i}-${user.password}`)));
        const guessed = answers.filter((a) => a.status === 400);
        assert.ok(guessed.every((a) => a.body.error.code === 'current_password_invalid'));
        assert.ok(guessed.length <= 5, `${guessed.length} wrong passwords were checked`);
        const refused = answers.filter((a) => a.status === 429);
        assert.equal(guessed.length + refused.length, answers.length, JSON.stringify(answers.map((a) => a.status)));
        const blocked = await change(user.password);
        assert.equal(blocked.status, 429);
        assert.ok(Number(blocked.headers.get('retry-after')) > 60, `Retry-After ${blocked.headers.get('retry-after')}`);
        assert.equal(await loginStatus(user.username, user.password), 200, 'the password did not change');
      });

      test('a display name with a control or bidirectional formatting character, or nothing visible, is 400 parameter_invalid and changes nothing; joiners, accents and other scripts are names', async () => {
        const user = await suite.platform.api.signUp();
        const before = await me(user);
        for (const name of ['bell\u0007', 'tab\there', 'new\nline', '\u202Egpj.exe', 'a\u2066b\u2069', 'rlm\u200F', 'line\u2028break', 'tag\u{E0041}', '   ', '\u3000\u200B', '\u00A0']) {
          const answer = await api('PATCH', '/users/me', { token: user.token, json: { display_name: name } });
          assert.equal(answer.status, 400, JSON.stringify(name));
          assert.deepEqual([answer.body.error.code, answer.body.error.param], ['parameter_invalid', 'display_name'], JSON.stringify(name));
        }
        assert.deepEqual(await me(user), before);
        // An admin may not set one either.
        const admin = await suite.platform.api.adminToken();
        const byAdmin = await api('PATCH', `/users/${user.id}`, { token: admin, json: { display_name: '\u202Eevil' } });
        assert.deepEqual([byAdmin.status, byAdmin.body.error?.code], [400, 'parameter_invalid']);
        for (const name of ['Élodie Müller', '👩\u200D💻 dev', '李小龙', 'ناديا', 'Zoë  O\u2019Brien']) {
          const answer = await api('PATCH', '/users/me', { token: user.token, json: { display_name: name } });
          assert.equal(answer.status, 200, `${JSON.stringify(name)}: ${JSON.stringify(answer.body)}`);
          assert.equal(answer.body.display_name, name);
        }
      });

      test('PATCH /users/me refuses role, status, id, username and the verification fields (400) and changes nothing', async () => {
        const user = await suite.platform.api.signUp();
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
        assert.equal((await api('GET', '/users/me', { token: await suite.platform.api.login(user.username, user.password) })).body.role, 'user');
      });
    });
  });
}
