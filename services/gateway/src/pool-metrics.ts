// What the gateway's pools hold, read when Prometheus scrapes: the open live streams against
// MAX_STREAMS, and per upstream the API requests in flight against UPSTREAM_CONNECTIONS and those
// waiting for a place; and what they refused (503 streams_full, 503 upstream_busy), which
// GatewayPoolFull alerts on (docs/runbooks/gateway-pools.md).
import { Counter, Gauge } from 'prom-client';
import type { Metrics } from '@paymesh/platform/metrics';
import type { UpstreamPool } from './upstream-pool.ts';

/** The refusals counter, labelled `pool` (`streams` or the upstream's name): the pools count into it. */
export function poolRefusals(metrics: Metrics): Counter<'pool'> {
  return new Counter({
    name: 'gateway_pool_refusals_total',
    help: 'Requests refused because a pool was full: pool="streams" is 503 streams_full, an upstream\'s name is 503 upstream_busy.',
    labelNames: ['pool'] as const,
    registers: [metrics.registry],
  });
}

/** The gauges, read from the pools at scrape time. */
export function watchPools(metrics: Metrics, source: { openStreams: () => number; pools: Iterable<UpstreamPool> }): void {
  const registers = [metrics.registry];
  new Gauge({
    name: 'gateway_open_streams',
    help: 'Live streams this gateway replica holds open (its budget is MAX_STREAMS).',
    registers,
    collect() {
      this.set(source.openStreams());
    },
  });
  const perPool = [
    ['gateway_upstream_requests_in_flight', 'API requests in flight to each upstream, by pool (each holds UPSTREAM_CONNECTIONS).', (pool: UpstreamPool) => pool.inFlight],
    ['gateway_upstream_requests_waiting', 'API requests waiting for a place in their upstream\'s pool (at most UPSTREAM_WAIT_MS each).', (pool: UpstreamPool) => pool.waiting],
  ] as const;
  for (const [name, help, read] of perPool) {
    new Gauge({
      name,
      help,
      labelNames: ['pool'] as const,
      registers,
      collect() {
        for (const pool of source.pools) this.set({ pool: pool.name }, read(pool));
      },
    });
  }
}
