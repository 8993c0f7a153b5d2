// `npm test`: every test file, each in its own process, several at a time. The files that take
// longest start first, so that no long file starts last and runs alone while the machine idles;
// the rest follow in path order. Node's compile cache (node_modules/.cache) keeps the TypeScript
// each process strips and compiles, so only the first process of a run pays for it.
//
//   npm test                                   the whole suite
//   npm test -- services/payments/test/refunds.test.ts ...   some files
//   TEST_CONCURRENCY=1 npm test                one file at a time
import { globSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { run } from 'node:test';
import { spec } from 'node:test/reporters';

const root = resolve(import.meta.dirname, '..');
const patterns = ['packages/*/test/*.test.ts', 'app/test/*.test.ts', 'services/*/test/*.test.ts', 'test/*.test.ts', 'test/browser/*.test.ts', 'test/deploy/*.test.ts', 'test/observability/*.test.ts'];

// The longest files, longest first (seconds of one file alone on node-svc with PostgreSQL and NATS,
// 2026-12-06). A file missing here only starts in path order; a name that matches no file is an error.
const startFirst = [
  'services/payments/test/ledger-model-postgres.test.ts',
  'services/payments/test/ledger-model.test.ts',
  'services/notifications/test/live-token-end.test.ts',
  'services/payments/test/idempotency-everywhere.test.ts',
  'services/notifications/test/live.test.ts',
  'services/payments/test/idempotency-lease.test.ts',
  'services/auth/test/account-revocation.test.ts',
  'services/payments/test/idempotency.test.ts',
  'test/deploy/kubernetes-podman.test.ts',
  'test/browser/sign-in.test.ts',
  'test/graceful-shutdown.test.ts',
];

const given = process.argv.slice(2);
const all = given.length > 0 ? given : patterns.flatMap((pattern) => globSync(pattern, { cwd: root })).sort();
for (const file of startFirst) {
  if (given.length === 0 && !all.includes(file)) throw new Error(`scripts/test.ts: ${file} (in startFirst) is not a test file`);
}
const files = [...startFirst.filter((file) => all.includes(file)), ...all.filter((file) => !startFirst.includes(file))].map((file) => resolve(root, file));

// Several files per core: most of a test's time is spent waiting (for a stream, a retry, a timer).
const concurrency = Number(process.env.TEST_CONCURRENCY ?? availableParallelism() + 2);
if (!Number.isSafeInteger(concurrency) || concurrency < 1) throw new Error(`TEST_CONCURRENCY must be a positive integer, not ${process.env.TEST_CONCURRENCY}`);
process.env.NODE_COMPILE_CACHE ??= resolve(root, 'node_modules/.cache/node-compile-cache');

const tests = run({ files, concurrency, cwd: root });
tests.on('test:summary', (summary) => {
  if (summary.file === undefined && !summary.success) process.exitCode = 1;
});
tests.compose(spec).pipe(process.stdout);
