// How a route's answer is written, and, where CHECK_RESPONSES=on (every test platform), checked
// against what the API document says it is (docs/adr/0024-response-schemas-checked-in-tests.md).
//
// Written with JSON.stringify, never with Fastify's schema serializer: fast-json-stringify drops a
// field its schema does not list and coerces a value of another type, so a mistake in a response
// schema would silently change what clients receive (a field gone, a balance written as 0). The
// schema documents the answer; the handler's object is the answer.
//
// Checked, the answer (as sent: also a body the handler wrote itself, such as an idempotent
// replay's) must match the schema of its status (the exact code, then `4xx`, then `default`, as
// Fastify picks them), with every object closed: a field the document does not list fails as
// surely as a missing or mistyped one, so the document cannot fall behind the code. Every
// documented route answers errors with the error object (`default`), so a route that documents no
// success schema fails its first test that gets a JSON answer. A mismatch is answered 500
// `response_undocumented` naming the field: the test that made the request fails on it.
import { appendFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';
import formatsPlugin from 'ajv-formats';
import type { RouteOptions } from 'fastify';
import type { HttpServer } from '../http-server.ts';
import { AppError } from '../errors.ts';
import { errorBodySchema } from './error-body-schema.ts';

type Schema = Record<string, unknown>;

/**
 * Installs the serializer and gives every documented route the error object as its `default`
 * response; `isDocumented` says which routes the document describes (probes and internal routes
 * are not checked). Call before the routes are added.
 */
export interface ResponseCheck {
  readonly check: boolean;
  /**
   * A file the first valid answer of each route and status is appended to, as a JSON line
   * (`npm run api:examples` turns them into the document's examples).
   */
  readonly examplesFile?: string;
}

export function useResponseCheck(app: HttpServer, options: ResponseCheck, isDocumented: (route: RouteOptions) => boolean): void {
  const { check, examplesFile } = options;
  app.addHook('onRoute', (route) => {
    if (!isDocumented(route)) return;
    const schema = (route.schema ??= {}) as Schema;
    const response = (schema.response ??= {}) as Schema;
    response.default ??= errorBodySchema;
  });
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  if (!check) return;
  // Checked after serialisation, so that answers a handler wrote itself (an idempotent replay's
  // stored body) are checked too. One compiler per service; each schema compiled once.
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: true });
  (formatsPlugin as unknown as (ajv: Ajv) => void)(ajv);
  const compiled = new WeakMap<object, ValidateFunction>();
  const recorded = new Set<string>();
  app.addHook('onSend', async (request, reply, payload) => {
    const responses = (request.routeOptions.schema as Schema | undefined)?.response as Record<string, Schema> | undefined;
    if (responses === undefined || typeof payload !== 'string' || payload === '' || !/^application\/json/.test(String(reply.getHeader('content-type') ?? ''))) return payload;
    const status = String(reply.statusCode);
    const schema = responses[status] ?? responses[`${status[0]}xx`] ?? responses.default;
    if (schema === undefined) return payload;
    let validate = compiled.get(schema);
    if (validate === undefined) compiled.set(schema, (validate = ajv.compile(closed(schema))));
    const body: unknown = JSON.parse(payload);
    if (validate(body)) {
      const route = `${request.method} ${request.routeOptions.url ?? ''}`;
      // A 5xx is no example a client learns from (and the check's own 500 would be one).
      if (examplesFile !== undefined && reply.statusCode < 500 && !recorded.has(`${route} ${status}`)) {
        recorded.add(`${route} ${status}`);
        appendFileSync(examplesFile, JSON.stringify({ route, status, body }) + '\n');
      }
      return payload;
    }
    const problems = (validate.errors ?? []).map((e) => `${e.instancePath || '(body)'} ${e.message ?? ''}${e.keyword === 'additionalProperties' ? ` (${String((e.params as { additionalProperty?: string }).additionalProperty)})` : ''}`);
    const message = `the answer of ${request.method} ${request.routeOptions.url ?? request.url} ${status} does not match its documented schema: ${problems.join('; ')}`;
    process.stderr.write(`${message}\n`);
    throw new AppError(500, 'api_error', 'response_undocumented', message);
  });
}

/**
 * The schema with `additionalProperties: false` on every object that lists its properties and
 * says nothing about others (the published document leaves them open: adding a field is not a
 * breaking change for clients).
 */
export function closed(schema: Schema): Schema {
  const copy: Schema = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'properties' && isRecord(value)) copy[key] = Object.fromEntries(Object.entries(value).map(([name, s]) => [name, isRecord(s) ? closed(s) : s]));
    else if ((key === 'anyOf' || key === 'oneOf' || key === 'allOf' || key === 'prefixItems') && Array.isArray(value)) copy[key] = value.map((s: unknown) => (isRecord(s) ? closed(s) : s));
    else if ((key === 'items' || key === 'additionalProperties' || key === 'not') && isRecord(value)) copy[key] = closed(value);
    else copy[key] = value;
  }
  if (isRecord(schema.properties) && !('additionalProperties' in schema) && !('patternProperties' in schema) && !Array.isArray(schema.allOf)) copy.additionalProperties = false;
  return copy;
}

function isRecord(value: unknown): value is Schema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
