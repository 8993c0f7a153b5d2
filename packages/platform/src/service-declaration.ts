// What a service is, as data: its config, migrations, the objects it builds (`context`), the
// routes it serves, the events it publishes and consumes and the work it runs on a schedule. Each
// service's src/service.ts declares one; the kit (service-host.ts) runs it: servers, the runtime,
// subscriptions, timers, relay kicks and the ordered shutdown. The gateway, which has no database
// and no events, declares an edge: a config, its server and routes.
import type { ConfigOf, ConfigSpec } from './config.ts';
import type { EventConsumer } from './events/consume.ts';
import type { EventContract } from './events/define-event.ts';
import type { EventBroadcast } from './events/follow-broadcast.ts';
import type { HttpServer } from './http-server.ts';
import type { Logger } from './logger.ts';
import type { Metrics } from './metrics.ts';
import type { ApiDescription } from './openapi/use-open-api.ts';
import type { Runtime } from './runtime.ts';
import type { serviceConfigSpec } from './service-config.ts';

export type BaseSpec = ReturnType<typeof serviceConfigSpec>;

/**
 * What a service consumes, built from its context: each entry an `EventConsumer` (consume.ts: once
 * per event whatever the redeliveries, in the transaction that records the event id; the durable
 * consumer is named after the service and its replicas share the events) or an `EventBroadcast`
 * (follow-broadcast.ts: every replica hears every event, to refresh what it holds in memory).
 * Either checks each event against the producer's contract and dead-letters what it does not admit.
 */
export type Consumes<C> = (context: C) => readonly (EventConsumer | EventBroadcast)[];

/** Periodic work: run every `everyMs` (0 or less: not at all), one pass at a time (see every.ts). */
export interface Job<C> {
  readonly name: string;
  readonly everyMs: number | ((context: C) => number);
  readonly run: (context: C) => Promise<void>;
  /** Also a pass as the service starts, not only after the first interval. */
  readonly atStart?: boolean;
  /** False for work that runs while the database is away (a keep-alive); otherwise its ticks wait for it. */
  readonly needsDatabase?: boolean;
  /**
   * For a queue that requests fill (deliveries, reset requests): works off what is due now, to
   * the end of every attempt it starts, and tells whether anything was there. Tests' `settle()`
   * runs it until nothing is left, so what they assert did not happen has had its chance to.
   */
  readonly settle?: (context: C) => Promise<boolean>;
}

export interface ServiceDeclaration<S extends BaseSpec = BaseSpec, C = unknown> {
  readonly name: string;
  readonly config: S;
  /** This service's SQL migrations folder (the platform's own run first). */
  readonly migrations: string;
  /** Builds the service's objects (stores, clients, workers): what routes, consumers and jobs use. */
  readonly context: (runtime: Runtime, config: ConfigOf<S>) => Promise<C>;
  /** What its OpenAPI document (GET /openapi.json) says beyond the routes' schemas: openapi/use-open-api.ts. */
  readonly api: ApiDescription;
  /** Registers the route plugins on the kit's HTTP server (health, readiness, errors are the kit's). */
  readonly routes: (app: HttpServer, context: C) => Promise<void> | void;
  /** The contracts (its own src/events.ts) this service enqueues: enqueueing any other throws. */
  readonly publishes: readonly EventContract[];
  readonly consumes: Consumes<C>;
  readonly jobs: readonly Job<C>[];
  /** Once subscribed, before the relay runs: bootstrap data, backfills. */
  readonly start?: (context: C) => Promise<void>;
  /** Releases what `context` opened (pools, workers), after subscriptions stopped and the relay flushed. */
  readonly stop?: (context: C) => Promise<void>;
}

export function defineService<S extends BaseSpec, C>(declaration: ServiceDeclaration<S, C>): ServiceDeclaration<S, C> {
  return declaration;
}

/** The keys an edge's config must have for the kit to serve it. */
export interface EdgeConfig {
  readonly host: string;
  readonly port: number;
  readonly metricsPort: number;
  readonly logLevel: string;
  readonly shutdownDrainMs: number;
}

/** A service without database or events (the gateway): a server and its routes. */
export interface EdgeDeclaration<S extends ConfigSpec = ConfigSpec> {
  readonly name: string;
  readonly config: S;
  /** Builds the HTTP server, routes included. */
  readonly server: (config: ConfigOf<S> & EdgeConfig, logger: Logger, metrics: Metrics) => Promise<HttpServer>;
}

export function defineEdge<S extends ConfigSpec>(declaration: EdgeDeclaration<S>): EdgeDeclaration<S> {
  return declaration;
}

export type ContextOf<D> = D extends ServiceDeclaration<BaseSpec, infer C> ? C : D extends ServiceDeclaration<any, infer C> ? C : never;
