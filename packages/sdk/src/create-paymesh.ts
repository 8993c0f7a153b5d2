// The SDK's entry point: an openapi-fetch client typed by the generated `paths`, whose every
// request goes through paymeshFetch (token, Idempotency-Key, safe retries), and the helpers around
// it: methods that return the data or throw a PaymeshError, auto-pagination, the inbox stream.
import createClient, { type Client, type MaybeOptionalInit } from 'openapi-fetch';
import type { paths } from './generated/openapi.ts';
import { streamInbox, type InboxEvent, type InboxStreamOptions } from './inbox-stream.ts';
import { paginate } from './paginate.ts';
import { operationPaths, paymeshFetch, type Fetch } from './paymesh-fetch.ts';
import { PaymeshError } from './paymesh-error.ts';
import type { HttpMethod, ListItem, ListPath, ListPathParams, ListQuery, ResponseData } from './response-types.ts';
import { retryPolicy, type RetryOptions } from './retry-policy.ts';
import { tokenProviderOf, type TokenSource } from './token-provider.ts';

export interface PaymeshOptions {
  /** The gateway: `http://localhost:8080` for `npm start`. */
  readonly baseUrl: string;
  /** A bearer token, or a provider that obtains and renews one (clientCredentials, oidcRefreshToken); none for public routes only. */
  readonly token?: TokenSource;
  /** The fetch to send with (default globalThis.fetch): a proxy's, a test's. */
  readonly fetch?: Fetch;
  /** Retries of a request that may be retried (a number: at most that many); also the inbox stream's reconnects' sleep and jitter. */
  readonly retries?: number | RetryOptions;
  /** Makes each POST's Idempotency-Key when the caller gives none (default crypto.randomUUID). */
  readonly newIdempotencyKey?: () => string;
}

type PathsWith<Method extends HttpMethod> = { [Path in keyof paths]: paths[Path] extends { [M in Method]: object } ? Path : never }[keyof paths];
type Init<Path extends keyof paths, Method extends HttpMethod> = MaybeOptionalInit<paths[Path], Method>;
/** The init argument is optional exactly when nothing in it is required (no path parameter, no body). */
type InitArgs<Path extends keyof paths, Method extends HttpMethod> = undefined extends Init<Path, Method> ? [init?: Init<Path, Method>] : [init: Init<Path, Method>];

type Call<Method extends HttpMethod> = <Path extends PathsWith<Method>>(path: Path, ...init: InitArgs<Path, Method>) => Promise<ResponseData<Path, Method>>;

export interface ListOptions<Path extends ListPath> {
  /** Filters (`status`, `created[gte]` …); `limit` is the page size. */
  readonly query?: ListQuery<Path>;
  /** Path parameters, for lists under an object (`{ id: 'we_…' }`). */
  readonly path?: ListPathParams<Path>;
  readonly signal?: AbortSignal;
}

export interface Paymesh {
  /** The typed openapi-fetch client itself: `{ data, error, response }`, never throwing on an HTTP error. */
  readonly client: Client<paths>;
  /** Each resolves to the success answer's data, or throws a PaymeshError (CardError, AuthenticationError …). */
  readonly get: Call<'get'>;
  readonly post: Call<'post'>;
  readonly put: Call<'put'>;
  readonly patch: Call<'patch'>;
  readonly delete: Call<'delete'>;
  /**
   * Every item of a list, page after page (`starting_after` the last item's id while `has_more`):
   * `for await (const payment of paymesh.list('/payments', { query: { status: 'succeeded' } }))`.
   */
  list<Path extends ListPath>(path: Path, options?: ListOptions<Path>): AsyncGenerator<ListItem<Path>>;
  /** The caller's inbox, live (GET /notifications/stream): reconnects with Last-Event-ID after a drop. */
  streamInbox(options?: InboxStreamOptions): AsyncGenerator<InboxEvent>;
}

export function createPaymesh(options: PaymeshOptions): Paymesh {
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const retry = retryPolicy(options.retries);
  const send = paymeshFetch({
    fetch: options.fetch ?? ((request) => globalThis.fetch(request)),
    token: options.token === undefined ? undefined : tokenProviderOf(options.token),
    retry,
    newIdempotencyKey: options.newIdempotencyKey,
  });
  const client = createClient<paths>({ baseUrl, fetch: send });
  // Which operation a request is for, so that paymeshFetch knows whether a POST honours its key.
  client.use({
    onRequest({ request, schemaPath }) {
      operationPaths.set(request, schemaPath);
    },
  });

  const call = <Method extends HttpMethod>(method: Method): Call<Method> => {
    const upper = method.toUpperCase() as Uppercase<Method>;
    // The client's methods are generic over the path; here the path is already checked by `Call`.
    const request = client[upper as 'GET'] as unknown as (path: string, init?: unknown) => Promise<{ data?: unknown; error?: unknown; response: Response }>;
    return (async (path: string, ...init: unknown[]) => {
      const { data, error, response } = await request(path, init[0]);
      if (!response.ok) throw PaymeshError.from(response, error);
      return data;
    }) as Call<Method>;
  };
  const get = call('get');

  return {
    client,
    get,
    post: call('post'),
    put: call('put'),
    patch: call('patch'),
    delete: call('delete'),
    list<Path extends ListPath>(path: Path, listOptions: ListOptions<Path> = {}) {
      const read = get as unknown as (path: string, init: unknown) => Promise<unknown>;
      return paginate<ListItem<Path>>(async (startingAfter) => {
        const query = { ...listOptions.query, ...(startingAfter === undefined ? {} : { starting_after: startingAfter }) };
        let hasMoreHeader: string | null = null;
        const page = await read(path, {
          params: { query, path: listOptions.path },
          signal: listOptions.signal,
          // The inbox's list is a bare array: whether more follow is in a header.
          middleware: [{ onResponse: ({ response }: { response: Response }) => void (hasMoreHeader = response.headers.get('paymesh-has-more')) }],
        });
        if (Array.isArray(page)) return { items: page as ListItem<Path>[], hasMore: hasMoreHeader === 'true' };
        const { data, has_more: hasMore } = page as { data: ListItem<Path>[]; has_more: boolean };
        return { items: data, hasMore };
      });
    },
    streamInbox(streamOptions = {}) {
      const reconnect: RetryOptions = { ...(typeof options.retries === 'object' ? options.retries : {}), ...streamOptions.reconnect };
      return streamInbox(baseUrl, send, { ...streamOptions, reconnect });
    },
  };
}
