// What the gateway answers when it cannot get a response from a service (stopped, crashed,
// restarting, overloaded): 502 or 503 with Retry-After and the platform error shape, never a 500,
// and always through the normal reply path so the access log and the request metric see it.
import type { AppError } from '@paymesh/platform/errors';
import { platformErrors } from '@paymesh/platform/errors';
import { gatewayErrors } from './errors.ts';

const retryAfterSec = 1;

/** Socket-level codes that mean "nobody answered on this connection" (the service is down or died mid-request). */
const unreachableCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ECONNABORTED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_SOCKET', 'ERR_HTTP2_STREAM_CANCEL']);
const timeoutCodes = new Set(['FST_REPLY_FROM_TIMEOUT', 'FST_REPLY_FROM_HTTP_REQUEST_TIMEOUT', 'FST_REPLY_FROM_GATEWAY_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT', 'ETIMEDOUT']);

/** The proxy's error (reply-from wraps the socket error in `cause`) as the answer the client gets. */
export function upstreamError(error: Error): { answer: AppError; code: string } {
  const codes: string[] = [];
  for (let e: unknown = error; e instanceof Error && codes.length < 5; e = e.cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') codes.push(code);
  }
  if (codes.some((code) => timeoutCodes.has(code))) return { answer: gatewayErrors.upstreamTimeout(retryAfterSec), code: codes.join('/') };
  if (codes.some((code) => unreachableCodes.has(code))) return { answer: gatewayErrors.upstreamUnavailable(retryAfterSec), code: codes.join('/') };
  return { answer: platformErrors.internal(), code: codes.join('/') || error.name };
}
