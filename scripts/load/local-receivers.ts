// The far ends of the webhook and Web Push channels for a load run on one machine: one HTTP server
// on 127.0.0.1 that accepts webhooks at /webhooks/ok, refuses them with a 500 at /webhooks/failing
// (the platform retries, then dead-letters them) and accepts Web Push messages at /push/<n> with
// a 201, as a push service does. It counts what arrives; it does not decrypt pushes (the
// notifications tests check the protocol against stricter fakes).
import { createECDH, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface LocalReceivers {
  readonly baseUrl: string;
  readonly received: { webhooks: number; failedWebhooks: number; pushes: number };
  /** A Web Push subscription (as a browser's PushManager gives it) delivered to this receiver. */
  subscription(n: number): { endpoint: string; keys: { p256dh: string; auth: string } };
  close(): Promise<void>;
}

export async function startLocalReceivers(): Promise<LocalReceivers> {
  const received = { webhooks: 0, failedWebhooks: 0, pushes: 0 };
  const server: Server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      const path = request.url ?? '';
      if (request.method === 'POST' && path === '/webhooks/ok') {
        received.webhooks += 1;
        response.writeHead(200).end('ok');
      } else if (request.method === 'POST' && path === '/webhooks/failing') {
        received.failedWebhooks += 1;
        response.writeHead(500).end('failing on purpose');
      } else if (request.method === 'POST' && path.startsWith('/push/')) {
        received.pushes += 1;
        response.writeHead(201, { location: `${path}/messages/${received.pushes}` }).end();
      } else {
        response.writeHead(404).end();
      }
    });
  });
  server.keepAliveTimeout = 1_000;
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    baseUrl,
    received,
    subscription(n) {
      const ecdh = createECDH('prime256v1');
      ecdh.generateKeys();
      return { endpoint: `${baseUrl}/push/${n}`, keys: { p256dh: ecdh.getPublicKey().toString('base64url'), auth: randomBytes(16).toString('base64url') } };
    },
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}
