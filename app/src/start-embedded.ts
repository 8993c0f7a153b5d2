// Embedded mode: every service in this one process, each in its own schema and role of one PGlite
// cluster (or its own PostgreSQL database when given; docs/adr/0029-embedded-databases.md), the
// in-process event transport between them, and the gateway in front. Same code and same HTTP hops
// as the distributed mode.
import { resolve } from 'node:path';
import { authService } from '@paymesh/auth/service';
import { gatewayService } from '@paymesh/gateway/service';
import { notificationsService } from '@paymesh/notifications/service';
import { paymentsService } from '@paymesh/payments/service';
import { usersService } from '@paymesh/users/service';
import { openEmbeddedCluster, type EmbeddedCluster } from '@paymesh/platform/db/embedded-cluster';
import { varDir } from '@paymesh/platform/dev-secrets';
import { InProcessTransport } from '@paymesh/platform/events/in-process-transport';
import { createLogger } from '@paymesh/platform/logger';
import type { ContextOf } from '@paymesh/platform/service-declaration';
import { hostEdge, hostService, type Hosted, type HostedService } from '@paymesh/platform/service-host';
import type { Clock } from '@paymesh/platform/clock';
import { migrationSets } from '@paymesh/platform/runtime';
import { shutDown } from '@paymesh/platform/shut-down';
import { clusterDir, dataLayout, type DataLayout } from './data-layout.ts';
import { gatewayEnv, planPorts, runSecrets, serviceEnv, serviceNames, type PortPlan, type ServiceName } from './ports.ts';

export interface EmbeddedOptions {
  readonly env?: Record<string, string | undefined>;
  readonly ports?: 'default' | 'random';
  /** Parent of the PGlite folder(s) (data-layout.ts); `memory://` keeps everything in memory. */
  readonly dataRoot?: string;
  /** One PostgreSQL URL per service instead of PGlite (tests against the real server). */
  readonly databaseUrls?: Partial<Record<ServiceName, string>>;
  /** Where each service and the gateway log (at `logLevel`), instead of stdout at LOG_LEVEL: tests read their logs. */
  readonly logTo?: (service: ServiceName | 'gateway') => { write(line: string): void };
  /** The level with `logTo`; info unless given. */
  readonly logLevel?: string;
  /** The services' clock: the system's unless a test moves time itself (SkewedClock). */
  readonly clock?: Clock;
}

/** The declarations the platform is made of, by name. */
export const declarations = { auth: authService, users: usersService, payments: paymentsService, notifications: notificationsService } as const;

/** Each hosted service with its own context's type: `services.payments.context.ledger`. */
export type HostedServices = { readonly [N in ServiceName]: HostedService<ContextOf<(typeof declarations)[N]>> };

export interface EmbeddedPlatform {
  readonly gatewayUrl: string;
  readonly plan: PortPlan;
  readonly services: HostedServices;
  /** Where the PGlite data is: one cluster, or (a folder from before it, or PostgreSQL) one database per service. */
  readonly dataLayout: DataLayout;
  stop(): Promise<void>;
}

export async function startEmbedded(options: EmbeddedOptions = {}): Promise<EmbeddedPlatform> {
  const base = runSecrets(options.env ?? process.env);
  const plan = await planPorts(options.ports ?? 'default', base.PORT === undefined ? undefined : Number(base.PORT));
  const dataRoot = options.dataRoot ?? resolve(varDir, 'data');
  // PostgreSQL URLs keep one database per service; so does a data folder from before the cluster.
  const postgres = base.DATABASE_URL !== undefined || Object.keys(options.databaseUrls ?? {}).length > 0;
  const layout = postgres ? 'per-service' : dataLayout(dataRoot);
  const transport = new InProcessTransport();
  const hosted: Partial<Record<ServiceName, HostedService<unknown>>> = {};
  const units: Hosted[] = [];
  let cluster: EmbeddedCluster | undefined;
  // The services' databases close with them (no-ops on the cluster), then the cluster itself.
  const stop = async () => {
    try {
      await shutDown(units, transport);
    } finally {
      await cluster?.close();
    }
  };
  // A failed start closes whatever it opened: nothing may outlive it, or the process never ends.
  const fail = async (error: unknown) => {
    await stop();
    throw error;
  };
  try {
    if (layout === 'cluster') {
      const logger = options.logTo === undefined ? createLogger('platform', base.LOG_LEVEL ?? 'info') : createLogger('platform', options.logLevel ?? 'info', options.logTo('gateway'));
      cluster = await openEmbeddedCluster({
        dataDir: dataRoot === 'memory://' ? 'memory://' : clusterDir(dataRoot),
        services: Object.fromEntries(serviceNames.map((name) => [name, migrationSets(name, declarations[name].migrations)])),
        logger,
      });
    }
    // Started one after another: opening a service is CPU-bound (its own PGlite in the per-service
    // layout), so in parallel it is no faster.
    for (const name of serviceNames) {
      const env = serviceEnv(plan, name, {
        ...base,
        DATA_DIR: dataRoot === 'memory://' ? 'memory://' : resolve(dataRoot, name),
        DATABASE_URL: options.databaseUrls?.[name] ?? base.DATABASE_URL,
      });
      const logger = options.logTo === undefined ? undefined : createLogger(name, options.logLevel ?? 'info', options.logTo(name));
      const service = await hostService(declarations[name] as never, { env, transport, database: cluster?.database(name), holdRelay: true, logger, clock: options.clock }) as HostedService<unknown>;
      hosted[name] = service;
      units.push(service);
      await service.listen();
    }
    // Every consumer is subscribed now; events may flow.
    for (const name of serviceNames) hosted[name]!.startRelay();
  } catch (error) {
    return fail(error);
  }

  let gateway: Hosted;
  try {
    const logger = options.logTo === undefined ? undefined : createLogger('gateway', options.logLevel ?? 'info', options.logTo('gateway'));
    gateway = await hostEdge(gatewayService, { env: gatewayEnv(plan, base), logger });
    // The gateway stops serving first (shut-down.ts): in-flight requests finish through it.
    units.unshift(gateway);
    await gateway.listen();
  } catch (error) {
    return fail(error);
  }

  return {
    // The port actually bound (PORT=0 asks for any free one).
    gatewayUrl: gateway.url,
    plan,
    services: hosted as HostedServices,
    dataLayout: layout,
    // Outside in, in the one order (shut-down.ts): the gateway and the services stop taking
    // requests, jobs stop, every outbox flushes while all consumers are still there, then
    // subscriptions, the shared transport and the databases close; the cluster last.
    stop,
  };
}
