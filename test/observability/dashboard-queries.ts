// The queries of the committed Grafana dashboards (deploy/grafana/dashboards/*.json) as Prometheus
// would run them, for the checks that read them: every panel's targets, and an expression with the
// template variables replaced the way Grafana does under "All".
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';

export const dashboardsDir = resolve(import.meta.dirname, '../../deploy/grafana/dashboards');

export interface DashboardFile {
  readonly file: string;
  readonly text: string;
  readonly dashboard: {
    uid: string;
    title: string;
    templating: { list: { name: string; type: string; query?: unknown; multi?: boolean; includeAll?: boolean; allValue?: string }[] };
    panels: { id: number; type: string; title: string; targets?: { expr?: string; refId?: string }[] }[];
  };
}

export function committedDashboards(): DashboardFile[] {
  return readdirSync(dashboardsDir).filter((file) => file.endsWith('.json')).sort().map((file) => {
    const text = readFileSync(resolve(dashboardsDir, file), 'utf8');
    return { file, text, dashboard: JSON.parse(text) as DashboardFile['dashboard'] };
  });
}

export interface PanelQuery {
  readonly dashboard: string;
  readonly panel: string;
  readonly expr: string;
}

/** Every target expression of every panel that is not a row. */
export function panelQueries(files: readonly DashboardFile[] = committedDashboards()): PanelQuery[] {
  return files.flatMap(({ file, dashboard }) => dashboard.panels.filter((p) => p.type !== 'row').flatMap((p) =>
    (p.targets ?? []).map((t) => ({ dashboard: file, panel: p.title, expr: t.expr ?? '' }))));
}

/** The expression with every variable at "All" (`.*`) and `$__rate_interval` set to `window`. */
export function withAllSelected(expr: string, window: string): string {
  return expr.replaceAll('$__rate_interval', window).replaceAll(/\$(namespace|service|instance)\b/g, '.*');
}
