// Calls another service's HTTP API on behalf of this service: a client_credentials token from
// auth, a timeout on every attempt, retries only for requests that are safe to repeat (GET, or a
// POST carrying an Idempotency-Key), and the current request id passed on.
import { AppError, platformErrors } from './errors.ts';
import { currentRequestId } from './request-context.ts';

export interface TokenSource {
  getToken(): Promise<string>;
  /** Forgets the cached token (after a 401, say). */
  invalidate(): void;
}

/** OAuth 2.0 client_credentials against auth's token endpoint, cached until shortly before expiry. */
export class ClientCredentialsTokenSource implements TokenSource {
  readonly #options: { tokenUrl: string; clientId: string; clientSecret: string; scope: string; resource: string | undefined; timeoutMs: number };
  #cached: { token: string; expiresAtMs: number } | undefined;
  #inflight: Promise<string> | undefined;

  constructor(options: { tokenUrl: string; clientId: string; clientSecret: string; scope: string; resource?: string; timeoutMs?: number }) {
    this.#options = { resource: undefined, timeoutMs: 5_000, ...options };
  }

  async getToken(): Promise<string> {
    if (this.#cached !== undefined && this.#cached.expiresAtMs - 30_000 > Date.now()) return this.#cached.token;
    this.#inflight ??= this.#fetch().finally(() => (this.#inflight = undefined));
    return this.#inflight;
  }

  invalidate(): void {
    this.#cached = undefined;
  }

  async #fetch(): Promise<string> {
    const { tokenUrl, clientId, clientSecret, scope, resource, timeoutMs } = this.#options;
    const body = new URLSearchParams({ grant_type: 'client_credentials', scope });
    if (resource !== undefined) body.set('resource', resource);
    let response: Response;
    try {
      response = await fetch(tokenUrl, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64')}`,
        },
        body,
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      throw platformErrors.serviceUnavailable(`The auth service cannot be reached (${(error as Error).message}).`);
    }
    if (!response.ok) throw new AppError(503, 'api_error', 'service_token_refused', `The auth service refused this service's credentials (${response.status}).`);
    const json = (await response.json()) as { access_token: string; expires_in: number };
    this.#cached = { token: json.access_token, expiresAtMs: Date.now() + json.expires_in * 1000 };
    return json.access_token;
  }
}

export interface ServiceResponse<T> {
  readonly status: number;
  readonly body: T;
}

export interface ServiceRequest {
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  readonly path: string;
  readonly body?: unknown;
  readonly idempotencyKey?: string;
  /** A POST that only reads (a look-up by many ids): repeated on failure like a GET. */
  readonly safe?: boolean;
}

export class ServiceClient {
  readonly #baseUrl: string;
  readonly #tokens: TokenSource;
  readonly #timeoutMs: number;
  readonly #retries: number;

  constructor(options: { baseUrl: string; tokens: TokenSource; timeoutMs?: number; retries?: number }) {
    this.#baseUrl = options.baseUrl.replace(/\/$/, '');
    this.#tokens = options.tokens;
    this.#timeoutMs = options.timeoutMs ?? 3_000;
    this.#retries = options.retries ?? 2;
  }

  /** Answers any status the callee gave (the caller decides what a 404 means); throws 503 when it cannot be reached. */
  async request<T>(req: ServiceRequest): Promise<ServiceResponse<T>> {
    const safe = req.method === 'GET' || req.safe === true || req.idempotencyKey !== undefined;
    const attempts = safe ? this.#retries + 1 : 1;
    let lastError: unknown;
    let refreshedToken = false;
    for (let attempt = 0; attempt < attempts; attempt++) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** attempt));
      // Outside the try: a token we cannot get is not a reason to retry the call.
      const token = await this.#tokens.getToken();
      try {
        const response = await this.#send(req, token);
        if (response.status === 401 && !refreshedToken && /invalid_token/.test(response.headers.get('www-authenticate') ?? '')) {
          // The callee refused *our* token (expired, rotated keys, revoked): one fresh try, whatever
          // the method, since the request was refused before it did anything. Any other 401 (bad
          // user credentials, say) is the callee's answer and goes back to the caller.
          refreshedToken = true;
          this.#tokens.invalidate();
          attempt--;
          continue;
        }
        if (safe && (response.status === 502 || response.status === 503 || response.status === 504) && attempt < attempts - 1) {
          lastError = new Error(`status ${response.status}`);
          continue;
        }
        const text = await response.text();
        return { status: response.status, body: (text === '' ? undefined : JSON.parse(text)) as T };
      } catch (error) {
        if (error instanceof AppError) throw error;
        lastError = error;
      }
    }
    throw platformErrors.serviceUnavailable(`A dependency did not answer: ${(lastError as Error | undefined)?.message ?? 'unknown error'}.`);
  }

  async #send(req: ServiceRequest, token: string): Promise<Response> {
    const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept: 'application/json' };
    const requestId = currentRequestId();
    if (requestId !== undefined) headers['x-request-id'] = requestId;
    if (req.idempotencyKey !== undefined) headers['idempotency-key'] = req.idempotencyKey;
    if (req.body !== undefined) headers['content-type'] = 'application/json';
    return fetch(this.#baseUrl + req.path, {
      method: req.method,
      headers,
      body: req.body === undefined ? undefined : JSON.stringify(req.body),
      signal: AbortSignal.timeout(this.#timeoutMs),
    });
  }
}
