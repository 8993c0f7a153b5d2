// Every event subject consumed anywhere has one typed contract, declared in its producer's
// src/events.ts and used by the producer's code (which can only publish through enqueue(tx,
// Contract, data)). `user.new_login` was consumed for months and produced by nobody: this is the
// test that would have said so. A contract nobody consumes is allowed (an integration point, or
// the AsyncAPI document's reader) and is listed.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { startTestPlatform, type TestPlatform } from '@paymesh/app/testing';
import type { EventContract } from '@paymesh/platform/events/define-event';
import { InProcessTransport } from '@paymesh/platform/events/in-process-transport';

const root = resolve(import.meta.dirname, '..');
const services = readdirSync(join(root, 'services')).filter((name) => statSync(join(root, 'services', name, 'src', 'events.ts'), { throwIfNoEntry: false }) !== undefined);

interface Declared {
  readonly name: string;
  readonly contract: EventContract;
  /** The events.ts that exports it. */
  readonly service: string;
}

const isContract = (value: unknown): value is EventContract =>
  typeof value === 'object' && value !== null && ['subject', 'version', 'schema', 'producer', 'description'].every((key) => key in value);

async function declaredContracts(): Promise<Declared[]> {
  const declared: Declared[] = [];
  for (const service of services) {
    const module = await import(pathToFileURL(join(root, 'services', service, 'src', 'events.ts')).href) as Record<string, unknown>;
    for (const [name, value] of Object.entries(module)) if (isContract(value)) declared.push({ name, contract: value, service });
  }
  return declared;
}

function sourcesOf(service: string): string[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts') && path !== join(root, 'services', service, 'src', 'events.ts')) files.push(readFileSync(path, 'utf8'));
    }
  };
  walk(join(root, 'services', service, 'src'));
  return files;
}

describe('event contracts', () => {
  let platform: TestPlatform;
  let declared: Declared[];
  let consumed: Map<string, string[]>;

  before(async () => {
    declared = await declaredContracts();
    // The embedded platform runs every service on one in-process transport: what is subscribed on
    // it once the services are up is every subject consumed anywhere (broadcasts included).
    platform = await startTestPlatform('pglite');
    const transport = platform.embedded!.services.users.runtime.transport;
    assert.ok(transport instanceof InProcessTransport);
    const { consumed: consumers, broadcast } = transport.subscriptions();
    consumed = new Map();
    for (const { consumer, subject } of consumers) consumed.set(subject, [...(consumed.get(subject) ?? []), consumer]);
    for (const subject of broadcast) consumed.set(subject, [...(consumed.get(subject) ?? []), '(broadcast)']);
  });
  after(async () => {
    await platform?.stop();
  });

  test('every subject consumed anywhere has a contract in its producer\'s events.ts, and the producer\'s code uses it', () => {
    assert.ok(consumed.size > 10, `the platform subscribes to its events (${consumed.size} subjects found)`);
    const problems: string[] = [];
    for (const [subject, consumers] of consumed) {
      const contracts = declared.filter((d) => d.contract.subject === subject);
      if (contracts.length === 0) {
        problems.push(`${subject} (consumed by ${consumers.join(', ')}) has no contract: no service declares that it produces it`);
        continue;
      }
      for (const { name, contract, service } of contracts) {
        const used = sourcesOf(contract.producer).some((source) => new RegExp(`\\b${name}\\b`).test(source));
        if (!used) problems.push(`${subject}: ${service}'s contract ${name} names ${contract.producer} as its producer, whose code never uses it`);
      }
    }
    assert.deepEqual(problems, []);
  });

  test('one contract per subject, exported by its producer\'s events.ts', () => {
    const subjects = new Map<string, string[]>();
    for (const { name, contract, service } of declared) {
      subjects.set(contract.subject, [...(subjects.get(contract.subject) ?? []), `${service}.${name}`]);
      assert.equal(contract.producer, service, `${name} (${contract.subject}) is exported by ${service}'s events.ts but names ${contract.producer} as its producer`);
    }
    const duplicated = [...subjects].filter(([, names]) => names.length > 1);
    assert.deepEqual(duplicated, []);
  });

  // Allowed: listed in the test's output, so that a contract that lost its last consumer is seen.
  test('contracts nobody consumes are listed', (t) => {
    const unconsumed = declared.filter((d) => !consumed.has(d.contract.subject)).map((d) => `${d.contract.subject} (${d.contract.producer})`);
    t.diagnostic(`produced, consumed by no service: ${unconsumed.length === 0 ? 'none' : unconsumed.join(', ')}`);
  });
});
