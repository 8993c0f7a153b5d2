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
    app.close().then(() => process.exit(0), () => process.exit(1));
  });
}
