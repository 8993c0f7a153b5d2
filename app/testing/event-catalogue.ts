// The platform's events as the code declares them and as a running platform takes them: every
// contract exported by a service's src/events.ts (found by scanning services/, so a new service
// is never left out), and who consumes each subject on an embedded platform's in-process transport
// once every service is up. test/event-contracts.test.ts holds them to each other; the AsyncAPI
// document (app/src/asyncapi-document.ts) is built from them.
import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isEventContract, type EventContract } from '@paymesh/platform/events/define-event';
import { InProcessTransport } from '@paymesh/platform/events/in-process-transport';
import type { Consumer } from '../src/asyncapi-document.ts';
import type { TestPlatform } from './test-platform.ts';

const servicesDir = resolve(import.meta.dirname, '../../services');

export interface DeclaredContract {
  /** Its export's name in events.ts. */
  readonly name: string;
  readonly contract: EventContract;
  /** The service whose events.ts exports it. */
  readonly service: string;
}

/** Every contract every service's src/events.ts exports. */
export async function declaredContracts(): Promise<DeclaredContract[]> {
  const declared: DeclaredContract[] = [];
  for (const service of readdirSync(servicesDir).sort()) {
    const file = join(servicesDir, service, 'src', 'events.ts');
    if (statSync(file, { throwIfNoEntry: false }) === undefined) continue;
    const module = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
    for (const [name, value] of Object.entries(module)) if (isEventContract(value)) declared.push({ name, contract: value, service });
  }
  return declared;
}

/** Subject → who takes it on the embedded platform `platform`: durable consumers and broadcast followers, by service. */
export function platformConsumers(platform: TestPlatform): Map<string, Consumer[]> {
  const transport = platform.embedded!.services.users.runtime.transport;
  if (!(transport instanceof InProcessTransport)) throw new Error('consumers are read from an embedded platform on its in-process transport');
  const { consumed, followers } = transport.subscriptions();
  const consumers = new Map<string, Consumer[]>();
  const add = (subject: string, consumer: Consumer) => consumers.set(subject, [...(consumers.get(subject) ?? []), consumer]);
  for (const { consumer, subject } of consumed) add(subject, { service: consumer, broadcast: false });
  for (const { follower, subject } of followers) add(subject, { service: follower ?? '(unnamed)', broadcast: true });
  return consumers;
}
