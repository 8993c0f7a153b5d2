// The gateway's error catalogue: what the edge itself refuses or cannot reach.
import { AppError } from '@paymesh/platform/errors';

export const gatewayErrors = {
  pathAmbiguous: () =>
    new AppError(400, 'invalid_request_error', 'path_ambiguous', 'The path has a dot segment, an empty segment, an encoded separator, a backslash or a ";" parameter: send the plain path.'),
  tooManyStreamsFromAddress: (retryAfterSec: number) =>
    new AppError(429, 'rate_limit_error', 'too_many_streams_from_address', 'Too many live streams are open from this address; close one first.', { headers: { 'retry-after': String(retryAfterSec) } }),
  // This replica holds MAX_STREAMS live streams: another replica (or this one, once a stream ends) has room.
  streamsFull: (retryAfterSec: number) =>
    new AppError(503, 'api_error', 'streams_full', 'This gateway holds as many live streams as it may; retry later.', { headers: { 'retry-after': String(retryAfterSec) } }),
  // Every API connection to the service is busy and none came free in UPSTREAM_WAIT_MS: it is saturated.
  upstreamBusy: (retryAfterSec: number) =>
    new AppError(503, 'api_error', 'upstream_busy', 'The service behind this path is busy; retry later.', { headers: { 'retry-after': String(retryAfterSec) } }),
  // A refused or reset connection: the service is stopped or crashed; a retry soon may reach a replacement.
  upstreamUnavailable: (retryAfterSec: number) =>
    new AppError(502, 'api_error', 'upstream_unavailable', 'The service behind this path is not answering; retry later.', { headers: { 'retry-after': String(retryAfterSec) } }),
  // No answer in time: the service is overloaded or stopping.
  upstreamTimeout: (retryAfterSec: number) =>
    new AppError(503, 'api_error', 'upstream_timeout', 'The service behind this path did not answer in time; retry later.', { headers: { 'retry-after': String(retryAfterSec) } }),
};
