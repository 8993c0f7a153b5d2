// packages/sdk/src/generated/ is what `npm run sdk:generate` makes of the committed API document:
// a change to docs/api/openapi.json without regenerating fails here (as test/openapi.test.ts fails
// for a change to the API without rewriting the document).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { generatedIdempotentPosts, generatedIdempotentPostsPath, generatedTypes, generatedTypesPath, readApiDocumentFile } from '../codegen/sdk-types.ts';

test('src/generated/openapi.ts is what openapi-typescript makes of docs/api/openapi.json (run npm run sdk:generate)', async () => {
  assert.ok(readFileSync(generatedTypesPath, 'utf8') === (await generatedTypes(readApiDocumentFile())), 'the API document changed: run `npm run sdk:generate` and commit packages/sdk/src/generated/');
});

test('src/generated/idempotent-posts.ts lists exactly the POSTs whose document declares Idempotency-Key', () => {
  assert.equal(readFileSync(generatedIdempotentPostsPath, 'utf8'), generatedIdempotentPosts(readApiDocumentFile()), 'run `npm run sdk:generate`');
  // The payments service's POSTs are the ones that honour it today; registration does not.
  const text = readFileSync(generatedIdempotentPostsPath, 'utf8');
  for (const path of ['/payments', '/payments/{id}/capture', '/payments/{id}/refunds', '/wallet/top-ups']) assert.ok(text.includes(JSON.stringify(path)), path);
  assert.ok(!text.includes('"/users"'));
});

test('the generated types follow the document: a change to it shows in them', async () => {
  const document = readApiDocumentFile();
  const changed = structuredClone(document) as { paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: { required: string[] } }> } }>> };
  changed.paths['/payments']!.post!.requestBody!.content['application/json']!.schema.required.push('description');
  assert.notEqual(await generatedTypes(changed as never), await generatedTypes(document));
});
