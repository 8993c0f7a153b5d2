// The API documents as committed in docs/api/: openapi.json, the gateway's merged document with
// npm start's URL as its server and in the issuer's URLs (so that the snapshot does not depend on
// the ports a platform got), and asyncapi.json, the event catalogue. `npm run api:documents`
// writes them; test/openapi.test.ts and test/asyncapi.test.ts compare them.
import { resolve } from 'node:path';
import { asyncApiDocument } from '../src/asyncapi-document.ts';
import { declaredContracts, platformConsumers } from './event-catalogue.ts';
import type { TestPlatform } from './test-platform.ts';

export const apiSnapshotPath = resolve(import.meta.dirname, '../../docs/api/openapi.json');

/** The merged document the gateway at `gatewayUrl` serves, as the snapshot holds it. */
export async function readApiDocument(gatewayUrl: string): Promise<Record<string, unknown>> {
  const response = await fetch(`${gatewayUrl}/openapi.json`);
  if (!response.ok) throw new Error(`GET /openapi.json answered ${response.status}: ${await response.text()}`);
  // The issuer's URLs (OAuth flows, discovery) carry the platform's port: written as npm start's.
  const { port } = new URL(gatewayUrl);
  const text = (await response.text()).replaceAll(`http://localhost:${port}`, 'http://localhost:8080').replaceAll(`http://127.0.0.1:${port}`, 'http://localhost:8080');
  const document = JSON.parse(text) as Record<string, unknown>;
  return { ...document, servers: [{ url: 'http://localhost:8080', description: 'npm start on this machine' }] };
}

/** The snapshot's text: stable key order as generated, two-space indentation, a final newline. */
export function apiSnapshotText(document: unknown): string {
  return JSON.stringify(document, null, 2) + '\n';
}

export const asyncApiSnapshotPath = resolve(import.meta.dirname, '../../docs/api/asyncapi.json');

/** The AsyncAPI document of the embedded platform `platform` (event-catalogue.ts). */
export async function readAsyncApiDocument(platform: TestPlatform): Promise<Record<string, unknown>> {
  return asyncApiDocument((await declaredContracts()).map((d) => d.contract), platformConsumers(platform));
}
