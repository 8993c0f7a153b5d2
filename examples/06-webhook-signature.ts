// Webhooks, as in the README: a receiver on this machine, an endpoint registered for
// payment.succeeded, a payment, and the delivery's Paymesh-Signature verified over the raw body.
// The platform refuses loopback URLs unless it runs with WEBHOOKS_ALLOW_PRIVATE_NETWORKS=true
// (development only), e.g. `WEBHOOKS_ALLOW_PRIVATE_NETWORKS=true npm start`.
//   PAYMESH_URL=http://localhost:8080 node examples/06-webhook-signature.ts
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { InvalidRequestError, verifyWebhook, type WebhookEvent } from '@paymesh/sdk';
import { signUp } from './sign-up.ts';

const { paymesh, userId } = await signUp();

// The receiver: read the raw body, verify, then act (here: hand the event over).
let secret = '';
let delivered: (event: WebhookEvent) => void = () => undefined;
const received = new Promise<WebhookEvent>((resolve) => (delivered = resolve));
const receiver = createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', async () => {
    try {
      const event = await verifyWebhook(Buffer.concat(chunks), request.headers['paymesh-signature'] as string | undefined, secret);
      response.writeHead(204).end();
      delivered(event);
    } catch (error) {
      console.log(`refused a delivery: ${(error as Error).message}`);
      response.writeHead(400).end();
    }
  });
});
receiver.listen(0, '127.0.0.1');
await once(receiver, 'listening');
const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/paymesh-hook`;

try {
  const endpoint = await paymesh.post('/notifications/webhooks', { body: { url, event_types: ['payment.succeeded'] } }).catch((error: unknown) => {
    if (error instanceof InvalidRequestError && error.code === 'url_not_allowed') {
      throw new Error('the platform refuses loopback webhook URLs: start it with WEBHOOKS_ALLOW_PRIVATE_NETWORKS=true', { cause: error });
    }
    throw error;
  });
  secret = endpoint.secret;
  console.log(`registered ${endpoint.id} for payment.succeeded at ${url}`);

  const paid = await paymesh.post('/payments', { body: { amount: 12, user_id: userId } });
  console.log(`paid ${paid.payment.id}; waiting for the delivery…`);
  const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no delivery within 15 s')), 15_000).unref());
  const event = await Promise.race([received, timeout]);
  console.log(`verified ${event.type} ${event.id}: payment ${String(event.data.payment_id)}`);

  await paymesh.delete('/notifications/webhooks/{id}', { params: { path: { id: endpoint.id } } });
  console.log(`deleted ${endpoint.id}`);
} finally {
  receiver.close();
}
