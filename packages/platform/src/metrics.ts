// Prometheus metrics, one registry per service so that the embedded mode (every service in one
// process) still exposes each service's figures on its own port, as the cluster does.
import { createServer, type Server } from 'node:http';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

export interface Metrics {
  readonly registry: Registry;
  readonly httpDuration: Histogram<'method' | 'route' | 'status_code'>;
  /** Events a consumer refused for good (events/admit-event.ts): a producer and a consumer disagree. */
  readonly eventsDeadLettered: Counter<'consumer' | 'subject' | 'reason'>;
}

export function createMetrics(service: string): Metrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  const httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration by route template and status code.',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const eventsDeadLettered = new Counter({
    name: 'events_dead_lettered_total',
    help: 'Events a consumer refused without retrying: a payload its contract does not admit, or a version newer than it knows.',
    labelNames: ['consumer', 'subject', 'reason'] as const,
    registers: [registry],
  });
  return { registry, httpDuration, eventsDeadLettered };
}

/** Serves GET /metrics on its own port, which the gateway never routes to. */
export async function startMetricsServer(registry: Registry, port: number, host: string): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (error: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${String(error)}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return server;
}
