// Panels of the processes' saturation that the overview and the runtime dashboard both show. Process
// series come once per process (ADR 21), labelled with the service whose endpoint exports them: in
// embedded mode one service label carries the whole process.
import type { PanelBuilder as TimeseriesPanelBuilder } from '@grafana/grafana-foundation-sdk/timeseries';
import { query, timeseries } from './panels.ts';
import { rateOf, series } from './promql.ts';

/** One line per process. */
export const perProcess = (expr: string) => `max by (service, instance) (${expr})`;
export const processLegend = '{{service}} {{instance}}';

export function cpu(width: number): TimeseriesPanelBuilder {
  return timeseries({
    title: 'CPU by process',
    description: 'CPU seconds used per second, user and system together (1 = one core).',
    unit: 'short',
    queries: [query(perProcess(rateOf('process_cpu_seconds_total')), processLegend)],
    width,
  });
}

export function residentMemory(width: number): TimeseriesPanelBuilder {
  return timeseries({
    title: 'Resident memory by process',
    description: 'process_resident_memory_bytes: everything the process holds, heap and native.',
    unit: 'bytes',
    queries: [query(perProcess(series('process_resident_memory_bytes')), processLegend)],
    width,
  });
}

export function databasePool(width: number): TimeseriesPanelBuilder {
  return timeseries({
    title: 'Database pool',
    description: 'Connections of each service\'s pool by state, and queries waiting for a connection: waiting above 0 for long means a pool too small or a database too slow.',
    unit: 'short',
    queries: [
      query(`sum by (service, state) (${series('db_client_connection_count')})`, '{{service}} {{state}}'),
      query(`sum by (service) (${series('db_client_connection_pending_requests')})`, '{{service}} waiting'),
    ],
    width,
  });
}
