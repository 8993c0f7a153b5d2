import { loadConfig } from '@paymesh/platform/config';
import { createLogger } from '@paymesh/platform/logger';
import { createMetrics, startMetricsServer } from '@paymesh/platform/metrics';
import { buildGateway } from './app.ts';
import { gatewayConfigSpec } from './config.ts';

const { config } = loadConfig(gatewayConfigSpec);
const logger = createLogger('gateway', config.logLevel);
const metrics = createMetrics('gateway');
const app = await buildGateway(config, logger, metrics);
await app.listen({ host: config.host, port: config.port });
const metricsServer = await startMetricsServer(metrics.registry, config.metricsPort, config.host);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    logger.info({ signal }, 'shutting down');
    metricsServer.close();
    // A signalled stop is an orderly stop: exit 0 whatever closing met (it is logged).
    app.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'error while shutting down; exiting');
        process.exit(0);
      },
    );
  });
}
