// Runs a declared service (service-declaration.ts): config checked, runtime opened, context built,
// routes on the kit's HTTP server, subscriptions made from `consumes`, `jobs` on one `every()`
// each, servers listening; and the reverse, in the one order of shut-down.ts. main.ts (through
// runMain), the embedded launcher and the test harness all host services through this.
import type { Server } from 'node:http';
import type { Clock } from './clock.ts';
import { loadConfig, type ConfigOf, type ConfigSpec } from './config.ts';
import { consumeEvents } from './events/consume-events.ts';
import { followBroadcast } from './events/follow-broadcast.ts';
import type { EventTransport, Subscription } from './events/event.ts';
import type { Database } from './db/open-database.ts';
import { every, type Every } from './every.ts';
import { createLogger, type Logger } from './logger.ts';
import { createMetrics, startMetricsServer } from './metrics.ts';
import { closingStep } from './closing-step.ts';
import { useOpenApi } from './openapi/use-open-api.ts';
import { createServiceServer, maxAccessTokenTtlSec, openRuntime, type Runtime, type ServiceConfig } from './runtime.ts';
import type { BaseSpec, EdgeConfig, EdgeDeclaration, ServiceDeclaration } from './service-declaration.ts';
import { shutDown, type Hosted } from './shut-down.ts';
import { stopOnSignal } from './stop-on-signal.ts';
import type { Tracing } from './tracing/start-tracing.ts';

export type { Hosted } from './shut-down.ts';

export interface HostedService<C = unknown> extends Hosted {
  readonly kind: 'service';
  readonly runtime: Runtime;
  /** What the declaration's `context` built: tests reach a service's objects through it. */
  readonly context: C;
  /** Starts the relay that `holdRelay` left stopped. */
  startRelay(): void;
  /** Runs each job's `settle` (tests' settle()): true when any of them found work. */
  settleJobs(): Promise<boolean>;
}

export interface HostOptions {
  readonly env?: Record<string, string | undefined>;
  /** Embedded mode passes the shared in-process transport; otherwise NATS is opened from config. */
  readonly transport?: EventTransport;
  /** Embedded mode passes the service's schema of its one PGlite cluster (runtime.ts). */
  readonly database?: Database;
  readonly logger?: Logger;
  /**
   * Leave the outbox relay stopped (start it with `startRelay()`). The embedded launcher starts
   * relays only once every service has subscribed: the in-process transport keeps no events for
   * consumers that do not exist yet.
   */
  readonly holdRelay?: boolean;
  /** The system's clock unless a test moves time itself (testing/skewed-clock.ts). */
  readonly clock?: Clock;
}

export async function hostService<S extends BaseSpec, C>(declaration: ServiceDeclaration<S, C>, options: HostOptions = {}): Promise<HostedService<C>> {
  const { config, warnings } = loadConfig(declaration.config, options.env ?? process.env);
  // The shared keys, seen through their own type (TypeScript cannot resolve them through S).
  const base = config as unknown as ServiceConfig;
  const logger = options.logger ?? createLogger(declaration.name, base.logLevel);
  for (const warning of warnings) logger.warn({ insecureConfig: true }, warning);
  const runtime = await openRuntime({ service: declaration.name, config: base, migrationsDir: declaration.migrations, transport: options.transport, database: options.database, logger, clock: options.clock, publishes: declaration.publishes.map((contract) => contract.subject) });
  const subscriptions: Subscription[] = [];
  const jobs: Every[] = [];
  let context: C | undefined;
  let metricsServer: Server | undefined;
  const app = createServiceServer(runtime);
  useOpenApi(app, declaration.api, base.authIssuer, { check: base.checkResponses === 'on', examplesFile: base.apiExamplesDir === undefined ? undefined : `${base.apiExamplesDir}/${declaration.name}.jsonl` });
  // Closing the app once, whoever asks first: stopServing during a graceful stop, or close after a
  // failed start (built, never listened).
  let appClosed: Promise<void> | undefined;
  const closeApp = () => (appClosed ??= app.close());
  const hosted: HostedService<C> = {
    name: declaration.name,
    kind: 'service',
    logger,
    app,
    runtime,
    get context(): C {
      if (context === undefined) throw new Error(`${declaration.name}: context read before it was built`);
      return context;
    },
    shutdownGraceMs: base.shutdownGraceMs,
    url: '',
    metricsUrl: '',
    async listen() {
      const address = await app.listen({ host: base.host, port: base.httpPort });
      hosted.url = loopbackUrl(address);
      metricsServer = await startMetricsServer(runtime.metrics, base.metricsPort, base.host);
      hosted.metricsUrl = metricsUrlOf(metricsServer, base.host);
      logger.info({ url: hosted.url, metrics: hosted.metricsUrl }, `${declaration.name} listening`);
    },
    startRelay: () => runtime.relay.start(),
    async settleJobs() {
      let worked = false;
      for (const job of declaration.jobs) if (job.settle !== undefined && await job.settle(hosted.context)) worked = true;
      return worked;
    },
    async stopServing() {
      // Fastify's close waits for in-flight requests; idle keep-alive sockets are closed.
      await closeApp();
      await closeServer(metricsServer);
    },
    async stopJobs() {
      await Promise.all(jobs.map((job) => job.stop()));
    },
    async flushOutbox() {
      await runtime.relay.stop(base.shutdownGraceMs);
    },
    async stopConsuming() {
      await closingStep(logger, 'subscriptions', () => Promise.all(subscriptions.map((s) => s.stop())));
      await closingStep(logger, 'revocations', () => runtime.revocations.stop());
      if (context !== undefined) await closingStep(logger, 'service resources', async () => declaration.stop?.(context!));
    },
    async closeTransport() {
      if (options.transport === undefined) await runtime.transport.close();
    },
    async closeDatabase() {
      await runtime.database.close();
    },
    close: () => shutDown([hosted]),
  };

  try {
    context = await declaration.context(runtime, config);
    const built = context;
    await declaration.routes(app, built);
    await app.ready();
    // Revocations are followed before any request is served: a revoked token is refused at once.
    await runtime.revocations.start(runtime.transport, (maxAccessTokenTtlSec + 60) * 1000, declaration.name);
    for (const entry of declaration.consumes(built)) {
      if ('replayMs' in entry) {
        subscriptions.push(await followBroadcast(runtime.transport, entry.contract, (event) => entry.hear(event), { follower: declaration.name, replayMs: entry.replayMs, logger, metrics: runtime.metrics }));
      } else {
        subscriptions.push(...await consumeEvents({ db: runtime.database.db, transport: runtime.transport, logger, metrics: runtime.metrics, consumer: declaration.name }, [entry]));
      }
    }
    await declaration.start?.(built);
    for (const job of declaration.jobs) {
      const everyMs = typeof job.everyMs === 'function' ? job.everyMs(built) : job.everyMs;
      // A job configured off (an interval of 0) does not run.
      if (everyMs <= 0) continue;
      jobs.push(every({ name: job.name, everyMs, run: () => job.run(built), logger, available: job.needsDatabase === false ? undefined : () => runtime.database.available, atStart: job.atStart }));
    }
    if (options.holdRelay !== true) runtime.relay.start();
  } catch (error) {
    await hosted.close();
    throw error;
  }
  return hosted;
}

/** Hosts an edge (the gateway): its server and a metrics server, no database, no events. */
export async function hostEdge<S extends ConfigSpec>(declaration: EdgeDeclaration<S>, options: { env?: Record<string, string | undefined>; logger?: Logger } = {}): Promise<Hosted> {
  const { config: loaded, warnings } = loadConfig(declaration.config, options.env ?? process.env);
  const config = loaded as ConfigOf<S> & EdgeConfig;
  const logger = options.logger ?? createLogger(declaration.name, config.logLevel);
  for (const warning of warnings) logger.warn({ insecureConfig: true }, warning);
  const metrics = createMetrics(declaration.name);
  const app = await declaration.server(config, logger, metrics);
  let metricsServer: Server | undefined;
  let appClosed: Promise<void> | undefined;
  const nothing = async () => {};
  const hosted: Hosted = {
    name: declaration.name,
    kind: 'edge',
    logger,
    app,
    // Nothing to flush: the drain, then the longest an in-flight proxied request may wait for its upstream.
    shutdownGraceMs: config.shutdownDrainMs + 30_000,
    url: '',
    metricsUrl: '',
    async listen() {
      hosted.url = loopbackUrl(await app.listen({ host: config.host, port: config.port }));
      metricsServer = await startMetricsServer(metrics, config.metricsPort, config.host);
      hosted.metricsUrl = metricsUrlOf(metricsServer, config.host);
      logger.info({ url: hosted.url, metrics: hosted.metricsUrl }, `${declaration.name} listening`);
    },
    async stopServing() {
      await (appClosed ??= app.close());
      await closeServer(metricsServer);
    },
    stopJobs: nothing,
    flushOutbox: nothing,
    stopConsuming: nothing,
    closeTransport: nothing,
    closeDatabase: nothing,
    close: () => shutDown([hosted]),
  };
  return hosted;
}

/** main.ts's whole job: host the declaration, listen, and shut down in order on SIGINT/SIGTERM. */
// `any`: a declaration's config spec is its own; the kit only reads the keys every spec has.
/** `tracing`: the process's tracing (tracing/start-tracing.ts), its last spans exported after the services stop. */
export async function runMain(declaration: ServiceDeclaration<any, any> | EdgeDeclaration<any>, options: { readonly tracing?: Tracing | undefined } = {}): Promise<void> {
  const logger = createLogger(declaration.name);
  const hosted = 'migrations' in declaration ? await hostService(declaration, { logger }) : await hostEdge(declaration);
  await hosted.listen();
  const stop = async () => {
    await hosted.close();
    await options.tracing?.shutdown();
  };
  // Twice the relay's flush time: the drain and the flush both fit, a stuck step does not.
  stopOnSignal({ stop, boundMs: 2 * hosted.shutdownGraceMs, logger: hosted.logger });
}

function loopbackUrl(address: string): string {
  return address.replace('0.0.0.0', '127.0.0.1').replace('[::]', '127.0.0.1');
}

function metricsUrlOf(server: Server, host: string): string {
  const port = (server.address() as { port: number }).port;
  return `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}/metrics`;
}

function closeServer(server: Server | undefined): Promise<void> {
  return new Promise<void>((resolve) => (server === undefined ? resolve() : server.close(() => resolve())));
}
