// One error shape for the whole platform, modelled on Stripe's error object:
//   {"error": {"type", "code", "message", "param"?}}
// Each service keeps its own catalogue of codes (src/errors.ts) built from `AppError`; codes are
// stable API, messages are for people. 5xx details stay in the logs (`expose` is false).

export type ErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'rate_limit_error'
  | 'idempotency_error'
  | 'card_error'
  | 'api_error';

export interface ErrorBody {
  error: { type: ErrorType; code: string; message: string; param?: string; decline_code?: string; [detail: string]: unknown };
  /** Present where the compatibility contract fixes a top-level `message` (401s) or `success`. */
  [legacy: string]: unknown;
}

export class AppError extends Error {
  readonly statusCode: number;
  readonly type: ErrorType;
  readonly code: string;
  readonly param: string | undefined;
  /** Extra top-level fields that the compatibility contract requires beside `error`. */
  readonly legacy: Record<string, unknown> | undefined;
  readonly headers: Record<string, string> | undefined;
  /** Why an issuer declined a card (Stripe's `decline_code`), on card errors. */
  readonly declineCode: string | undefined;
  /** Objects the error concerns, inside `error` (Stripe puts the payment_intent there). */
  readonly details: Record<string, unknown> | undefined;

  constructor(statusCode: number, type: ErrorType, code: string, message: string, options: { param?: string; declineCode?: string; details?: Record<string, unknown>; legacy?: Record<string, unknown>; headers?: Record<string, string>; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'AppError';
    this.statusCode = statusCode;
    this.type = type;
    this.code = code;
    this.param = options.param;
    this.legacy = options.legacy;
    this.headers = options.headers;
    this.declineCode = options.declineCode;
    this.details = options.details;
  }

  get expose(): boolean {
    return this.statusCode < 500;
  }

  toBody(): ErrorBody {
    const error: ErrorBody['error'] = { type: this.type, code: this.code, message: this.message };
    if (this.declineCode !== undefined) error.decline_code = this.declineCode;
    if (this.param !== undefined) error.param = this.param;
    if (this.details !== undefined) Object.assign(error, this.details);
    return { ...this.legacy, error };
  }
}

// Codes every service shares. Service catalogues add their own beside these.
export const platformErrors = {
  authorizationMissing: () =>
    new AppError(401, 'authentication_error', 'authorization_missing', 'Authorization header missing', { legacy: { message: 'Authorization header missing' }, headers: { 'www-authenticate': 'Bearer' } }),
  invalidToken: () =>
    new AppError(401, 'authentication_error', 'invalid_token', 'Invalid token', { legacy: { message: 'Invalid token' }, headers: { 'www-authenticate': 'Bearer error="invalid_token"' } }),
  /** RFC 6750 §3.1 calls it a malformed request; it is refused as a token that cannot be trusted, so every protected route's documented 401 covers it. */
  authorizationRepeated: () =>
    new AppError(401, 'authentication_error', 'invalid_token', 'The request carries more than one Authorization header: send exactly one.', { legacy: { message: 'Invalid token' }, headers: { 'www-authenticate': 'Bearer error="invalid_request"' } }),
  insufficientScope: (scope: string) =>
    new AppError(403, 'permission_error', 'insufficient_scope', `This request needs the scope ${scope}.`, { headers: { 'www-authenticate': `Bearer error="insufficient_scope", scope="${scope}"` } }),
  forbidden: (message = 'You are not allowed to do this.') => new AppError(403, 'permission_error', 'forbidden', message),
  methodNotAllowed: (method: string, allowed: readonly string[]) =>
    new AppError(405, 'invalid_request_error', 'method_not_allowed', `This path does not take ${method}: it takes ${allowed.join(', ')}.`, { headers: { allow: allowed.join(', ') } }),
  routeNotFound: (method: string, url: string) => new AppError(404, 'invalid_request_error', 'route_not_found', `No route for ${method} ${url.split('?')[0]}.`),
  invalidParameter: (param: string, message: string) => new AppError(400, 'invalid_request_error', 'parameter_invalid', message, { param }),
  missingParameter: (param: string) => new AppError(400, 'invalid_request_error', 'parameter_missing', `Missing required parameter: ${param}.`, { param }),
  unknownParameter: (param: string) => new AppError(400, 'invalid_request_error', 'parameter_unknown', `Received unknown parameter: ${param}.`, { param }),
  malformedBody: (message: string) => new AppError(400, 'invalid_request_error', 'body_malformed', message),
  bodyTooDeep: (maxDepth: number) => new AppError(400, 'invalid_request_error', 'body_too_deep', `The JSON body nests objects and arrays deeper than ${maxDepth} levels.`),
  nulInText: () => new AppError(400, 'invalid_request_error', 'text_contains_nul', 'Text may not contain NUL (\\u0000) characters.'),
  textNotUnicode: () => new AppError(400, 'invalid_request_error', 'text_not_unicode', 'Text must be well-formed Unicode: an unpaired surrogate (\\uD800 to \\uDFFF alone) is not a character.'),
  unsupportedMediaType: (type: string) => new AppError(415, 'invalid_request_error', 'media_type_unsupported', `Unsupported content type: ${type}.`),
  unsupportedContentEncoding: (encoding: string) => new AppError(415, 'invalid_request_error', 'media_type_unsupported', `Unsupported content encoding: ${encoding.slice(0, 100)}. Send the body as it is (no Content-Encoding).`),
  /** Answers the HTTP parser gives before any route (http-server.ts's clientErrorHandler). */
  requestMalformed: () => new AppError(400, 'invalid_request_error', 'request_malformed', 'The request is not valid HTTP/1.1 (its framing, a header or the request line).'),
  headersTooLarge: () => new AppError(431, 'invalid_request_error', 'headers_too_large', 'The request line and headers are larger than this server accepts.'),
  requestTimeout: () => new AppError(408, 'invalid_request_error', 'request_timeout', 'The request was not received in time.'),
  payloadTooLarge: () => new AppError(413, 'invalid_request_error', 'body_too_large', 'The request body is too large.'),
  serviceUnavailable: (message = 'A service this request depends on is unavailable; retry later.') => new AppError(503, 'api_error', 'service_unavailable', message),
  // Retry-After in seconds: a restarting database is usually back within a few.
  databaseUnavailable: () =>
    new AppError(503, 'api_error', 'database_unavailable', 'The database is unavailable for a moment; retry later.', { headers: { 'retry-after': '2' } }),
  shuttingDown: () =>
    new AppError(503, 'api_error', 'shutting_down', 'This instance is shutting down; retry, another instance will answer.', { headers: { 'retry-after': '1', connection: 'close' } }),
  internal: () => new AppError(500, 'api_error', 'internal_error', 'Something went wrong on our side; it has been logged.'),
} as const;
