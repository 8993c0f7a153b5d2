// The API's OpenAPI 3.1 documents: each service serves its own at /openapi.json, generated from
// its routes; the gateway serves one merged document of the public paths at /openapi.json and
// each service's at /openapi/<service>.json. The merged document is what docs/api/openapi.json
// holds (a change to the API shows in review: `npm run api:documents` rewrites it), breaks nothing
// a client of the last released document (docs/api/released/) uses, passes the
// linter with redocly.yaml's ruleset without an error, and names every operation so that it
// reads as an SDK method.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { lint, loadConfig } from '@redocly/openapi-core';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { backends, startTestPlatform, type TestPlatform } from '@paymesh/app/testing';
import { breakingChanges } from '@paymesh/app/testing/api-breaking-changes';
import { apiSnapshotPath, apiSnapshotText, readApiDocument } from '@paymesh/app/testing/api-snapshot';
import { closed } from '@paymesh/platform/openapi/check-responses';

const root = resolve(import.meta.dirname, '..');

interface Operation {
  operationId?: string;
  summary?: string;
  tags?: string[];
  security?: Record<string, string[]>[];
  responses?: Record<string, unknown>;
}
type Paths = Record<string, Record<string, Operation>>;

describe('OpenAPI documents', () => {
  let platform: TestPlatform;
  let merged: Record<string, unknown> & { paths: Paths; tags: { name: string }[] };
  const operations = () => Object.entries(merged.paths).flatMap(([path, item]) => Object.entries(item).map(([method, operation]) => ({ path, method: method.toUpperCase(), operation })));

  before(async () => {
    // Webhooks to a receiver on this machine, for the webhooks section's test.
    platform = await startTestPlatform(backends()[0]!, { env: { WEBHOOKS_ALLOW_PRIVATE_NETWORKS: 'true' } });
    merged = (await readApiDocument(platform.gatewayUrl)) as typeof merged;
  });
  after(async () => {
    await platform?.stop();
  });

  test('docs/api/openapi.json is what the code generates (run `npm run api:documents` after changing the API)', () => {
    const committed = readFileSync(apiSnapshotPath, 'utf8');
    assert.equal(apiSnapshotText(merged), committed, 'the API changed: run `npm run api:documents` and commit docs/api/openapi.json');
  });

  test('nothing a client of the last released document uses is removed or narrowed (docs/api/released/)', () => {
    const folder = resolve(dirname(apiSnapshotPath), 'released');
    const versions = readdirSync(folder).filter((f) => f.endsWith('.json')).map((f) => f.replace(/\.json$/, ''));
    assert.ok(versions.length > 0, 'no released document');
    const newest = versions.sort((a, b) => a.localeCompare(b, 'en', { numeric: true })).at(-1)!;
    const released = JSON.parse(readFileSync(resolve(folder, `${newest}.json`), 'utf8'));
    assert.deepEqual(breakingChanges(released, merged as never), [], `breaking changes against released ${newest}: if on purpose, raise apiVersion and release (npm run api:documents -- --release)`);
  });

  test('the merged document passes the linter with the committed ruleset (redocly.yaml): no error', async () => {
    const config = await loadConfig({ configPath: resolve(root, 'redocly.yaml') });
    const problems = await lint({ ref: apiSnapshotPath, config });
    const errors = problems.filter((p) => p.severity === 'error').map((p) => `${p.ruleId}: ${p.message} at ${p.location[0]?.pointer}`);
    assert.deepEqual(errors, []);
  });

  test('each service serves its own document at /openapi.json, and the gateway at /openapi/<service>.json; together they are the merged one', async () => {
    let paths = 0;
    for (const service of ['auth', 'users', 'payments', 'notifications'] as const) {
      const own = await fetch(`${platform.embedded!.services[service].url}/openapi.json`);
      assert.equal(own.status, 200, service);
      const document = (await own.json()) as { openapi: string; paths: Paths };
      assert.equal(document.openapi, '3.1.0');
      const through = await fetch(`${platform.gatewayUrl}/openapi/${service}.json`);
      assert.equal(through.status, 200, service);
      assert.deepEqual(Object.keys(((await through.json()) as { paths: Paths }).paths), Object.keys(document.paths));
      for (const path of Object.keys(document.paths)) assert.ok(merged.paths[path] !== undefined, `${path} of ${service} is missing from the merged document`);
      paths += Object.keys(document.paths).length;
    }
    assert.equal(Object.keys(merged.paths).length, paths);
    assert.equal((await fetch(`${platform.gatewayUrl}/openapi/ledger.json`)).status, 404);
  });

  test('every operation has a unique camelCase operationId, a summary and one declared tag', () => {
    const tags = new Set(merged.tags.map((t) => t.name));
    const seen = new Map<string, string>();
    for (const { path, method, operation } of operations()) {
      const name = `${method} ${path}`;
      assert.match(operation.operationId ?? '', /^[a-z][a-zA-Z]+$/, name);
      assert.ok(!seen.has(operation.operationId!), `${name} and ${seen.get(operation.operationId!)} share ${operation.operationId}`);
      seen.set(operation.operationId!, name);
      assert.ok((operation.summary ?? '').length > 0, name);
      assert.equal(operation.tags?.length, 1, name);
      assert.ok(tags.has(operation.tags![0]!), `${name}: tag ${operation.tags![0]} is not declared`);
    }
    // The names the SDK will expose for the routes a newcomer uses first.
    const byRoute = Object.fromEntries(operations().map(({ path, method, operation }) => [`${method} ${path}`, operation.operationId]));
    assert.equal(byRoute['POST /payments'], 'createPayment');
    assert.equal(byRoute['POST /payments/{id}/capture'], 'capturePayment');
    assert.equal(byRoute['POST /payments/{id}/refunds'], 'createPaymentRefund');
    assert.equal(byRoute['GET /notifications/webhooks/{id}/deliveries'], 'listWebhookDeliveries');
    assert.equal(byRoute['POST /auth/login'], 'logIn');
  });

  test('every operation documents its success answer with a schema, and its JSON answers carry an example taken from a real one that still matches it (npm run api:examples)', () => {
    const ajv = new Ajv({ strict: false, allErrors: true });
    addFormats.default(ajv);
    const components = (merged.components as { schemas: Record<string, unknown> }).schemas;
    // The document's references are to its components: resolved in place for a standalone check.
    const resolved = (schema: unknown): unknown => {
      if (Array.isArray(schema)) return schema.map(resolved);
      if (typeof schema !== 'object' || schema === null) return schema;
      const ref = (schema as { $ref?: string }).$ref;
      if (ref !== undefined) return resolved(components[ref.replace('#/components/schemas/', '')]);
      return Object.fromEntries(Object.entries(schema).map(([k, v]) => [k, resolved(v)]));
    };
    const withoutExample: string[] = [];
    let examples = 0;
    for (const { path, method, operation } of operations()) {
      const name = `${method} ${path}`;
      const responses = Object.entries(operation.responses ?? {}) as [string, { content?: Record<string, { schema?: Record<string, unknown>; example?: unknown }> }][];
      const successes = responses.filter(([status]) => /^2/.test(status));
      assert.ok(successes.length > 0, `${name} documents no success answer`);
      for (const [status, response] of successes) {
        const json = response.content?.['application/json'];
        if (response.content !== undefined && json === undefined) continue; // a stream: text/event-stream
        if (json === undefined) continue; // no body (204)
        assert.ok(json.schema !== undefined && Object.keys(json.schema).length > 0, `${name} ${status}: no schema`);
      }
      if (!successes.some(([, r]) => r.content?.['application/json']?.example !== undefined) && successes.some(([, r]) => r.content?.['application/json'] !== undefined)) withoutExample.push(name);
      for (const [status, response] of responses) {
        const json = response.content?.['application/json'];
        if (json?.example === undefined) continue;
        examples++;
        const validate = ajv.compile(closed(resolved(json.schema) as Record<string, unknown>));
        assert.ok(validate(json.example), `${name} ${status}: its example no longer matches its schema (run npm run api:examples): ${ajv.errorsText(validate.errors)}`);
      }
    }
    assert.deepEqual(withoutExample, [], 'operations without an example of their success answer: exercise them in a test, then npm run api:examples');
    assert.ok(examples > operations().length, `only ${examples} examples`);
  });

  test('protected operations require a bearer token or OAuth 2 with their scope, and document 401 and the error object; public ones require nothing', async () => {
    const createPayment = merged.paths['/payments']!.post!;
    assert.deepEqual(createPayment.security, [{ bearer: [] }, { oauth2: ['payments:write'] }]);
    assert.deepEqual(merged.paths['/users']!.post!.security, [], 'registration is public');
    for (const { path, method, operation } of operations()) {
      assert.ok(operation.responses?.default !== undefined, `${method} ${path} has no default (error) response`);
      if ((operation.security ?? []).length > 0) assert.ok(operation.responses?.['401'] !== undefined, `${method} ${path} has no 401`);
    }
    const schemes = (merged.components as { securitySchemes: Record<string, { type: string; flows?: Record<string, { tokenUrl: string }> }> }).securitySchemes;
    assert.equal(schemes.bearer!.type, 'http');
    assert.ok(schemes.oauth2!.flows!.authorizationCode!.tokenUrl.endsWith('/auth/token'));
    // The token URL the document names is where tokens are really issued.
    const discovery = (await (await fetch(`${platform.gatewayUrl}/auth/.well-known/openid-configuration`)).json()) as { token_endpoint: string; authorization_endpoint: string; scopes_supported: string[] };
    assert.equal(new URL(discovery.token_endpoint).pathname, new URL(schemes.oauth2!.flows!.clientCredentials!.tokenUrl).pathname);
    const authorizationCode = schemes.oauth2!.flows!.authorizationCode as unknown as { authorizationUrl: string; scopes: Record<string, string> };
    assert.equal(new URL(discovery.authorization_endpoint).pathname, new URL(authorizationCode.authorizationUrl).pathname);
    // The scopes it lists are the ones the issuer grants clients (users:credentials is the services' own).
    assert.deepEqual(Object.keys(authorizationCode.scopes).sort(), discovery.scopes_supported.filter((s) => s !== 'users:credentials').sort());
  });

  test('every POST of payments takes an optional Idempotency-Key and documents its 409; other services\' POSTs do not', () => {
    type WithParameters = Operation & { parameters?: { in: string; name: string; required?: boolean }[] };
    const paymentsPaths = ['/payments', '/payment_methods', '/wallet'];
    for (const { path, method, operation } of operations()) {
      if (method !== 'POST') continue;
      const header = (operation as WithParameters).parameters?.find((p) => p.in === 'header' && p.name === 'idempotency-key');
      const isPayments = paymentsPaths.some((prefix) => path === prefix || path.startsWith(`${prefix}/`));
      assert.equal(header !== undefined, isPayments, `${method} ${path}`);
      if (isPayments) {
        assert.equal(header!.required, false, `${method} ${path}`);
        assert.ok(operation.responses?.['409'] !== undefined, `${method} ${path} has no 409`);
      }
    }
  });

  test('the webhooks section describes what a receiver really gets: the event object and a Paymesh-Signature it can check with its secret', async () => {
    const webhooks = merged.webhooks as Record<string, { post: { parameters: { name: string; schema: { pattern?: string } }[]; requestBody: { content: { 'application/json': { schema: object } } } } }>;
    assert.deepEqual(Object.keys(webhooks).sort(), ['account.registration_attempt', 'message', 'payment.failed', 'payment.succeeded', 'refund.succeeded', 'security.new_login', 'security.password_changed']);
    const received: { headers: IncomingHttpHeaders; body: string }[] = [];
    const receiver = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        received.push({ headers: request.headers, body });
        response.writeHead(204).end();
      });
    });
    receiver.listen(0, '127.0.0.1');
    await once(receiver, 'listening');
    try {
      const payer = await platform.api.signUp();
      const endpoint = await platform.api.call('POST', '/notifications/webhooks', { token: payer.token, json: { url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`, event_types: ['payment.succeeded'] } });
      assert.equal(endpoint.status, 201, JSON.stringify(endpoint.body));
      assert.equal((await platform.api.call('POST', '/payments', { token: payer.token, json: { amount: 3.5, user_id: payer.id } })).status, 200);
      await platform.settle();
      assert.equal(received.length, 1);
      const [{ headers, body }] = received as [{ headers: IncomingHttpHeaders; body: string }];
      const described = webhooks['payment.succeeded']!.post;
      const ajv = new Ajv({ allErrors: true, strict: false });
      addFormats.default(ajv);
      const validate = ajv.compile(described.requestBody.content['application/json'].schema);
      assert.ok(validate(JSON.parse(body)), ajv.errorsText(validate.errors));
      const signature = String(headers['paymesh-signature']);
      assert.match(signature, new RegExp(described.parameters.find((p) => p.name === 'Paymesh-Signature')!.schema.pattern!));
      // The scheme as described: v1 = HMAC-SHA256(secret, "<t>.<raw body>").
      const t = /t=(\d+)/.exec(signature)![1];
      assert.ok(signature.includes(`v1=${createHmac('sha256', String(endpoint.body.secret)).update(`${t}.${body}`).digest('hex')}`));
      assert.equal(headers['paymesh-event-id'], JSON.parse(body).id);
    } finally {
      receiver.close();
    }
  });

  test('the contract\'s routes that read their own body describe it, as a form post or JSON (config.documentedBody)', () => {
    for (const [path, required] of [['/auth/login', ['username', 'password']], ['/users/create_user', ['username', 'email', 'password']], ['/users/delete_user', ['user_id']], ['/auth/token/revocation', ['token']], ['/auth/token/introspection', ['token']]] as const) {
      const body = (merged.paths[path]!.post as { requestBody?: { content: Record<string, { schema: { required?: string[] } }> } }).requestBody;
      assert.ok(body !== undefined, `${path} describes no body`);
      assert.deepEqual(Object.keys(body.content).sort(), ['application/json', 'application/x-www-form-urlencoded'], path);
      for (const media of Object.values(body.content)) assert.deepEqual(media.schema.required, [...required], path);
    }
  });

  test('the inbox stream is documented as text/event-stream with Last-Event-ID, and the inbox list with its has-more header', () => {
    type Documented = Operation & { parameters?: { in: string; name: string }[]; responses: Record<string, { content?: Record<string, unknown>; headers?: Record<string, unknown> }> };
    const stream = merged.paths['/notifications/stream']!.get as Documented;
    assert.ok(stream.parameters?.some((p) => p.in === 'header' && p.name === 'last-event-id'));
    assert.deepEqual(Object.keys(stream.responses['200']!.content!), ['text/event-stream']);
    assert.ok(stream.responses['429'] !== undefined);
    const list = merged.paths['/notifications']!.get as Documented;
    assert.ok(list.responses['200']!.headers?.['paymesh-has-more'] !== undefined);
    assert.ok(list.parameters?.some((p) => p.in === 'query' && p.name === 'starting_after'));
  });

  test('service-to-service routes, probes, login-page form posts and emailed-link pages are not in the API', () => {
    for (const path of Object.keys(merged.paths)) {
      assert.ok(!path.split('/').includes('internal'), path);
      assert.ok(!['/healthz', '/readyz', '/openapi.json'].includes(path), path);
      assert.ok(!path.startsWith('/auth/interaction'), path);
    }
    assert.equal(merged.paths['/users/verify-email']?.get, undefined, 'the emailed link\'s page');
    assert.ok(merged.paths['/users/verify-email']?.post !== undefined, 'the API call behind it');
  });
});
