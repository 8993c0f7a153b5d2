// The API document as committed in docs/api/openapi.json: the gateway's merged document with the
// default public URL (npm start's) as its server and in the issuer's URLs, so that the snapshot does not depend on the ports a platform
// happened to get. `npm run api:documents` writes it; test/openapi.test.ts compares it.
import { resolve } from 'node:path';

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
