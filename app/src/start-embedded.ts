// Embedded mode: every service in this one process, each with its own PGlite database (or its
// own PostgreSQL database when given), the in-process event transport between them, and the
// gateway in front. Same code and same HTTP hops as the distributed mode.
import { resolve } from 'node:path';
import type { Server } from 'node:http';
import { authService } from '@paymesh/auth/app';
import { buildGateway } from '@paymesh/gateway/app';
import { gatewayConfigSpec } from '@paymesh/gateway/config';
import { notificationsService } from '@paymesh/notifications/app';
import { paymentsService } from '@paymesh/payments/app';
import { usersService } from '@paymesh/users/app';
import { loadConfig } from '@paymesh/platform/config';
import { varDir } from '@paymesh/platform/dev-secrets';
import { InProcessTransport } from '@paymesh/platform/events/in-process-transport';
import type { HttpServer } from '@paymesh/platform/http-server';
import { createLogger } from '@paymesh/platform/logger';
import { createMetrics, startMetricsServer } from '@paymesh/platform/metrics';
import { hostService, type HostedService } from '@paymesh/platform/service-host';
import { gatewayEnv, planPorts, runSecrets, serviceEnv, serviceNames, type PortPlan, type ServiceName } from './ports.ts';

export interface EmbeddedOptions {
  readonly env?: Record<string, string | undefined>;
  readonly ports?: 'default' | 'random';
  /** Parent of the PGlite folders; `memory://` keeps everything in memory. */
  readonly dataRoot?: string;
  /** One PostgreSQL URL per service instead of PGlite (tests against the real server). */
  readonly databaseUrls?: Partial<Record<ServiceName, string>>;
  /** Where each service and the gateway log (at `logLevel`), instead of stdout at LOG_LEVEL: tests read their logs. */
  readonly logTo?: (service: ServiceName | 'gateway') => { write(line: string): void };
  /** The level with `logTo`; info unless given. */
  readonly logLevel?: string;
}

export interface EmbeddedPlatform {
  readonly gatewayUrl: string;
  readonly plan: PortPlan;
  readonly services: Record<ServiceName, HostedService>;
  stop(): Promise<void>;
}

const definitions = { auth: authService, users: usersService, payments: paymentsService, notifications: notificationsService } as const;

export async function startEmbedded(options: EmbeddedOptions = {}): Promise<EmbeddedPlatform> {
  const base = runSecrets(options.env ?? process.env);
  const plan = await planPorts(options.ports ?? 'default', base.PORT === undefined ? undefined : Number(base.PORT));
  const dataRoot = options.dataRoot ?? resolve(varDir, 'data');
  const transport = new InProcessTransport();
  const hosted = {} as Record<ServiceName, HostedService>;
  let gateway: HttpServer | undefined;
  try {
    // Started one after another: PGlite's start-up is CPU-bound, so in parallel it is no faster.
    for (const name of serviceNames) {
      const env = serviceEnv(plan, name, {
        ...base,
        DATA_DIR: dataRoot === 'memory://' ? 'memory://' : resolve(dataRoot, name),
        DATABASE_URL: options.databaseUrls?.[name] ?? base.DATABASE_URL,
      });
      const logger = options.logTo === undefined ? undefined : createLogger(name, options.logLevel ?? 'info', options.logTo(name));
      hosted[name] = await hostService(definitions[name] as never, { env, transport, holdRelay: true, logger }) as HostedService;
      await hosted[name].listen();
    }
    // Every consumer is subscribed now; events may flow.
    for (const name of serviceNames) hosted[name].runtime.relay.start();
  } catch (error) {
    await closeHosted(hosted);
    throw error;
  }

  const { config } = loadConfig(gatewayConfigSpec, gatewayEnv(plan, base));
  const logger = options.logTo === undefined ? createLogger('gateway', config.logLevel) : createLogger('gateway', options.logLevel ?? 'info', options.logTo('gateway'));
  const metrics = createMetrics('gateway');
  let gatewayMetrics: Server;
  try {
    gateway = await buildGateway(config, logger, metrics);
    await gateway.listen({ host: config.host, port: config.port });
    gatewayMetrics = await startMetricsServer(metrics.registry, config.metricsPort, config.host);
  } catch (error) {
    // A port taken meanwhile (or anything else): nothing started may outlive the failed start,
    // or the process never ends.
    await gateway?.close().catch(() => {});
    await closeHosted(hosted);
    throw error;
  }
  const listening: HttpServer = gateway;

  return {
    // The port actually bound (PORT=0 asks for any free one).
    gatewayUrl: `http://127.0.0.1:${(listening.server.address() as { port: number }).port}`,
    plan,
    services: hosted,
    async stop() {
      // Outside in: stop taking requests, let in-flight ones finish, flush every outbox while all
      // consumers are still there, then close the databases.
      await listening.close();
      gatewayMetrics.close();
      await Promise.all(serviceNames.map((name) => hosted[name].stopServing()));
      for (const name of serviceNames) await hosted[name].runtime.relay.stop();
      for (const name of serviceNames) await hosted[name].close({ closeTransport: false });
      await transport.close();
    },
  };
}

async function closeHosted(hosted: Partial<Record<ServiceName, HostedService>>): Promise<void> {
  for (const service of Object.values(hosted)) await service?.close({ closeTransport: false }).catch(() => {});
}
