// A live stream as a benchmark's client holds it: GET /notifications/stream (Server-Sent Events)
// through the gateway on a connection of its own, parsed as it arrives.
import { request as httpRequest } from 'node:http';

const sleep = (millis: number) => new Promise((r) => setTimeout(r, millis));

/**
 * One user's GET /notifications/stream (Server-Sent Events) through the gateway, on a connection
 * of its own. Each `notification` event's arrival time is kept under its payment id, with the
 * notification's sent_at (the notifications service's transaction time).
 */
export class SseStream {
  readonly arrivals = new Map<string, { at: number; sentAt: number }>();
  readonly #waiters = new Map<string, () => void>();
  #request: ReturnType<typeof httpRequest> | undefined;
  #ready: Promise<void>;
  #markReady: () => void = () => {};
  countsSeen = 0;
  failure: Error | undefined;

  constructor(base: string, token: string) {
    this.#ready = new Promise((r) => (this.#markReady = r));
    const url = new URL(base);
    const req = httpRequest({
      host: url.hostname, port: url.port, method: 'GET', path: '/notifications/stream', agent: false,
      headers: { accept: 'text/event-stream', authorization: `Bearer ${token}` },
    }, (res) => {
      if (res.statusCode !== 200) {
        this.#fail(new Error(`stream answered ${res.statusCode}`));
        res.resume();
        return;
      }
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        const at = performance.now();
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          let event = 'message';
          let data = '';
          for (const line of block.split('\n')) {
            if (line.startsWith('event: ')) event = line.slice(7);
            else if (line.startsWith('data: ')) data += line.slice(6);
          }
          if (data === '') continue;
          if (event === 'unread_count') {
            this.countsSeen++;
            this.#markReady();
          } else if (event === 'notification') {
            const notification = JSON.parse(data) as { sent_at: string; data: { payment_id?: string } };
            const paymentId = notification.data.payment_id;
            if (paymentId === undefined || this.arrivals.has(paymentId)) continue;
            this.arrivals.set(paymentId, { at, sentAt: Date.parse(notification.sent_at) });
            this.#waiters.get(paymentId)?.();
          }
        }
      });
      res.on('end', () => this.#fail(new Error('stream ended')));
      res.on('error', (error) => this.#fail(error));
    });
    req.on('error', (error) => this.#fail(error));
    req.end();
    this.#request = req;
  }

  #fail(error: Error): void {
    this.failure ??= error;
    this.#markReady();
  }

  /** Resolves once the stream has sent its first unread count (it is live from then on). */
  async ready(timeoutMs: number): Promise<void> {
    await Promise.race([this.#ready, sleep(timeoutMs)]);
    if (this.failure !== undefined) throw this.failure;
    if (this.countsSeen === 0) throw new Error(`stream not live within ${timeoutMs} ms`);
  }

  /** The arrival of the payment's notification, or undefined when it did not come by the deadline. */
  async arrival(paymentId: string, deadline: number): Promise<{ at: number; sentAt: number } | undefined> {
    if (!this.arrivals.has(paymentId)) {
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolvePromise) => {
        this.#waiters.set(paymentId, resolvePromise);
        timer = setTimeout(resolvePromise, Math.max(0, deadline - performance.now()));
      });
      clearTimeout(timer);
      this.#waiters.delete(paymentId);
    }
    return this.arrivals.get(paymentId);
  }

  close(): void {
    this.#request?.destroy();
  }
}
