// Gauges whose values one read gives together (a query on a table), made at scrape time. prom-client
// runs every collect of a scrape at once, so the gauges share the read in flight: each reports this
// scrape's value, none the previous one's, and the query runs once per scrape, not once per gauge.
import { Gauge, type Registry } from 'prom-client';

/**
 * Registers one gauge per key of `help` (the key is its name). `read` answers every value, or
 * undefined when it cannot now (the database away). When it cannot, or fails, the last values
 * stay: the readiness probe says why, and a failing /metrics would mark the whole target down.
 */
export function registerScrapedGauges<N extends string>(registry: Registry, help: Readonly<Record<N, string>>, read: () => Promise<Readonly<Record<N, number>> | undefined>): void {
  const names = Object.keys(help) as N[];
  const values = Object.fromEntries(names.map((name) => [name, 0])) as Record<N, number>;
  let inFlight: Promise<void> | undefined;
  const refresh = () => (inFlight ??= read().then((read) => {
    if (read !== undefined) Object.assign(values, read);
  }, () => undefined).finally(() => {
    inFlight = undefined;
  }));
  for (const name of names) {
    new Gauge({
      name,
      help: help[name],
      registers: [registry],
      async collect() {
        await refresh();
        this.set(values[name]);
      },
    });
  }
}
