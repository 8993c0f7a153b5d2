// The users service's email flows end to end, the tests following the emailed links like a browser:
// what an unconfirmed address gets (receipts wait for the confirmation). The platform, the mail
// helpers and the browser are in email-flow-harness.ts.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { backends, eventually } from '@paymesh/app/testing';
import { addressOf, emailFlowSuite, mailTimeoutMs } from './email-flow-harness.ts';

for (const backend of backends()) {
  describe(`users: email flows (${backend})`, () => {
    const suite = emailFlowSuite(backend);
    const { api, mailsTo, awaitMail, verifyLink, confirmByLink } = suite;

    describe('what an unconfirmed address gets', () => {
      test('a payment receipt is not emailed to an unconfirmed address, and is once the address is confirmed', async () => {
        const user = await suite.platform.api.signUp();
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
        await suite.platform.settle();
        assert.equal(mailsTo(address, 'Payment received').length, 1, 'the earlier receipt was not sent late');
      });
    });
  });
}
