// The text/event-stream format (HTML's "Server-sent events", §9.2.6), parsed from a fetch body:
// lines ending in CRLF, LF or CR; `field: value` lines; a blank line dispatches the event. EventSource
// does this in browsers, but cannot send an Authorization header, so the SDK reads the stream itself.

export interface ServerSentEvent {
  /** `event:`, "message" when the event names none. */
  readonly event: string;
  /** The `data:` lines joined by "\n". */
  readonly data: string;
  /** The `id:` of this event, or the last one given before it (the stream's last event id). */
  readonly id: string | undefined;
}

/** `onRetry`: the server's `retry:` (milliseconds to wait before reconnecting), whenever it sends one. */
export async function* parseServerSentEvents(body: ReadableStream<Uint8Array>, onRetry?: (ms: number) => void): AsyncGenerator<ServerSentEvent> {
  // The cast: lib.dom types the decoder's writable side as BufferSource, which Uint8Array is.
  const reader = body.pipeThrough(new TextDecoderStream() as ReadableWritablePair<string, Uint8Array>).getReader();
  let buffer = '';
  let first = true;
  let event = '';
  let data: string[] = [];
  let lastId: string | undefined;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return; // an event not ended by a blank line is dropped, as the format says
      buffer += value;
      if (first && buffer.length > 0) {
        if (buffer.charCodeAt(0) === 0xfeff) buffer = buffer.slice(1);
        first = false;
      }
      for (let end = lineEnd(buffer); end !== undefined; end = lineEnd(buffer)) {
        const line = buffer.slice(0, end.at);
        buffer = buffer.slice(end.at + end.length);
        if (line === '') {
          if (data.length > 0) yield { event: event === '' ? 'message' : event, data: data.join('\n'), id: lastId };
          event = '';
          data = [];
          continue;
        }
        if (line.startsWith(':')) continue; // a comment (keep-alive)
        const colon = line.indexOf(':');
        const field = colon === -1 ? line : line.slice(0, colon);
        let fieldValue = colon === -1 ? '' : line.slice(colon + 1);
        if (fieldValue.startsWith(' ')) fieldValue = fieldValue.slice(1);
        if (field === 'event') event = fieldValue;
        else if (field === 'data') data.push(fieldValue);
        else if (field === 'id' && !fieldValue.includes('\0')) lastId = fieldValue;
        else if (field === 'retry' && /^\d+$/.test(fieldValue)) onRetry?.(Number(fieldValue));
      }
    }
  } finally {
    // The caller stopped early (or the stream failed): cancelling closes the connection.
    await reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
}

/** Where the first complete line in `buffer` ends; a CR at the very end waits for a possible LF. */
function lineEnd(buffer: string): { at: number; length: number } | undefined {
  for (let i = 0; i < buffer.length; i++) {
    const c = buffer[i];
    if (c === '\n') return { at: i, length: 1 };
    if (c === '\r') {
      if (i + 1 === buffer.length) return undefined;
      return { at: i, length: buffer[i + 1] === '\n' ? 2 : 1 };
    }
  }
  return undefined;
}
