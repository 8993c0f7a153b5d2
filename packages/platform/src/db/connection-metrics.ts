// The service's database connections, read from its pool at scrape time under OpenTelemetry's
// semantic-convention names (db.client.connection.count, db.client.connection.pending_requests):
// a pool always full with callers waiting is a database too slow or a pool too small. Per
// database, so in embedded mode each service reports its own, as in a cluster.
import { Gauge, type Registry } from 'prom-client';
import type { Database } from './open-database.ts';

export function registerConnectionMetrics(registry: Registry, database: Pick<Database, 'connections'>): void {
  new Gauge({
    // The semantic convention's name; promtool's remark on its "_count" suffix is expected (docs/observability.md).
    name: 'db_client_connection_count',
    help: 'Database connections of this service, by state (used, idle).',
    labelNames: ['state'] as const,
    registers: [registry],
    collect() {
      const { used, idle } = database.connections();
      this.set({ state: 'used' }, used);
      this.set({ state: 'idle' }, idle);
    },
  });
  new Gauge({
    name: 'db_client_connection_pending_requests',
    help: 'Callers waiting for a database connection of this service.',
    registers: [registry],
    collect() {
      this.set(database.connections().pending);
    },
  });
}
