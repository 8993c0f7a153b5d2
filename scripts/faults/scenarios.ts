// The fault scenarios: what each one does to the running platform, in the middle of its load.
// Each answers when the fault is over (the dependency is back), the moment from which a
// notification counts as late.
import type { ServiceName } from '@paymesh/app/ports';
import type { NatsServer } from '@paymesh/app/nats-server';
import type { PostgresCluster } from './postgres-cluster.ts';

export interface FaultContext {
  readonly postgres: PostgresCluster;
  readonly nats: NatsServer;
  /** Sends a signal to one service's process, noting that its exit is the fault's, not a failure. */
  signal(name: ServiceName, signal: 'SIGKILL' | 'SIGTERM'): void;
  /** Waits until the supervisor has the service running and ready again. */
  running(name: ServiceName): Promise<void>;
}

export interface DistributedScenario {
  readonly name: string;
  readonly does: string;
  inject(ctx: FaultContext): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
// How long a stopped broker stays away: long enough for every relay and consumer to notice.
const natsOutageMs = 5_000;

export const distributedScenarios: readonly DistributedScenario[] = [
  // The yardstick: the same load and audit with nothing broken (the delays a fault adds show beside it).
  { name: 'no-fault', does: 'nothing: the same load, to compare the others with', inject: async () => {} },
  { name: 'postgres-fast-restart', does: '`pg_ctl restart -m fast`: PostgreSQL ends every session and restarts', inject: (ctx) => ctx.postgres.restart('fast') },
  { name: 'postgres-immediate-restart', does: '`pg_ctl restart -m immediate`: PostgreSQL crashes (no shutdown checkpoint) and recovers', inject: (ctx) => ctx.postgres.restart('immediate') },
  {
    name: 'kill-9-payments', does: 'SIGKILL of the payments process; the supervisor starts it again',
    inject: async (ctx) => {
      ctx.signal('payments', 'SIGKILL');
      await ctx.running('payments');
    },
  },
  {
    name: 'kill-9-notifications', does: 'SIGKILL of the notifications process; the supervisor starts it again',
    inject: async (ctx) => {
      ctx.signal('notifications', 'SIGKILL');
      await ctx.running('notifications');
    },
  },
  {
    name: 'nats-stop-start', does: `NATS stopped cleanly (SIGTERM), started again ${natsOutageMs / 1000} s later on the same store`,
    inject: async (ctx) => {
      await ctx.nats.stop('SIGTERM');
      await sleep(natsOutageMs);
      await ctx.nats.start();
    },
  },
  {
    name: 'nats-kill-9', does: `NATS killed (SIGKILL), started again ${natsOutageMs / 1000} s later on the same store`,
    inject: async (ctx) => {
      await ctx.nats.stop('SIGKILL');
      await sleep(natsOutageMs);
      await ctx.nats.start();
    },
  },
  {
    name: 'sigterm-payments', does: 'SIGTERM of the payments process under load: it must drain and exit 0; the supervisor starts it again',
    inject: async (ctx) => {
      ctx.signal('payments', 'SIGTERM');
      await ctx.running('payments');
    },
  },
];

export const embeddedScenario = {
  name: 'embedded-kill-9',
  does: 'embedded mode: SIGKILL of the whole `npm start` process (node scripts/start.ts), started again on the same PGlite data',
} as const;

/** `--short`: the scenarios CI runs (a database restart, a crashed service, a crashed broker). */
export const shortScenarioNames = ['postgres-fast-restart', 'kill-9-payments', 'nats-kill-9'] as const;
