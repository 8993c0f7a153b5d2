// The API documents as committed in docs/api/: openapi.json, the gateway's merged document with
// npm start's URL as its server and in the issuer's URLs (so that the snapshot does not depend on
// the ports a platform got), and asyncapi.json, the event catalogue. `npm run api:documents`
// writes them; test/openapi.test.ts and test/asyncapi.test.ts compare them.
import { resolve } from 'node:path';
import * as authEvents from '@paymesh/auth/events';
import * as notificationsEvents from '@paymesh/notifications/events';
import * as paymentsEvents from '@paymesh/payments/events';
import type { EventContract } from '@paymesh/platform/events/define-event';
import { InProcessTransport } from '@paymesh/platform/events/in-process-transport';
import * as usersEvents from '@paymesh/users/events';
import { asyncApiDocument, type Consumer } from '../src/asyncapi-document.ts';
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

/**
 * The AsyncAPI document of the embedded platform `platform`: every service's contracts, and who
 * consumes each subject as the platform's in-process transport sees it once every service is up.
 */
export async function readAsyncApiDocument(platform: TestPlatform): Promise<Record<string, unknown>> {
  const transport = platform.embedded!.services.users.runtime.transport;
  if (!(transport instanceof InProcessTransport)) throw new Error('the AsyncAPI document is read from an embedded platform on its in-process transport');
  const { consumed, followers } = transport.subscriptions();
  const consumers = new Map<string, Consumer[]>();
  for (const { consumer, subject } of consumed) consumers.set(subject, [...(consumers.get(subject) ?? []), { service: consumer, broadcast: false }]);
  // The kit's token revocation list (follower `revocations`) runs in every service.
  for (const { follower, subject } of followers) consumers.set(subject, [...(consumers.get(subject) ?? []), { service: follower === 'revocations' ? 'everyService' : follower ?? 'unnamed', broadcast: true }]);
  const contracts = [authEvents, usersEvents, paymentsEvents, notificationsEvents].flatMap((module) => Object.values(module as Record<string, unknown>).filter(isContract));
  return asyncApiDocument(contracts, consumers);
}

function isContract(value: unknown): value is EventContract {
  return typeof value === 'object' && value !== null && ['subject', 'version', 'schema', 'producer', 'description'].every((key) => key in value);
}
