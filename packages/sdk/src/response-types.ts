// What the SDK's methods resolve to, read from the generated types. Where the API document
// describes an operation's success response, that schema; where it does not describe it yet, the
// JSON comes through untyped (`Undescribed`), so that code written today keeps compiling, and gets
// checked, once the document describes the response and `npm run sdk:generate` has run.
import type { paths } from './generated/openapi.ts';

export type HttpMethod = 'get' | 'put' | 'post' | 'delete' | 'options' | 'head' | 'patch' | 'trace';

/** A success answer the API document does not describe (yet): the parsed JSON, unchecked. */
export type Undescribed = any;

type SuccessStatus = 200 | 201 | 202 | 203 | 204 | 206 | '2XX';

/** The JSON of an operation's success responses; never when none is described. */
type DescribedSuccess<Operation> = Operation extends { responses: infer Responses }
  ? {
      [Status in keyof Responses]: Status extends SuccessStatus
        ? Responses[Status] extends { content: { 'application/json': infer Json } }
          ? Json
          : undefined
        : never;
    }[keyof Responses]
  : never;

/** The operation `method path` in the generated types. */
export type OperationOf<Path extends keyof paths, Method extends HttpMethod> = paths[Path] extends { [M in Method]: infer Operation } ? Operation : never;

/** What `paymesh.get('/payments/{id}', …)` resolves to. */
export type ResponseData<Path extends keyof paths, Method extends HttpMethod> = [DescribedSuccess<OperationOf<Path, Method>>] extends [never]
  ? Undescribed
  : DescribedSuccess<OperationOf<Path, Method>>;

/** Paths whose GET pages with `starting_after` (Stripe's cursor): what `paymesh.list()` takes. */
export type ListPath = {
  [Path in keyof paths]: OperationOf<Path, 'get'> extends { parameters: { query?: infer Query } }
    ? [NonNullable<Query>] extends [never] // no query at all (`keyof never` would be every key)
      ? never
      : 'starting_after' extends keyof NonNullable<Query>
        ? Path
        : never
    : never;
}[keyof paths];

/** The query a list takes, without the cursor the SDK moves itself. */
export type ListQuery<Path extends ListPath> = Omit<NonNullable<OperationOf<Path, 'get'> extends { parameters: { query?: infer Query } } ? Query : never>, 'starting_after'>;

/** The path parameters of a list (`{ id }` for a webhook endpoint's deliveries). */
export type ListPathParams<Path extends ListPath> = OperationOf<Path, 'get'> extends { parameters: { path: infer Params } } ? Params : never;

/** An item of the list at `Path`: `{ object: 'list', data: Item[] }` or, for the inbox's bare array, `Item[]`. */
export type ListItem<Path extends ListPath> = ItemOf<ResponseData<Path, 'get'>>;

/** Every item has an id (the next page's cursor); the rest, until the document describes it, is unchecked. */
export type UndescribedItem = { readonly id: string | number; readonly [field: string]: Undescribed };

type ItemOf<Page> = 0 extends 1 & Page
  ? UndescribedItem // Page is Undescribed (any)
  : Page extends { data: readonly (infer Item)[] }
    ? Item
    : Page extends readonly (infer Item)[]
      ? Item
      : UndescribedItem;
