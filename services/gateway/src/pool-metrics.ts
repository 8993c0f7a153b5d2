// What the gateway's pools hold, read when Prometheus scrapes: the open live streams against
// MAX_STREAMS, and per upstream the API requests in flight against UPSTREAM_CONNECTIONS and those
// waiting for a place; and what they refused (503 streams_full, 503 upstream_busy), which
// GatewayPoolFull alerts on (docs/runbooks/gateway-pools.md).
import { Counter, Gauge } from 'prom-client';
import type { Metrics } from '@paymesh/platform/metrics';
import type { UpstreamPool } from './upstream-pool.ts';

/** Registers the gauges (read from `source` at scrape time) and returns the refusals counter, labelled `pool` (`streams` or the upstream's name). */
export function registerPoolMetrics(metrics: Metrics, source: { openStreams: () => number; pools: () => Iterable<UpstreamPool> }): Counter<'pool'> {
  const registers = [metrics.registry];
  new Gauge({
    name: 'gateway_open_streams',
    help: 'Live streams this gateway replica holds open (its budget is MAX_STREAMS).',
    registers,
    collect() {
      this.set(source.openStreams());
    },
  });
  new Gauge({
    name: 'gateway_upstream_requests_in_flight',
    help: 'API requests in flight to each upstream, by pool (each holds UPSTREAM_CONNECTIONS).',
    labelNames: ['pool'] as const,
    registers,
    collect() {
      for (const pool of source.pools()) this.set({ pool: pool.name }, pool.inFlight);
    },
  });
  new Gauge({
    name: 'gateway_upstream_requests_waiting',
    help: 'API requests waiting for a place in their upstream\'s pool (at most UPSTREAM_WAIT_MS each).',
    labelNames: ['pool'] as const,
    registers,
    collect() {
      for (const pool of source.pools()) this.set({ pool: pool.name }, pool.waiting);
    },
  });
  return new Counter({
    name: 'gateway_pool_refusals_total',
    help: 'Requests refused because a pool was full: pool="streams" is 503 streams_full, an upstream\'s name is 503 upstream_busy.',
    labelNames: ['pool'] as const,
    registers,
  });
}
