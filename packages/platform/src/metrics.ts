// Prometheus metrics, one registry per service so that the embedded mode (every service in one
// process) still exposes each service's figures on its own port, as the cluster does. The
// process's own series (process_*, nodejs_*) are a process's, not a service's: they live in one
// registry per process and are exported by one metrics server at a time, so
// `sum(process_resident_memory_bytes)` over an embedded platform counts its one process once.
import { createServer, type Server } from 'node:http';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

export interface Metrics {
  readonly service: string;
  readonly registry: Registry;
  /** RED: every answered request, by method, route template (never a raw path) and status class. */
  readonly httpDuration: Histogram<'method' | 'route' | 'status_class'>;
  readonly httpRequests: Counter<'method' | 'route' | 'status_class'>;
  /** Events a consumer refused for good (events/admit-event.ts): a producer and a consumer disagree. */
  readonly eventsDeadLettered: Counter<'consumer' | 'subject' | 'reason'>;
  /** From an event's occurrence to its consumer handling it: the consumer's lag. */
  readonly eventsConsumeLag: Histogram<'consumer' | 'subject'>;
  /** Handler failures, each one a redelivery the transport schedules. */
  readonly eventsRedeliveries: Counter<'consumer' | 'subject'>;
  /** JWKS fetches by the token verifier, by outcome (ok, failed). */
  readonly jwksRefreshes: Counter<'outcome'>;
}

/** `2xx`…`5xx`: bounded, and what availability SLOs are written on. */
export function statusClass(statusCode: number): string {
  return `${Math.floor(statusCode / 100)}xx`;
}

export function createMetrics(service: string): Metrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  const registers = [registry];
  const labelNames = ['method', 'route', 'status_class'] as const;
  const httpDuration = new Histogram({
    // OpenTelemetry's semantic-convention name, so dashboards written for it work unchanged.
    name: 'http_server_request_duration_seconds',
    help: 'HTTP server request duration by method, route template and status class (2xx..5xx).',
    labelNames,
    // 0.3 is a bucket edge: the payments latency SLO counts requests under 300 ms.
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1, 2.5, 5, 10],
    registers,
  });
  const httpRequests = new Counter({ name: 'http_server_requests_total', help: 'HTTP requests answered, by method, route template and status class.', labelNames, registers });
  const eventsDeadLettered = new Counter({
    name: 'events_dead_lettered_total',
    help: 'Events a consumer refused without retrying: a payload its contract does not admit, or a version newer than it knows.',
    labelNames: ['consumer', 'subject', 'reason'] as const,
    registers,
  });
  const eventsConsumeLag = new Histogram({
    name: 'events_consume_lag_seconds',
    help: 'Time from an event occurring (outbox write) to a consumer handling it, by consumer and subject.',
    labelNames: ['consumer', 'subject'] as const,
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 30, 60, 300, 900, 3600],
    registers,
  });
  const eventsRedeliveries = new Counter({ name: 'events_redeliveries_total', help: 'Event handler failures, each followed by a redelivery, by consumer and subject.', labelNames: ['consumer', 'subject'] as const, registers });
  const jwksRefreshes = new Counter({ name: 'jwks_refreshes_total', help: 'JWKS fetches by the token verifier, by outcome (ok, failed).', labelNames: ['outcome'] as const, registers });
  return { service, registry, httpDuration, httpRequests, eventsDeadLettered, eventsConsumeLag, eventsRedeliveries, jwksRefreshes };
}

let processRegistry: Registry | undefined;
let processExporter: Server | undefined;

function processMetrics(): Registry {
  if (processRegistry === undefined) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
    // Gauges named like counters (promtool: "non-counter metrics should not have _total suffix"),
    // each the sum over `type` of the gauge without the suffix, which stays.
    for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) processRegistry.removeSingleMetric(name);
  }
  return processRegistry;
}

/**
 * Serves GET /metrics on its own port, which the gateway never routes to. The first server asked
 * for its metrics while no other holds the process series takes them (labelled with its service);
 * when it closes, the next one scraped does.
 */
export async function startMetricsServer(metrics: Pick<Metrics, 'registry' | 'service'>, port: number, host: string): Promise<Server> {
  const { registry } = metrics;
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    if (processExporter === undefined) {
      processExporter = server;
      processMetrics().setDefaultLabels({ service: metrics.service });
    }
    const processText = processExporter === server ? processMetrics().metrics() : Promise.resolve('');
    Promise.all([registry.metrics(), processText]).then(
      ([own, process]) => res.writeHead(200, { 'content-type': registry.contentType }).end(own + process),
      (error: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${String(error)}\n`),
    );
  });
  server.once('close', () => { if (processExporter === server) processExporter = undefined; });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return server;
}
