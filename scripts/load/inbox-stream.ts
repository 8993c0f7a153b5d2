// One user's live inbox (GET /notifications/stream, Server-Sent Events) held open for a load run,
// on a connection of its own, as a dashboard tab would. It counts the events it receives and
// reconnects (with the user's current token and Last-Event-ID) when the platform ends the stream,
// as it does when the token expires.
import { request as httpRequest, type ClientRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

export class InboxStream {
  events = 0;
  connects = 0;
  #request: ClientRequest | undefined;
  #lastEventId: string | undefined;
  #closed = false;
  readonly #baseUrl: URL;
  readonly #token: () => string;
  readonly #onEvent: () => void;

  constructor(baseUrl: string, token: () => string, onEvent: () => void) {
    this.#baseUrl = new URL(baseUrl);
    this.#token = token;
    this.#onEvent = onEvent;
    this.#connect();
  }

  #connect(): void {
    if (this.#closed) return;
    this.connects += 1;
    const headers: Record<string, string> = { accept: 'text/event-stream', authorization: `Bearer ${this.#token()}` };
    if (this.#lastEventId !== undefined) headers['last-event-id'] = this.#lastEventId;
    const send = this.#baseUrl.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send({ host: this.#baseUrl.hostname, port: this.#baseUrl.port, path: `${this.#baseUrl.pathname.replace(/\/$/, '')}/notifications/stream`, method: 'GET', headers, agent: false }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        this.#retry();
        return;
      }
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (block.startsWith(':')) continue; // a keep-alive comment
          for (const line of block.split('\n')) if (line.startsWith('id: ')) this.#lastEventId = line.slice(4);
          this.events += 1;
          this.#onEvent();
        }
      });
      res.on('end', () => this.#retry());
      res.on('error', () => this.#retry());
    });
    req.on('error', () => this.#retry());
    req.end();
    this.#request = req;
  }

  #retry(): void {
    if (this.#closed) return;
    setTimeout(() => this.#connect(), 1_000).unref();
  }

  close(): void {
    this.#closed = true;
    this.#request?.destroy();
  }
}
