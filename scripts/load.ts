// `npm run load`: a bounded, configurable traffic mix against a running Paymesh (any base URL):
// users signing up, logging in (and failing to), paying with the test cards (succeeded, declined,
// 3-D Secure, authorise then capture), refunding, retrying with the same Idempotency-Key, reading
// their inbox and holding its live stream. A progress line while it runs, a summary at the end
// (rate, p50/p95/p99 per operation, answers by code); exit code 1 when unexpected answers pass
// --max-error-rate. docs/observability.md tells how to use it with Prometheus.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { closeHttpClient } from '../bench/http-client.ts';
import { LoadOptionError, loadUsage, parseLoadOptions } from './load/load-options.ts';
import { formatSummary } from './load/load-recorder.ts';
import { LoadSetupError, runLoad } from './load/run-load.ts';

/** The admin's password that `npm start` wrote on its first start, if this clone ran it. */
function bootstrapAdminPassword(): string | undefined {
  const file = resolve(import.meta.dirname, '../var/bootstrap-admin.txt');
  if (!existsSync(file)) return undefined;
  return /^password=(.+)$/m.exec(readFileSync(file, 'utf8'))?.[1]?.trim();
}

let options;
try {
  options = parseLoadOptions(process.argv.slice(2), bootstrapAdminPassword);
} catch (error) {
  if (!(error instanceof LoadOptionError)) throw error;
  console.error(`${error.message}\n\n${loadUsage}`);
  process.exit(2);
}
if (options.help) {
  console.log(loadUsage);
  process.exit(0);
}

const live = process.stderr.isTTY;
console.error(`load: ${options.baseUrl} for ${options.durationSec} s, ${options.concurrency} in flight, ${options.users} users (${options.streams} holding the live inbox)${options.adminPassword === undefined ? ', no refunds (no admin password)' : ''}${options.localReceivers ? ', webhooks and Web Push to 127.0.0.1' : ''}`);
try {
  const result = await runLoad(options, (line) => (live ? process.stderr.write(`\r${line}`) : console.error(line)));
  if (live) process.stderr.write('\n');
  console.log(options.json ? JSON.stringify(result, null, 2) : formatSummary(result));
  if (result.received !== undefined && !options.json) console.log(`\nreceived on 127.0.0.1: ${result.received.webhooks} webhooks accepted, ${result.received.failedWebhooks} refused on purpose, ${result.received.pushes} Web Push messages`);
  if (result.errorRate > options.maxErrorRate) {
    console.error(`\nunexpected answers: ${(result.errorRate * 100).toFixed(2)}% > --max-error-rate ${options.maxErrorRate * 100}%`);
    process.exitCode = 1;
  }
} catch (error) {
  if (!(error instanceof LoadSetupError)) throw error;
  console.error(`load: ${error.message}`);
  process.exitCode = 2;
} finally {
  closeHttpClient();
}
