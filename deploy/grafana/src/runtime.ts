// The Node.js processes: event loop, heap and garbage collection, memory and CPU, open files and
// the database pool.
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { paymeshDashboard } from './paymesh-dashboard.ts';
import { query, timeseries } from './panels.ts';
import { cpu, databasePool, perProcess, processLegend, residentMemory } from './process-panels.ts';
import { rateOf, series } from './promql.ts';

export function runtime(): Dashboard {
  return paymeshDashboard({
    uid: 'paymesh-runtime',
    title: 'Paymesh / Runtime',
    description: 'Node.js runtime of every Paymesh process: event loop lag, heap and GC, resident memory and CPU, file descriptors and database connection pools.',
    rows: {
      'Event loop': [
        timeseries({
          title: 'Event loop lag p50 / p90 / p99',
          description: 'How late timers fire: a blocked loop delays every request of the process. EventLoopLagHigh warns when p99 stays above 0.5 s for 5 minutes.',
          unit: 's',
          queries: ['p50', 'p90', 'p99'].map((p) => query(perProcess(series(`nodejs_eventloop_lag_${p}_seconds`)), `${processLegend} ${p}`)),
          redFrom: 0.5,
          width: 24,
        }),
      ],
      'Heap and GC': [
        timeseries({
          title: 'Heap used',
          description: 'V8 heap in use by each process.',
          unit: 'bytes',
          queries: [query(perProcess(series('nodejs_heap_size_used_bytes')), processLegend)],
          width: 8,
        }),
        timeseries({
          title: 'Heap used by space',
          description: 'V8 heap in use by space (new, old, code, large objects…), all selected processes together: a growing old space that GC does not bring back is a leak.',
          unit: 'bytes',
          queries: [query(`sum by (space) (${series('nodejs_heap_space_size_used_bytes')})`, '{{space}}')],
          width: 8,
        }),
        timeseries({
          title: 'GC time by kind',
          description: 'Seconds per second spent in garbage collection, by kind (minor, major, incremental, weakcb).',
          unit: 'percentunit',
          queries: [query(`sum by (service, instance, kind) (${rateOf('nodejs_gc_duration_seconds_sum')})`, '{{service}} {{instance}} {{kind}}')],
          width: 8,
        }),
      ],
      Process: [
        residentMemory(8),
        cpu(8),
        timeseries({
          title: 'Open file descriptors',
          description: 'Sockets and files the process holds open.',
          unit: 'short',
          queries: [query(perProcess(series('process_open_fds')), processLegend)],
          width: 8,
        }),
      ],
      'Database pool': [databasePool(24)],
    },
  });
}
