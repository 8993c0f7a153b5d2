// The platform at a glance: RED per service from the request histogram, and what the processes
// have left (CPU, memory, event loop, database connections).
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { paymeshDashboard } from './paymesh-dashboard.ts';
import { query, timeseries } from './panels.ts';
import { cpu, databasePool, perProcess, processLegend, residentMemory } from './process-panels.ts';
import { quantileOf, rateOf, series } from './promql.ts';

const requests = (matchers = '') => `sum by (service) (${rateOf('http_server_requests_total', matchers)})`;

export function platformOverview(): Dashboard {
  return paymeshDashboard({
    uid: 'paymesh-overview',
    title: 'Paymesh / Platform overview',
    description: 'Request rate, 5xx share and answer time per service, and saturation of the processes behind them.',
    rows: {
      'Requests (RED)': [
        timeseries({
          title: 'Request rate by service',
          description: 'Requests answered per second by each service (the gateway counts every request once more).',
          unit: 'reqps',
          queries: [query(requests(), '{{service}}')],
        }),
        timeseries({
          title: '5xx share by service',
          description: 'Share of answers that were 5xx. 4xx are the client\'s and not counted. Services without a 5xx show 0. The payments availability SLO allows 0.1% on POST /payments.',
          unit: 'percentunit',
          // A service without any 5xx series yet counts 0 rather than disappearing.
          queries: [query(`(${requests('status_class="5xx"')} or ${requests()} * 0) / ${requests()}`, '{{service}}')],
          redFrom: 0.001,
        }),
        timeseries({
          title: 'Answer time p50 / p95 / p99 by service',
          description: 'Quantiles of http_server_request_duration_seconds over every route of each service, estimated from the histogram buckets.',
          unit: 's',
          queries: [0.5, 0.95, 0.99].map((q) => query(quantileOf(q, 'http_server_request_duration_seconds', ['service']), `{{service}} p${q * 100}`)),
          width: 24,
        }),
        timeseries({
          title: 'Slowest routes (p95)',
          description: 'The ten routes with the highest 95th percentile answer time, by service, method and route template.',
          unit: 's',
          queries: [query(`topk(10, ${quantileOf(0.95, 'http_server_request_duration_seconds', ['service', 'method', 'route'])})`, '{{service}} {{method}} {{route}}')],
        }),
        timeseries({
          title: 'Request rate by status class',
          description: 'Answers per second by status class (2xx…5xx), all selected services together.',
          unit: 'reqps',
          queries: [query(`sum by (status_class) (${rateOf('http_server_requests_total')})`, '{{status_class}}')],
        }),
      ],
      Saturation: [
        cpu(6),
        residentMemory(6),
        timeseries({
          title: 'Event loop lag p99',
          description: 'The slowest event loop turns: a blocked loop delays every request of the process. EventLoopLagHigh warns above 0.5 s for 5 minutes.',
          unit: 's',
          queries: [query(perProcess(series('nodejs_eventloop_lag_p99_seconds')), processLegend)],
          redFrom: 0.5,
          width: 6,
        }),
        databasePool(6),
        timeseries({
          title: 'Gateway API pools: requests in flight and waiting, by upstream',
          description: 'API requests the gateways have in flight to each service (UPSTREAM_CONNECTIONS places per replica, 256 by default) and those waiting for a place, at most UPSTREAM_WAIT_MS before 503 upstream_busy (ADR 28). Live streams have their own budget (the notifications dashboard).',
          unit: 'short',
          queries: [
            query(`sum by (pool) (${series('gateway_upstream_requests_in_flight')})`, '{{pool}} in flight'),
            query(`sum by (pool) (${series('gateway_upstream_requests_waiting')})`, '{{pool}} waiting'),
          ],
          width: 24,
        }),
      ],
    },
  });
}
