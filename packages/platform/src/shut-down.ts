// The one order of shutdown, for one process or a whole embedded platform: stop serving (edges
// first, then the services behind them) → stop jobs → flush every outbox → stop subscriptions and
// release the services' resources → close transports → close databases. Each step runs for every
// unit before the next begins, so the relays flush while every consumer is still subscribed (the
// in-process transport delivers only to live subscriptions) and no database closes under a
// request, a job or a handler. A step that fails is logged and the rest still runs (closingStep).
import { closingStep } from './closing-step.ts';
import type { EventTransport } from './events/event.ts';
import type { Hosted } from './service-host.ts';

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
