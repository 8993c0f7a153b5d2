// Paymesh answers every refusal with Stripe's error object, `{"error": {type, code, message,
// param?, decline_code?, …}}` (docs/errors.md). The SDK throws it as a PaymeshError whose class
// says what to do about it: a CardError (ask for another card), an AuthenticationError (get a new
// token), a RateLimitError (wait `retryAfterSeconds`) … and whose fields are the object's.

/** The error object's `type`; a later server may add more, which arrive as plain PaymeshErrors. */
export type PaymeshErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'rate_limit_error'
  | 'idempotency_error'
  | 'card_error'
  | 'api_error'
  | 'connection_error';

export interface PaymeshErrorFields {
  /** The HTTP status; 0 when no answer came (a ConnectionError). */
  readonly status: number;
  readonly type: PaymeshErrorType | (string & {});
  readonly code: string;
  readonly message: string;
  readonly param?: string | undefined;
  readonly declineCode?: string | undefined;
  /** The `x-request-id` the platform logged the request under: quote it when asking for help. */
  readonly requestId?: string | undefined;
  /** Seconds the server asked to wait (Retry-After), when it said. */
  readonly retryAfterSeconds?: number | undefined;
  /** The whole `error` object as received, with the fields this class does not name (a card error's `payment`). */
  readonly raw?: Readonly<Record<string, unknown>> | undefined;
  readonly cause?: unknown;
}

export class PaymeshError extends Error {
  readonly status: number;
  readonly type: PaymeshErrorType | (string & {});
  readonly code: string;
  readonly param: string | undefined;
  readonly declineCode: string | undefined;
  readonly requestId: string | undefined;
  readonly retryAfterSeconds: number | undefined;
  readonly raw: Readonly<Record<string, unknown>>;

  constructor(fields: PaymeshErrorFields) {
    super(fields.message, { cause: fields.cause });
    this.name = new.target.name;
    this.status = fields.status;
    this.type = fields.type;
    this.code = fields.code;
    this.param = fields.param;
    this.declineCode = fields.declineCode;
    this.requestId = fields.requestId;
    this.retryAfterSeconds = fields.retryAfterSeconds;
    this.raw = fields.raw ?? {};
  }

  /**
   * The error a non-2xx answer stands for, of the class its status and type say. `body` is the
   * parsed JSON (openapi-fetch's `error`); an answer that is not Paymesh's error object (a proxy's
   * HTML page) still becomes one, of type api_error and code `unexpected_response`.
   */
  static from(response: Response, body: unknown): PaymeshError {
    const object = errorObjectOf(body);
    const fields: PaymeshErrorFields = {
      status: response.status,
      type: stringField(object, 'type') ?? (response.status >= 500 ? 'api_error' : 'invalid_request_error'),
      code: stringField(object, 'code') ?? 'unexpected_response',
      message: stringField(object, 'message') ?? `HTTP ${response.status} ${response.statusText}`.trim(),
      param: stringField(object, 'param'),
      declineCode: stringField(object, 'decline_code'),
      requestId: response.headers.get('x-request-id') ?? undefined,
      retryAfterSeconds: retryAfterSecondsOf(response.headers.get('retry-after')),
      raw: object,
    };
    const Class = errorClassFor(response.status, fields.type);
    return new Class(fields);
  }
}

/** 402 card_error: declined (`declineCode`), or the card's details are wrong; `payment` is the payment it left behind. */
export class CardError extends PaymeshError {
  /** The payment the attempt left (status requires_payment_method): retry it with another method. */
  get payment(): unknown {
    return this.raw.payment;
  }
}
/** 401: no token, or one that is not valid (expired, revoked, for another audience). */
export class AuthenticationError extends PaymeshError {}
/** 403: the token lacks the scope or role the route needs. */
export class PermissionError extends PaymeshError {}
/** 429: too many requests; `retryAfterSeconds` says when to come back. */
export class RateLimitError extends PaymeshError {}
/** idempotency_error: the key was used with other parameters (400), or its request is still running (409). */
export class IdempotencyError extends PaymeshError {}
/** 400 / 404 / 409 …: the request itself is at fault; `param` names the field when one is. */
export class InvalidRequestError extends PaymeshError {}
/** 5xx: the platform could not answer; a retry later may succeed. */
export class ApiError extends PaymeshError {}
/** No answer at all: the network failed, or the server could not be reached (after the retries allowed). */
export class ConnectionError extends PaymeshError {
  constructor(message: string, cause: unknown) {
    super({ status: 0, type: 'connection_error', code: 'connection_failed', message, cause });
  }
}

type ErrorClass = new (fields: PaymeshErrorFields) => PaymeshError;

function errorClassFor(status: number, type: string): ErrorClass {
  // The type wins where it is more precise than the status (a 402 is a card error by both).
  if (type === 'card_error') return CardError;
  if (type === 'idempotency_error') return IdempotencyError;
  if (status === 401 || type === 'authentication_error') return AuthenticationError;
  if (status === 403 || type === 'permission_error') return PermissionError;
  if (status === 429 || type === 'rate_limit_error') return RateLimitError;
  if (status >= 500 || type === 'api_error') return ApiError;
  if (type === 'invalid_request_error') return InvalidRequestError;
  return PaymeshError;
}

function errorObjectOf(body: unknown): Record<string, unknown> | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const error = (body as { error?: unknown }).error;
  return typeof error === 'object' && error !== null && !Array.isArray(error) ? (error as Record<string, unknown>) : undefined;
}

function stringField(object: Record<string, unknown> | undefined, name: string): string | undefined {
  const value = object?.[name];
  return typeof value === 'string' ? value : undefined;
}

function retryAfterSecondsOf(header: string | null): number | undefined {
  if (header === null || !/^\d+$/.test(header.trim())) return undefined;
  return Number(header.trim());
}
