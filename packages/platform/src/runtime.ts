// What a service needs around its routes, opened from the shared configuration: logger, metrics,
// its own database (migrated), the event transport, the outbox relay, the revocation list and the
// token verifier. Its database's `db.transaction` kicks the relay once it commits what enqueued
// events, so no route or store kicks it by hand, and then runs what `afterCommit` queued in it.
// The kit opens it (service-host.ts) and hands it to the service's `context`.
import { resolve } from 'node:path';
import type { ConfigOf } from './config.ts';
import { createHttpServer, type HttpServer } from './http-server.ts';
import { openDatabase, type Database, type Db } from './db/open-database.ts';
import type { EventTransport } from './events/event.ts';
import { NatsTransport } from './events/nats-transport.ts';
import { OutboxRelay } from './events/outbox-relay.ts';
import { registerOutboxMetrics } from './events/outbox-metrics.ts';
import { registerConnectionMetrics } from './db/connection-metrics.ts';
import { recordingEnqueues, type OutboxWrites } from './events/outbox-scope.ts';
import { isDatabaseUnavailable } from './db/database-unavailable.ts';
import { waitForDependency } from './wait-for-dependency.ts';
import { createLogger, type Logger } from './logger.ts';
import { createMetrics, type Metrics } from './metrics.ts';
import { RevocationList } from './auth/revocation-list.ts';
import { systemClock, type Clock } from './clock.ts';
import { createTokenVerifier, type TokenVerifier, type TrustedIssuer } from './auth/token-verifier.ts';
import { platformWideAudience, type serviceConfigSpec } from './service-config.ts';
import { inChildSpan, SpanKind } from './tracing/trace-context.ts';

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
  /** The time the service computes with (token expiry, stream ends, lockouts): clock.ts. */
  readonly clock: Clock;
}

export interface OpenRuntimeOptions {
  readonly service: string;
  readonly config: ServiceConfig;
  readonly migrationsDir: string;
  /** Embedded mode passes the shared in-process transport; otherwise NATS is opened from config. */
  readonly transport?: EventTransport;
  /**
   * Embedded mode passes the service's schema of the one PGlite cluster, already migrated
   * (embedded-cluster.ts); otherwise DATABASE_URL or DATA_DIR is opened and migrated here.
   */
  readonly database?: Database;
  readonly logger?: Logger;
  /** The subjects the service declares it publishes: enqueueing any other throws. */
  readonly publishes?: readonly string[];
  /** The system's clock unless a test moves time itself (testing/skewed-clock.ts). */
  readonly clock?: Clock;
}

const platformMigrations = resolve(import.meta.dirname, '../migrations');

/** A service's migration folders, applied in this order: the platform's (outbox, inbox), then its own. */
export const migrationSets = (service: string, migrationsDir: string) => [{ scope: 'platform', dir: platformMigrations }, { scope: service, dir: migrationsDir }];

export async function openRuntime(options: OpenRuntimeOptions): Promise<Runtime> {
  const { service, config } = options;
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? createLogger(service);
  const metrics = createMetrics(service);
  const deadline = Date.now() + config.startupDependencyTimeoutSec * 1000;
  const opened = options.database ?? await waitForDependency('database', () => openDatabase({
    url: config.databaseUrl,
    dataDir: config.dataDir,
    migrations: migrationSets(service, options.migrationsDir),
    logger,
    preparedStatements: config.databasePreparedStatements,
  }), { logger, deadline, retryable: isDatabaseUnavailable });
  // The relay is built on `database` below; its kick is looked up when a transaction commits.
  const database = kickingRelayAfterCommit(opened, () => relay.kick(), { service, publishes: options.publishes === undefined ? undefined : new Set(options.publishes) }, logger);
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
  registerOutboxMetrics(metrics.registry, () => (database.available ? database.db : undefined));
  registerConnectionMetrics(metrics.registry, database);
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
  const verify = createTokenVerifier({ issuers, revocations, jwksCooldownMs: config.jwksCooldownSec * 1000, onJwksFetch: (outcome) => metrics.jwksRefreshes.inc({ outcome }), now: () => clock.now() });
  return { service, logger, metrics, database, transport, relay, revocations, verify, trustedProxies: config.trustedProxies, drainMs: config.shutdownDrainMs, clock };
}

/**
 * The same database, whose `db.transaction` kicks the relay after a commit that enqueued events
 * (outbox-scope.ts): the event goes out at once instead of at the relay's next poll, and nobody
 * has to remember to ask; then it runs the effects `afterCommit` queued. Everything else is the opened database's own (read through the prototype,
 * so `available` stays live).
 */
function kickingRelayAfterCommit(opened: Database, kick: () => void, declared: Pick<OutboxWrites, 'service' | 'publishes'>, logger: Logger): Database {
  const db = Object.create(opened.db) as Db;
  const transaction: Db['transaction'] = async (work, config) => {
    // The scope is entered inside the driver's callback, however the driver schedules it.
    const writes: OutboxWrites = { ...declared, enqueued: false, committed: [] };
    // A span per transaction inside a traced request or event: PGlite has no instrumentation, so
    // on it this is how a trace shows the database work (on PostgreSQL the pg spans nest in it).
    const value = await inChildSpan('transaction', SpanKind.CLIENT, { 'db.system.name': opened.kind === 'pglite' ? 'pglite' : 'postgresql', 'paymesh.service': declared.service },
      () => opened.db.transaction((tx) => recordingEnqueues(writes, () => work(tx)), config));
    if (writes.enqueued) kick();
    // The transaction has committed: an effect that throws must not make it look as if it had not
    // (its caller would undo or retry what is done). Logged, and the next effects still run.
    for (const effect of writes.committed) {
      try {
        effect();
      } catch (error) {
        logger.error({ err: error }, 'an effect after a commit failed');
      }
    }
    return value;
  };
  Object.defineProperty(db, 'transaction', { value: transaction });
  const database = Object.create(opened) as Database;
  Object.defineProperty(database, 'db', { value: db });
  return database;
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
