// An HTTP(S) POST to a URL a user gave us (a webhook endpoint, a Web Push endpoint), connected to
// the address that was checked against private networks, never to what a second DNS lookup says.
import type { LookupAddress, LookupOptions } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { StringDecoder } from 'node:string_decoder';

export interface PinnedTarget {
  readonly address: string;
  readonly family: 4 | 6;
}

export interface PinnedResponse {
  readonly statusCode: number;
  readonly headers: http.IncomingHttpHeaders;
  /** At most maxBodyBytes of the body, cut on a character boundary. */
  readonly snippet: string;
}

const maxSnippetBytes = 1024;

export function pinnedPost(url: string, target: PinnedTarget, options: { headers: Record<string, string | number>; body: string | Buffer; signal: AbortSignal }): Promise<PinnedResponse> {
  const parsed = new URL(url);
  const client = parsed.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    // The URL keeps the original hostname for the Host header and for TLS (SNI and the
    // certificate check); only the address lookup is replaced. A fresh agent per attempt so no
    // pooled socket to another address is reused. http never follows redirects by itself.
    const outgoing = client.request(parsed, {
      method: 'POST',
      agent: false,
      lookup: pinnedLookup(target),
      signal: options.signal,
      headers: { ...options.headers, 'content-length': Buffer.byteLength(options.body) },
    });
    // Until a response arrives, an error (refused, reset, TLS, the deadline) is the attempt's
    // result; once it has arrived the promise is settled and later errors cannot change it.
    outgoing.on('error', reject);
    outgoing.on('response', (incoming) => {
      const statusCode = incoming.statusCode;
      if (statusCode === undefined) return reject(new Error('a response without a status code'));
      const decoder = new StringDecoder('utf8'); // holds back a character cut at the limit
      let snippet = '';
      let bytesRead = 0;
      const finish = () => resolve({ statusCode, headers: incoming.headers, snippet });
      incoming.on('data', (chunk: Buffer) => {
        const wanted = chunk.subarray(0, maxSnippetBytes - bytesRead);
        bytesRead += wanted.length;
        snippet += decoder.write(wanted);
        if (bytesRead >= maxSnippetBytes) {
          finish();
          incoming.destroy(); // the rest is not read: a receiver cannot make us download a lot
        }
      });
      incoming.on('end', finish);
      // The status is what counts: a body cut short by the deadline or the far end leaves the
      // outcome as it is, with what was read so far.
      incoming.on('error', finish);
      incoming.on('close', finish);
    });
    outgoing.end(options.body);
  });
}

/** Node's connect-time lookup, answering the checked address whatever it is asked. */
function pinnedLookup(target: PinnedTarget): LookupFunction {
  return (_hostname: string, options: LookupOptions, callback: (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void) => {
    // net.connect asks for every address (all: true) when it may race IPv4 and IPv6.
    if (options.all === true) callback(null, [{ address: target.address, family: target.family }]);
    else callback(null, target.address, target.family);
  };
}

/** The promise, or a rejection as soon as the signal aborts (a lookup cannot be cancelled, only left). */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
