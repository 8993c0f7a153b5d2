// What the gateway's pools hold, read when Prometheus scrapes: the open live streams against
// MAX_STREAMS, and per upstream the API requests in flight against UPSTREAM_CONNECTIONS and those
// waiting for a place. A pool that stays full is what precedes 503 upstream_busy and streams_full.
import { Gauge } from 'prom-client';
import type { Metrics } from '@paymesh/platform/metrics';
import type { UpstreamPool } from './upstream-pool.ts';

export function registerPoolMetrics(metrics: Metrics, source: { openStreams: () => number; pools: ReadonlyMap<string, UpstreamPool> }): void {
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
    help: 'API requests in flight to each upstream (its pool holds UPSTREAM_CONNECTIONS).',
    labelNames: ['upstream'] as const,
    registers,
    collect() {
      for (const [upstream, pool] of source.pools) this.set({ upstream }, pool.inFlight);
    },
  });
  new Gauge({
    name: 'gateway_upstream_requests_waiting',
    help: 'API requests waiting for a place in their upstream\'s pool (at most UPSTREAM_WAIT_MS each).',
    labelNames: ['upstream'] as const,
    registers,
    collect() {
      for (const [upstream, pool] of source.pools) this.set({ upstream }, pool.waiting);
    },
  });
}
