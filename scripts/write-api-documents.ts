// `npm run api:documents`: starts the platform on PGlite, reads the gateway's merged OpenAPI
// document and writes it to docs/api/openapi.json, the snapshot a change to the API shows in
// review (test/openapi.test.ts fails while the snapshot differs from what the code generates).
import { writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import { backends, startTestPlatform } from '@paymesh/app/testing';
import { apiSnapshotPath, apiSnapshotText, readApiDocument } from '@paymesh/app/testing/api-snapshot';

const platform = await startTestPlatform(backends()[0]!);
try {
  writeFileSync(apiSnapshotPath, apiSnapshotText(await readApiDocument(platform.gatewayUrl)));
  console.log(`wrote ${relative(process.cwd(), apiSnapshotPath)}`);
} finally {
  await platform.stop();
}
