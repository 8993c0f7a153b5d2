// The one order of shutdown, for one process or a whole embedded platform: stop serving (edges
// first, then the services behind them) → stop jobs → flush every outbox → stop subscriptions and
// release the services' resources → close transports → close databases. Each step runs for every
// unit before the next begins, so the relays flush while every consumer is still subscribed (the
// in-process transport delivers only to live subscriptions) and no database closes under a
// request, a job or a handler. A step that fails is logged and the rest still runs (closingStep).
import { closingStep } from './closing-step.ts';
import type { EventTransport } from './events/event.ts';
import type { HttpServer } from './http-server.ts';
import type { Logger } from './logger.ts';

/**
 * What the kit hosts (service-host.ts), seen by the shutdown: each step below runs for every
 * hosted unit before the next step. A step a unit has nothing for resolves at once.
 */
export interface Hosted {
  readonly name: string;
  /** Edges (the gateway) stop serving before the services behind them. */
  readonly kind: 'service' | 'edge';
  readonly logger: Logger;
  readonly app: HttpServer;
  /** How long the whole shutdown may take, doubled, before the process exits anyway (runMain). */
  readonly shutdownGraceMs: number;
  /** Base URL the API listens on (after `listen`). */
  url: string;
  metricsUrl: string;
  listen(): Promise<void>;
  /** 1. Stops taking requests and lets in-flight ones finish (new ones meanwhile get 503 shutting_down); the metrics server closes. */
  stopServing(): Promise<void>;
  /** 2. Stops the periodic jobs, waiting for the passes under way. */
  stopJobs(): Promise<void>;
  /** 3. Publishes what the outbox holds, within SHUTDOWN_GRACE_MS (consumers are still subscribed). */
  flushOutbox(): Promise<void>;
  /** 4. Ends the subscriptions, then releases the service's own resources (its `stop`). */
  stopConsuming(): Promise<void>;
  /** 5. Closes the event transport when this unit opened it (a shared one is the launcher's). */
  closeTransport(): Promise<void>;
  /** 6. Closes the database. */
  closeDatabase(): Promise<void>;
  /** Every step, for this unit alone (a single process, or a failed start). */
  close(): Promise<void>;
}

type Step = 'stopJobs' | 'flushOutbox' | 'stopConsuming' | 'closeTransport' | 'closeDatabase';
const steps: readonly Step[] = ['stopJobs', 'flushOutbox', 'stopConsuming', 'closeTransport', 'closeDatabase'];

const once = new WeakMap<Hosted, Promise<void>>();

/**
 * Shuts the units down together. `sharedTransport` (embedded mode's in-process transport) closes
 * after every unit's own. A unit already shut down (or shutting down) is not shut down twice.
 */
export async function shutDown(units: readonly Hosted[], sharedTransport?: EventTransport): Promise<void> {
  const fresh = units.filter((unit) => !once.has(unit));
  const done = run(fresh, sharedTransport);
  for (const unit of fresh) once.set(unit, done);
  await Promise.all([done, ...units.filter((unit) => !fresh.includes(unit)).map((unit) => once.get(unit))]);
}

async function run(units: readonly Hosted[], sharedTransport: EventTransport | undefined): Promise<void> {
  const stopServing = (tier: readonly Hosted[]) => Promise.all(tier.map((unit) => closingStep(unit.logger, 'http server', () => unit.stopServing())));
  await stopServing(units.filter((unit) => unit.kind === 'edge'));
  await stopServing(units.filter((unit) => unit.kind === 'service'));
  for (const step of steps) {
    if (step === 'closeDatabase' && sharedTransport !== undefined && units.length > 0) {
      await closingStep(units[0]!.logger, 'event transport', () => sharedTransport.close());
    }
    // One unit after another: the relays of an embedded platform flush in turn, as they did.
    for (const unit of units) await closingStep(unit.logger, stepNames[step], () => unit[step]());
  }
}

const stepNames: Record<Step, string> = {
  stopJobs: 'jobs',
  flushOutbox: 'outbox relay',
  stopConsuming: 'subscriptions',
  closeTransport: 'event transport',
  closeDatabase: 'database',
};
