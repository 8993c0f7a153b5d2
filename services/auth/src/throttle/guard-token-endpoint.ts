// The provider's own token endpoint (POST /auth/token) authenticates clients inside
// oidc-provider, past any hook of ours. So the request's body is read here first, to learn which
// client id it presents, the attempt is counted (client-auth-throttle.ts) and the request is handed
// to the provider with the same bytes; its answer tells the outcome: 401 is a failed client
// authentication (oidc-provider's invalid_client), 2xx a success, anything else never got as far
// as checking a secret, or cannot be told apart from that.
import { IncomingMessage, type ServerResponse } from 'node:http';
import { decodeJwt } from 'jose';
import type { Logger } from '@paymesh/platform/logger';
import { presentedClient } from '../revocation/authenticate-client.ts';
import type { ClientAuthThrottle } from './client-auth-throttle.ts';

// oidc-provider's own limit on a token request's body.
const maxBodyBytes = 56 * 1024;

export async function guardTokenEndpoint(throttle: ClientAuthThrottle, logger: Logger, req: IncomingMessage & { ip?: string }, res: ServerResponse, provider: (req: IncomingMessage, res: ServerResponse) => void): Promise<void> {
  const body = await readBody(req);
  if (body === undefined) return oauthError(res, 400, 'invalid_request', 'failed to parse the request body');
  const form = (req.headers['content-type'] ?? '').toLowerCase().startsWith('application/x-www-form-urlencoded') ? new URLSearchParams(body.toString('utf8')) : new URLSearchParams();
  const ip = req.ip ?? req.socket.remoteAddress ?? '';
  const ticket = await throttle.begin('token', presentedClientId(req.headers.authorization, form), ip);
  if ('retryAfterSec' in ticket) {
    res.setHeader('retry-after', String(ticket.retryAfterSec));
    return oauthError(res, 429, 'invalid_client', 'too many failed client authentications from this address; retry later');
  }
  res.once('close', () => {
    const outcome = !res.writableFinished ? 'unchecked' : res.statusCode === 401 ? 'failed' : res.statusCode < 300 ? 'succeeded' : 'unchecked';
    throttle.settle(ticket, outcome).catch((error: unknown) => logger.error({ err: error }, 'recording a client authentication outcome failed'));
  });
  provider(replay(req, body), res);
}

/** The client id as oidc-provider will read it: HTTP Basic, client_id, or a client assertion's subject. */
function presentedClientId(authorization: string | undefined, form: URLSearchParams): string | undefined {
  const presented = presentedClient(authorization, { client_id: form.get('client_id') ?? undefined });
  if (presented.clientId !== undefined) return presented.clientId;
  const assertion = form.get('client_assertion');
  if (assertion === null) return undefined;
  try {
    const { sub } = decodeJwt(assertion);
    return typeof sub === 'string' ? sub : undefined;
  } catch {
    return undefined; // not a JWT: the provider refuses it (400) before any key is tried
  }
}

async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let received = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    received += chunk.length;
    if (received > maxBodyBytes) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, received);
}

/** The request again, its body already read: what the provider reads is what we counted. */
function replay(req: IncomingMessage, body: Buffer): IncomingMessage {
  const copy = new IncomingMessage(req.socket);
  copy.method = req.method;
  copy.url = req.url;
  copy.headers = req.headers;
  copy.rawHeaders = req.rawHeaders;
  copy.httpVersion = req.httpVersion;
  copy.httpVersionMajor = req.httpVersionMajor;
  copy.httpVersionMinor = req.httpVersionMinor;
  copy.push(body);
  copy.push(null);
  copy.complete = true;
  return copy;
}

// The token endpoint's own error shape (RFC 6749 §5.2), as oidc-provider answers.
function oauthError(res: ServerResponse, status: number, error: string, description: string): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' }).end(JSON.stringify({ error, error_description: description }));
}
