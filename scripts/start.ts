// `npm start`: the whole platform in one process on its embedded defaults (PGlite under var/,
// in-process events), the gateway on http://localhost:8080 (PORT overrides). Ctrl-C stops it
// gracefully: in-flight requests finish and every outbox is flushed.
import { existsSync } from 'node:fs';
import { enableCompileCache } from 'node:module';
import { resolve } from 'node:path';
import { makeClusterEarly } from '@paymesh/app/data-layout';
import { varDir } from '@paymesh/platform/dev-secrets';
// Tracing starts first (when OTEL_* variables configure it): its hooks patch http, undici and
// Fastify as they load, so the platform is imported after it (docs/adr/0022-tracing.md).
import { startTracing } from '@paymesh/platform/tracing/start-tracing';

const startedAt = performance.now();
// V8's code for the platform's modules (and their stripped TypeScript) is kept on disk (Node's
// compile cache, in the temp folder) between starts: about a tenth of a later start's CPU.
enableCompileCache();
// PAYMESH_DATA_ROOT moves the PGlite folders (benchmarks use a fresh one); PAYMESH_PORTS=random
// picks free ports for the services (the gateway still honours PORT).
const dataRoot = process.env.PAYMESH_DATA_ROOT ?? resolve(varDir, 'data');
// A first start's cluster is made in a process of its own meanwhile: the modules below take a core for a while.
makeClusterEarly(dataRoot, process.env);
const tracing = await startTracing('paymesh');
const { startEmbedded } = await import('@paymesh/app/start-embedded');
const { createLogger } = await import('@paymesh/platform/logger');
const { stopOnSignal } = await import('@paymesh/platform/stop-on-signal');
const platform = await startEmbedded({ dataRoot, ports: process.env.PAYMESH_PORTS === 'random' ? 'random' : 'default' });
const readyMs = Math.round(performance.now() - startedAt);
const rssMb = Math.round(process.memoryUsage.rss() / 1024 / 1024);
const gateway = platform.gatewayUrl.replace('127.0.0.1', 'localhost');
const adminFile = resolve(varDir, 'bootstrap-admin.txt');

const lines = [
  '',
  `Paymesh is up in ${readyMs} ms (${rssMb} MB RSS) — embedded mode`,
  '',
  `  gateway        ${gateway}`,
  `  auth           ${gateway}/auth   (discovery: ${gateway}/auth/.well-known/openid-configuration)`,
  `  users          ${gateway}/users`,
  `  payments       ${gateway}/payments`,
  `  notifications  ${gateway}/notifications`,
  `  metrics        ${Object.entries(platform.plan.metrics).map(([name, port]) => `${name} :${port}`).join(', ')}, gateway :${platform.plan.gatewayMetrics}  (GET /metrics)`,
  `  data           ${dataRoot}` + (platform.dataLayout === 'cluster' ? '  (one PGlite cluster, a schema per service)' : '  (one PGlite cluster per service: a folder from before ADR 29, kept as it is)'),
  `  admin          ${process.env.BOOTSTRAP_ADMIN_USERNAME ?? 'admin'}` + (process.env.BOOTSTRAP_ADMIN_PASSWORD !== undefined ? ' (password from BOOTSTRAP_ADMIN_PASSWORD)' : existsSync(adminFile) ? ` (generated password in ${adminFile})` : ''),
  '',
  'Ctrl-C stops it gracefully.',
  '',
];
// Signal handlers first: whoever reads the ready line may send SIGINT at once.
stopOnSignal({
  stop: async () => {
    await platform.stop();
    await tracing?.shutdown();
  },
  // The longest a service's relay may flush (SHUTDOWN_GRACE_MS), twice, as a single service's process.
  boundMs: 2 * Number(process.env.SHUTDOWN_GRACE_MS ?? 10_000),
  // On stderr, beside the messages above: stdout carries only the machine-readable ready line.
  logger: createLogger('platform', process.env.LOG_LEVEL ?? 'info', process.stderr),
  onSignal: (signal) => process.stderr.write(`\n${signal}: finishing in-flight requests and flushing outboxes…\n`),
});

process.stderr.write(lines.join('\n') + '\n');
// A machine-readable line for scripts and the start-up benchmark.
if (process.env.PAYMESH_READY_LINE === '1') process.stdout.write(JSON.stringify({ ready: true, readyMs, rssMb, gateway }) + '\n');
