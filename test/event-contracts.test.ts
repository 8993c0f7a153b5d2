// Every event subject consumed anywhere has one typed contract, declared in its producer's
// src/events.ts and used by the producer's code (which can only publish through enqueue(tx,
// Contract, data)). `user.new_login` was consumed for months and produced by nobody: this is the
// test that would have said so. A contract nobody consumes is allowed (an integration point, or
// the AsyncAPI document's reader) and is listed.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startTestPlatform, type TestPlatform } from '@paymesh/app/testing';
import { declaredContracts, platformConsumers, type DeclaredContract } from '@paymesh/app/testing/event-catalogue';

const root = resolve(import.meta.dirname, '..');

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
  let declared: DeclaredContract[];
  let consumed: Map<string, string[]>;

  before(async () => {
    declared = await declaredContracts();
    // The embedded platform runs every service on one in-process transport: what is subscribed on
    // it once the services are up is every subject consumed anywhere (broadcasts included).
    platform = await startTestPlatform('pglite');
    consumed = new Map([...platformConsumers(platform)].map(([subject, takers]) => [subject, takers.map((t) => (t.broadcast ? `${t.service} (broadcast)` : t.service))]));
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
