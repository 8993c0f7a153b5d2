// What a service needs around its routes, opened from the shared configuration: logger, metrics,
// its own database (migrated), the event transport, the outbox relay, the revocation list and the
// token verifier. main.ts opens it; app.ts receives it; tests open it against PGlite or PostgreSQL.
import { resolve } from 'node:path';
import type { ConfigOf } from './config.ts';
import { createHttpServer, type HttpServer } from './http-server.ts';
import { openDatabase, type Database } from './db/open-database.ts';
import type { EventTransport } from './events/event.ts';
import { NatsTransport } from './events/nats-transport.ts';
import { OutboxRelay } from './events/outbox-relay.ts';
import { isDatabaseUnavailable } from './db/database-unavailable.ts';
import { waitForDependency } from './wait-for-dependency.ts';
import { createLogger, type Logger } from './logger.ts';
import { closingStep } from './closing-step.ts';
import { createMetrics, type Metrics } from './metrics.ts';
import { RevocationList } from './auth/revocation-list.ts';
import { createTokenVerifier, type TokenVerifier, type TrustedIssuer } from './auth/token-verifier.ts';
import { platformWideAudience, type serviceConfigSpec } from './service-config.ts';

export type ServiceConfig = ConfigOf<ReturnType<typeof serviceConfigSpec>>;

/** Longest access-token lifetime anywhere; revocations older than this can be forgotten. */
export const maxAccessTokenTtlSec = 15 * 60;

export interface Runtime {
  readonly service: string;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly database: Database;
  readonly transport: EventTransport;
  readonly relay: OutboxRelay;
  readonly revocations: RevocationList;
  readonly verify: TokenVerifier;
  /** TRUSTED_PROXIES: the peers whose X-Forwarded-* headers the HTTP server believes. */
  readonly trustedProxies: readonly string[];
  /** How long the HTTP server drains on close (SHUTDOWN_DRAIN_MS). */
  readonly drainMs: number;
}

export interface OpenRuntimeOptions {
  readonly service: string;
  readonly config: ServiceConfig;
  readonly migrationsDir: string;
  /** Embedded mode passes the shared in-process transport; otherwise NATS is opened from config. */
  readonly transport?: EventTransport;
  readonly logger?: Logger;
}

const platformMigrations = resolve(import.meta.dirname, '../migrations');

export async function openRuntime(options: OpenRuntimeOptions): Promise<Runtime> {
  const { service, config } = options;
  const logger = options.logger ?? createLogger(service);
  const metrics = createMetrics(service);
  const deadline = Date.now() + config.startupDependencyTimeoutSec * 1000;
  const database = await waitForDependency('database', () => openDatabase({
    url: config.databaseUrl,
    dataDir: config.dataDir,
    migrations: [{ scope: 'platform', dir: platformMigrations }, { scope: service, dir: options.migrationsDir }],
    logger,
  }), { logger, deadline, retryable: isDatabaseUnavailable });
  let transport = options.transport;
  if (transport === undefined) {
    const natsUrl = config.natsUrl;
    if (natsUrl === undefined) throw new Error('NATS_URL is required when the service runs on its own (the in-process transport only exists in embedded mode)');
    try {
      // Any failure to connect may be a broker still starting; the deadline bounds the wait.
      transport = await waitForDependency('events', () => NatsTransport.connect({ url: natsUrl, stream: config.natsStream, connectionName: service, logger }), { logger, deadline, retryable: () => true });
    } catch (error) {
      await database.close();
      throw error;
    }
  }
  const relay = new OutboxRelay({ db: database.db, transport, logger, databaseAvailable: () => database.available });
  const revocations = new RevocationList(database.db, logger, metrics);
  // Our own tokens: for this service, or first-party tokens for the whole platform.
  const issuers: TrustedIssuer[] = [{ issuer: config.authIssuer, jwksUrl: `${config.authUrl}/auth/jwks`, audience: [config.authAudience, platformWideAudience], ownIssuer: true }];
  if ((config.externalIssuer === undefined) !== (config.externalJwksUrl === undefined)) {
    throw new Error('EXTERNAL_ISSUER and EXTERNAL_JWKS_URL go together: set both or neither');
  }
  if (config.externalIssuer !== undefined && config.externalJwksUrl !== undefined) {
    issuers.push({ issuer: config.externalIssuer, jwksUrl: config.externalJwksUrl, audience: config.externalAudience ?? config.authAudience, ownIssuer: false });
  }
  const verify = createTokenVerifier({ issuers, revocations, jwksCooldownMs: config.jwksCooldownSec * 1000 });
  return { service, logger, metrics, database, transport, relay, revocations, verify, trustedProxies: config.trustedProxies, drainMs: config.shutdownDrainMs };
}

/** The service's HTTP server, ready when its database and its event transport answer. */
export function createServiceServer(runtime: Runtime): HttpServer {
  return createHttpServer({
    logger: runtime.logger,
    metrics: runtime.metrics,
    drainMs: runtime.drainMs,
    readiness: [{ name: 'database', check: runtime.database.ping }, { name: 'events', check: () => runtime.transport.ping() }],
    trustedProxies: runtime.trustedProxies,
  });
}

/** Starts following revocations. The relay is started separately (see hostService's `holdRelay`). */
export async function startRuntime(runtime: Runtime): Promise<void> {
  await runtime.revocations.start(runtime.transport, (maxAccessTokenTtlSec + 60) * 1000);
}

/** Stops in the order that loses nothing: relay flushes the outbox, then transport and database close. */
export async function closeRuntime(runtime: Runtime, options: { closeTransport: boolean; flushMs?: number }): Promise<void> {
  // Each step is attempted whatever the previous one met (see closingStep).
  const { logger } = runtime;
  await closingStep(logger, 'revocations', () => runtime.revocations.stop());
  await closingStep(logger, 'outbox relay', () => runtime.relay.stop(options.flushMs ?? 5_000));
  if (options.closeTransport) await closingStep(logger, 'event transport', () => runtime.transport.close());
  await closingStep(logger, 'database', () => runtime.database.close());
}
