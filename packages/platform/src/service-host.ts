// Runs one service: config checked, runtime opened, app built, background started, servers
// listening; and the reverse on shutdown. main.ts, the embedded launcher and the tests all host
// services through this, so every mode starts them the same way.
import type { Server } from 'node:http';
import { loadConfig, type ConfigOf } from './config.ts';
import type { EventTransport } from './events/event.ts';
import type { HttpServer } from './http-server.ts';
import { createLogger, type Logger } from './logger.ts';
import { startMetricsServer } from './metrics.ts';
import { closingStep } from './closing-step.ts';
import { closeRuntime, openRuntime, startRuntime, type Runtime, type ServiceConfig } from './runtime.ts';
import type { serviceConfigSpec } from './service-config.ts';

type BaseSpec = ReturnType<typeof serviceConfigSpec>;

export interface ServiceDefinition<S extends BaseSpec, Extra = unknown> {
  readonly name: string;
  readonly configSpec: S;
  readonly migrationsDir: string;
  /** Builds the Fastify app; whatever else the service keeps (clients, timers) goes in `extra`. */
  readonly build: (runtime: Runtime, config: ConfigOf<S>) => Promise<{ app: HttpServer; extra: Extra; close?: () => Promise<void> }>;
  /** Runs once the app is built and the runtime started (bootstrap data, subscriptions). */
  readonly onStart?: (runtime: Runtime, config: ConfigOf<S>, extra: Extra) => Promise<void>;
}

export interface HostedService<Extra = unknown> {
  readonly name: string;
  readonly runtime: Runtime;
  readonly app: HttpServer;
  readonly extra: Extra;
  readonly shutdownGraceMs: number;
  /** Base URL the API listens on (after `listen`). */
  url: string;
  metricsUrl: string;
  listen(): Promise<void>;
  /** Stops taking requests and lets in-flight ones finish. */
  stopServing(): Promise<void>;
  /** Flushes the outbox and closes everything. */
  close(options?: { closeTransport?: boolean }): Promise<void>;
}

export function defineService<S extends BaseSpec, Extra>(definition: ServiceDefinition<S, Extra>): ServiceDefinition<S, Extra> {
  return definition;
}

export async function hostService<S extends BaseSpec, Extra>(
  definition: ServiceDefinition<S, Extra>,
  options: {
    env?: Record<string, string | undefined>;
    transport?: EventTransport;
    logger?: Logger;
    /**
     * Leave the outbox relay stopped (start it with `runtime.relay.start()`). The embedded launcher
     * starts relays only once every service has subscribed: the in-process transport keeps no
     * events for consumers that do not exist yet.
     */
    holdRelay?: boolean;
  } = {},
): Promise<HostedService<Extra>> {
  const { config, warnings } = loadConfig(definition.configSpec, options.env ?? process.env);
  // The shared keys, seen through their own type (TypeScript cannot resolve them through S).
  const base = config as unknown as ServiceConfig;
  const logger = options.logger ?? createLogger(definition.name, base.logLevel);
  for (const warning of warnings) logger.warn({ insecureConfig: true }, warning);
  const runtime = await openRuntime({ service: definition.name, config: base, migrationsDir: definition.migrationsDir, transport: options.transport, logger });
  const { app, extra, close: closeExtra } = await definition.build(runtime, config);
  await app.ready();
  await startRuntime(runtime);
  await definition.onStart?.(runtime, config, extra);
  if (options.holdRelay !== true) runtime.relay.start();
  let metricsServer: Server | undefined;
  // Closing the app once, whoever asks first: stopServing during a graceful stop, or close after a
  // failed start (built, never listened).
  let appClosed: Promise<void> | undefined;
  const closeApp = () => (appClosed ??= app.close());

  const hosted: HostedService<Extra> = {
    name: definition.name,
    runtime,
    app,
    extra,
    shutdownGraceMs: base.shutdownGraceMs,
    url: '',
    metricsUrl: '',
    async listen() {
      const address = await app.listen({ host: base.host, port: base.httpPort });
      hosted.url = address.replace('0.0.0.0', '127.0.0.1').replace('[::]', '127.0.0.1');
      metricsServer = await startMetricsServer(runtime.metrics.registry, base.metricsPort, base.host);
      const port = (metricsServer.address() as { port: number }).port;
      hosted.metricsUrl = `http://${base.host === '0.0.0.0' ? '127.0.0.1' : base.host}:${port}/metrics`;
      logger.info({ url: hosted.url, metrics: hosted.metricsUrl }, `${definition.name} listening`);
    },
    async stopServing() {
      // Fastify's close waits for in-flight requests; idle keep-alive sockets are closed.
      await closeApp();
    },
    async close(closeOptions = {}) {
      // Each step runs whatever the one before met (a database or broker gone at the same moment):
      // an error is logged and the rest still closes.
      await closingStep(logger, 'http server', closeApp);
      await closingStep(logger, 'service resources', async () => closeExtra?.());
      await new Promise<void>((resolve) => (metricsServer === undefined ? resolve() : metricsServer.close(() => resolve())));
      await closeRuntime(runtime, { closeTransport: closeOptions.closeTransport ?? options.transport === undefined, flushMs: base.shutdownGraceMs });
    },
  };
  return hosted;
}

/** main.ts's whole job: host the service, listen, and shut down gracefully on SIGINT/SIGTERM. */
export async function runMain<S extends BaseSpec, Extra>(definition: ServiceDefinition<S, Extra>): Promise<void> {
  const logger = createLogger(definition.name);
  const hosted = await hostService(definition, { logger });
  await hosted.listen();
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    // The drain is bounded: a stuck close (a request that never ends, a broker that never
    // answers) must not keep the pod from terminating. A signalled stop is an orderly stop, so
    // the exit status is 0 whatever the drain met; what went wrong is in the log.
    const graceMs = hosted.shutdownGraceMs;
    setTimeout(() => {
      logger.error({ graceMs }, 'shutdown drain took too long; exiting');
      process.exit(0);
    }, 2 * graceMs).unref();
    hosted.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'error while shutting down; exiting');
        process.exit(0);
      },
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}
