// A test SSE client for GET /notifications/stream: collects one stream's events until it ends or is closed.
export interface SseEvent { id: string | undefined; event: string; data: any }

/** An SSE client: collects the events of one stream until closed. */
export class Stream {
  readonly events: SseEvent[] = [];
  readonly #abort = new AbortController();
  status = 0;
  #done: Promise<void> = Promise.resolve();

  static async open(url: string, token: string | undefined, lastEventId?: string): Promise<Stream> {
    const stream = new Stream();
    const headers: Record<string, string> = { accept: 'text/event-stream' };
    if (token !== undefined) headers.authorization = `Bearer ${token}`;
    if (lastEventId !== undefined) headers['last-event-id'] = lastEventId;
    const response = await fetch(url, { headers, signal: stream.#abort.signal });
    stream.status = response.status;
    if (response.ok && response.body !== null) stream.#done = stream.#read(response.body);
    else await response.text();
    return stream;
  }

  async #read(body: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let buffer = '';
    let lastId: string | undefined;
    try {
      for await (const chunk of body) {
        buffer += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          let event = 'message';
          let data = '';
          let id: string | undefined;
          for (const line of block.split('\n')) {
            if (line.startsWith('event: ')) event = line.slice(7);
            else if (line.startsWith('data: ')) data += line.slice(6);
            else if (line.startsWith('id: ')) id = line.slice(4);
          }
          if (id !== undefined) lastId = id;
          if (data !== '') this.events.push({ id: id ?? lastId, event, data: JSON.parse(data) });
        }
      }
      this.ended = true;
    } catch {
      // aborted by close()
    }
  }

  of(event: string): SseEvent[] {
    return this.events.filter((e) => e.event === event);
  }

  lastCount(): number | undefined {
    return this.of('unread_count').at(-1)?.data.unread;
  }

  /** Whether the server ended the stream (its body finished). */
  ended = false;

  async close(): Promise<void> {
    this.#abort.abort();
    await this.#done;
  }
}
