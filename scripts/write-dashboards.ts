// Writes the Grafana dashboards (deploy/grafana/src) as deploy/grafana/dashboards/*.json, the files
// Grafana's provisioning and the Kubernetes ConfigMaps load. `npm run dashboards`;
// test/observability/grafana-dashboards.test.ts fails when a committed file is stale.
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { dashboardJson, dashboards } from '../deploy/grafana/src/dashboards.ts';

const folder = resolve(import.meta.dirname, '../deploy/grafana/dashboards');
mkdirSync(folder, { recursive: true });
for (const { file, build } of dashboards) writeFileSync(resolve(folder, file), dashboardJson(build()));
