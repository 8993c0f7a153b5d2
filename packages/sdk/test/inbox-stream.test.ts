// The inbox stream through the SDK, on a real platform: a payment's notification arrives live; a
// connection dropped mid-stream is reopened with Last-Event-ID and what was missed arrives first;
// an abort ends the iteration; a refused token is an error, not a reconnect loop.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestPlatform, type SignedUpUser, type TestPlatform } from '@paymesh/app/testing';
import { AuthenticationError, createPaymesh, type InboxEvent, type Paymesh } from '@paymesh/sdk';

/** Collects a stream's events in the background; `next(type)` waits for the next of that type. */
function collect(events: AsyncIterable<InboxEvent>) {
  const seen: InboxEvent[] = [];
  let wake: () => void = () => undefined;
  const done = (async () => {
    for await (const event of events) {
      seen.push(event);
      wake();
    }
  })();
  let read = 0;
  const next = async <T extends InboxEvent['type']>(type: T, timeoutMs = 10_000): Promise<Extract<InboxEvent, { type: T }>> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      while (read < seen.length) {
        const event = seen[read++]!;
        if (event.type === type) return event as Extract<InboxEvent, { type: T }>;
      }
      if (Date.now() > deadline) throw new Error(`no ${type} event within ${timeoutMs} ms; seen ${JSON.stringify(seen)}`);
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, 100);
      });
    }
  };
  return { seen, next, done };
}

describe('the inbox stream through the SDK', () => {
  let platform: TestPlatform;

  before(async () => {
    platform = await startTestPlatform('pglite');
  });
  after(async () => {
    await platform?.stop();
  });

  const userWithSdk = async (options: { fetch?: (request: Request) => Promise<Response>; sleep?: (ms: number) => Promise<void> } = {}): Promise<{ user: SignedUpUser; paymesh: Paymesh }> => {
    const user = await platform.api.signUp();
    return { user, paymesh: createPaymesh({ baseUrl: platform.gatewayUrl, token: user.token, fetch: options.fetch, retries: { sleep: options.sleep } }) };
  };

  test('a payment\'s notification arrives on the open stream, then the unread count', async () => {
    const { user, paymesh } = await userWithSdk();
    const controller = new AbortController();
    const stream = collect(paymesh.streamInbox({ signal: controller.signal }));
    assert.deepEqual(await stream.next('unread_count'), { type: 'unread_count', unread: 0 }, 'a fresh stream starts with the count');
    await paymesh.post('/payments', { body: { amount: 5, user_id: user.id } });
    const arrived = await stream.next('notification');
    assert.match(String((arrived.notification as { message: string }).message), /\$5\.00/);
    assert.equal(arrived.id, String((arrived.notification as { id: number }).id));
    assert.deepEqual(await stream.next('unread_count'), { type: 'unread_count', unread: 1 });
    controller.abort();
    await stream.done; // the iteration ends quietly
  });

  test('after a drop the stream reconnects with Last-Event-ID, and the notification made meanwhile arrives first', async () => {
    const connections: (string | null)[] = [];
    let dropped = false;
    let waitedMs: number | undefined;
    // The first stream fails like a broken network right after its first notification.
    const droppingFetch = async (request: Request) => {
      const response = await fetch(request);
      if (!new URL(request.url).pathname.endsWith('/notifications/stream')) return response;
      connections.push(request.headers.get('last-event-id'));
      if (dropped || response.body === null) return response;
      let text = '';
      const cut = new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          text += new TextDecoder().decode(chunk);
          const end = text.indexOf('\n\n', text.indexOf('event: notification'));
          if (text.includes('event: notification') && end !== -1) {
            dropped = true;
            controller.enqueue(new TextEncoder().encode(text.slice(0, end + 2)));
            controller.error(new TypeError('terminated: the network went away'));
            return;
          }
          controller.enqueue(chunk);
          text = text.slice(text.lastIndexOf('\n\n') + 2);
        },
      });
      return new Response(response.body.pipeThrough(cut), response);
    };
    let user!: SignedUpUser;
    let paymesh!: Paymesh;
    // While the SDK waits to reconnect, a second payment is made: its notification is missed live.
    const sleep = async (ms: number) => {
      waitedMs = ms;
      await paymesh.post('/payments', { body: { amount: 2, user_id: user.id } });
      await platform.settle();
    };
    ({ user, paymesh } = await userWithSdk({ fetch: droppingFetch, sleep }));
    const controller = new AbortController();
    const stream = collect(paymesh.streamInbox({ signal: controller.signal }));
    await stream.next('unread_count');
    await paymesh.post('/payments', { body: { amount: 1, user_id: user.id } });
    const first = await stream.next('notification');
    const second = await stream.next('notification');
    assert.ok(BigInt(second.id) > BigInt(first.id));
    assert.match(String((second.notification as { message: string }).message), /\$2\.00/);
    assert.deepEqual(connections, [null, first.id], 'the reconnect named the last notification it had');
    assert.ok(waitedMs !== undefined && waitedMs >= 3000, `waited the server's retry (3000 ms) at least, not ${waitedMs}`);
    controller.abort();
    await stream.done;
  });

  test('a refused token ends the iteration with AuthenticationError, without reconnecting', async () => {
    let connections = 0;
    const paymesh = createPaymesh({ baseUrl: platform.gatewayUrl, token: 'nope', fetch: (request) => (connections++, fetch(request)) });
    await assert.rejects(collect(paymesh.streamInbox()).done, AuthenticationError);
    assert.equal(connections, 1);
  });

  test('resuming from a lastEventId the caller kept sends what came after it', async () => {
    const { user, paymesh } = await userWithSdk();
    for (const amount of [1, 2, 3]) await paymesh.post('/payments', { body: { amount, user_id: user.id } });
    await platform.settle();
    const inbox = await paymesh.get('/notifications');
    const oldest = inbox.at(-1)!;
    const controller = new AbortController();
    const stream = collect(paymesh.streamInbox({ signal: controller.signal, lastEventId: String(oldest.id) }));
    const caughtUp = [await stream.next('notification'), await stream.next('notification')].map((event) => event.id);
    assert.deepEqual(caughtUp, inbox.slice(0, 2).map((n) => String(n.id)).toReversed());
    controller.abort();
    await stream.done;
  });
});
