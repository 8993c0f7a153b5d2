// The API document is the answer's contract: with CHECK_RESPONSES=on an answer that does not match
// its status's schema (a field left undocumented, one missing, one of another type) is refused with
// 500 response_undocumented, whoever wrote the body (the serializer or the handler itself); with it
// off nothing is checked and nothing is dropped, because the document never serialises an answer.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Type } from '@fastify/type-provider-typebox';
import { AppError } from '../src/errors.ts';
import { createHttpServer, type HttpServer } from '../src/http-server.ts';
import { createLogger } from '../src/logger.ts';
import { createMetrics } from '../src/metrics.ts';
import { closed } from '../src/openapi/check-responses.ts';
import { errorAnswer, useOpenApi } from '../src/openapi/use-open-api.ts';

const examples = {
  'GET /widgets/good': { 200: { id: 'w_9', amount: 250, note: 'a real answer', parts: [] }, 404: { error: { type: 'invalid_request_error', code: 'widget_not_found', message: 'No such widget.' } } },
};

const widget = Type.Object({
  id: Type.String(),
  amount: Type.Integer({ description: 'Minor units.' }),
  note: Type.Union([Type.String(), Type.Null()]),
  parts: Type.Array(Type.Object({ name: Type.String() })),
});

async function serverWith(check: boolean, options: { examplesFile?: string } = {}): Promise<HttpServer> {
  const app = createHttpServer({ logger: createLogger('test', 'silent'), metrics: createMetrics(`check-${String(check)}`), readiness: [], trustedProxies: [] });
  useOpenApi(app, { title: 'Widgets', description: 'Widgets.', tags: [{ name: 'Widgets', description: 'Widgets.', prefix: '/widgets' }], examples }, 'http://localhost:8080/auth', { check, ...options });
  // The generator sees the routes added once it is registered, as a service's are.
  await app.after();
  const respond = { 200: widget, 404: errorAnswer('No such widget (widget_not_found).') };
  const good = { id: 'w_1', amount: 100, note: null, parts: [{ name: 'bolt' }] };
  app.get('/widgets/good', { config: { public: true }, schema: { response: respond } }, async () => good);
  // A field the document does not list, inside an array item.
  app.get('/widgets/extra', { config: { public: true }, schema: { response: respond } }, async () => ({ ...good, parts: [{ name: 'bolt', secret: 's' }] }) as never);
  app.get('/widgets/missing', { config: { public: true }, schema: { response: respond } }, async () => ({ id: 'w_1', amount: 100, parts: [] }) as never);
  app.get('/widgets/wrong-type', { config: { public: true }, schema: { response: respond } }, async () => ({ ...good, amount: '100' }) as never);
  // A body the handler wrote itself (as an idempotent replay does) is checked the same way.
  app.get('/widgets/written', { config: { public: true }, schema: { response: respond } }, async (_request, reply) => reply.type('application/json').send(JSON.stringify({ ...good, extra: true }) as never));
  app.get('/widgets/gone', { config: { public: true }, schema: { response: respond } }, async () => {
    throw new AppError(404, 'invalid_request_error', 'widget_not_found', 'No such widget.');
  });
  // Documents no success schema: its JSON answer has only the error object's `default` to match.
  app.get('/widgets/undocumented', { config: { public: true } }, async () => ({ id: 'w_1' }));
  app.get('/widgets/internal/raw', { config: { public: true } }, async () => ({ anything: 1 }));
  return app;
}

describe('with CHECK_RESPONSES=on, an answer must match the API document', () => {
  let app: HttpServer;
  before(async () => void (app = await serverWith(true)));
  after(() => app.close());
  const get = (url: string) => app.inject({ method: 'GET', url });

  test('an answer that matches its schema is sent unchanged', async () => {
    const response = await get('/widgets/good');
    assert.equal(response.statusCode, 200);
    assert.deepEqual(response.json(), { id: 'w_1', amount: 100, note: null, parts: [{ name: 'bolt' }] });
  });

  for (const [url, problem] of [
    ['/widgets/extra', /\/parts\/0 must NOT have additional properties \(secret\)/],
    ['/widgets/missing', /must have required property 'note'/],
    ['/widgets/wrong-type', /\/amount must be integer/],
    ['/widgets/written', /must NOT have additional properties \(extra\)/],
    ['/widgets/undocumented', /GET \/widgets\/undocumented 200 .*required property 'error'/],
  ] as const) {
    test(`${url}: a mismatch is answered 500 response_undocumented naming the field`, async () => {
      const response = await get(url);
      assert.equal(response.statusCode, 500);
      assert.equal(response.json().error.code, 'response_undocumented');
      assert.match(response.json().error.message, problem);
    });
  }

  test('error answers are checked against the error object and pass', async () => {
    const response = await get('/widgets/gone');
    assert.equal(response.statusCode, 404);
    assert.equal(response.json().error.code, 'widget_not_found');
    const unknown = await get('/widgets/nowhere');
    assert.equal(unknown.statusCode, 404);
  });

  test('routes the document leaves out (internal, probes) are not checked', async () => {
    assert.deepEqual((await get('/widgets/internal/raw')).json(), { anything: 1 });
  });

  test('the document describes the specific error status by reference to the error object', async () => {
    const document = (await get('/openapi.json')).json();
    const responses = document.paths['/widgets/good'].get.responses;
    assert.equal(responses['404'].description, 'No such widget (widget_not_found).');
    assert.deepEqual(responses['404'].content['application/json'].schema, { $ref: '#/components/schemas/Error' });
    assert.equal(responses.default.content['application/json'].schema.$ref, '#/components/schemas/Error');
    assert.equal(responses['200'].content['application/json'].schema.properties.amount.type, 'integer');
    // The examples are real answers the service recorded (api-examples.json).
    assert.deepEqual(responses['200'].content['application/json'].example, examples['GET /widgets/good'][200]);
    assert.deepEqual(responses['404'].content['application/json'].example, examples['GET /widgets/good'][404]);
    // The published schema stays open: a client must accept fields added later.
    assert.equal(responses['200'].content['application/json'].schema.additionalProperties, undefined);
  });
});

test('API_EXAMPLES_DIR: the first valid answer of each route and status is recorded, once', async () => {
  const examplesFile = join(mkdtempSync(join(tmpdir(), 'examples-')), 'widgets.jsonl');
  const app = await serverWith(true, { examplesFile });
  try {
    for (const url of ['/widgets/good', '/widgets/good', '/widgets/gone', '/widgets/extra']) await app.inject({ method: 'GET', url });
    const lines = readFileSync(examplesFile, 'utf8').trim().split('\n').map((line) => JSON.parse(line));
    assert.deepEqual(lines.map((l) => `${l.route} ${l.status}`), ['GET /widgets/good 200', 'GET /widgets/gone 404']);
    assert.equal(lines[0].body.amount, 100);
  } finally {
    await app.close();
  }
});

describe('with CHECK_RESPONSES=off, the schema neither checks nor serialises', () => {
  let app: HttpServer;
  before(async () => void (app = await serverWith(false)));
  after(() => app.close());

  test('a field the schema does not list still reaches the client (nothing is silently dropped)', async () => {
    const response = await app.inject({ method: 'GET', url: '/widgets/extra' });
    assert.equal(response.statusCode, 200);
    assert.deepEqual(response.json().parts, [{ name: 'bolt', secret: 's' }]);
  });

  test('a value of another type is not coerced to the schema\'s', async () => {
    assert.equal((await app.inject({ method: 'GET', url: '/widgets/wrong-type' })).json().amount, '100');
  });
});

test('closed() closes every object that lists its properties, and leaves open ones open', () => {
  const schema = closed({
    type: 'object',
    properties: { a: { type: 'object', properties: { b: { type: 'string' } } }, c: { type: 'array', items: { type: 'object', properties: {} } }, d: { anyOf: [{ type: 'object', properties: {} }, { type: 'null' }] } },
    additionalProperties: true,
  });
  assert.equal(schema.additionalProperties, true);
  const properties = schema.properties as Record<string, Record<string, unknown>>;
  assert.equal(properties.a!.additionalProperties, false);
  assert.equal((properties.c!.items as Record<string, unknown>).additionalProperties, false);
  assert.equal((properties.d!.anyOf as Record<string, unknown>[])[0]!.additionalProperties, false);
});
