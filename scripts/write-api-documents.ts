// `npm run api:documents`: starts the platform on PGlite, reads the gateway's merged OpenAPI
// document and writes it to docs/api/openapi.json, the snapshot a change to the API shows in
// review (test/openapi.test.ts fails while the snapshot differs from what the code generates), and
// the event catalogue's AsyncAPI 3 document to docs/api/asyncapi.json.
// `npm run api:documents -- --release` also keeps it as docs/api/released/<info.version>.json, the
// document later versions are checked against for breaking changes.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { backends, startTestPlatform } from '@paymesh/app/testing';
import { apiSnapshotPath, apiSnapshotText, asyncApiSnapshotPath, readApiDocument, readAsyncApiDocument } from '@paymesh/app/testing/api-snapshot';

const platform = await startTestPlatform(backends()[0]!);
try {
  const document = await readApiDocument(platform.gatewayUrl);
  writeFileSync(apiSnapshotPath, apiSnapshotText(document));
  console.log(`wrote ${relative(process.cwd(), apiSnapshotPath)}`);
  writeFileSync(asyncApiSnapshotPath, apiSnapshotText(await readAsyncApiDocument(platform)));
  console.log(`wrote ${relative(process.cwd(), asyncApiSnapshotPath)}`);
  if (process.argv.includes('--release')) {
    const version = (document.info as { version: string }).version;
    const released = resolve(dirname(apiSnapshotPath), 'released', `${version}.json`);
    // A released document is what clients were built against: it is never rewritten.
    if (existsSync(released)) throw new Error(`${relative(process.cwd(), released)} exists: raise apiVersion (packages/platform/src/openapi/use-open-api.ts) to release again`);
    mkdirSync(dirname(released), { recursive: true });
    writeFileSync(released, apiSnapshotText(document));
    console.log(`wrote ${relative(process.cwd(), released)}`);
  }
} finally {
  await platform.stop();
}
