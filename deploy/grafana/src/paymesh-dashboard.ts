// What every Paymesh dashboard shares: the fixed uid (links and provisioning find it by that), the
// tags, the template variables, the time range; and the panels laid out in rows, numbered in order
// so the generated JSON is the same on every run.
import assert from 'node:assert/strict';
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { DashboardBuilder, DashboardCursorSync, RowBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import type { PanelBuilder as StatPanelBuilder } from '@grafana/grafana-foundation-sdk/stat';
import type { PanelBuilder as TimeseriesPanelBuilder } from '@grafana/grafana-foundation-sdk/timeseries';
import { dashboardVariables } from './variables.ts';

export interface DashboardSpec {
  readonly uid: string;
  readonly title: string;
  readonly description: string;
  /** Row title → its panels, in order. */
  readonly rows: Readonly<Record<string, readonly (TimeseriesPanelBuilder | StatPanelBuilder)[]>>;
}

export function paymeshDashboard(spec: DashboardSpec): Dashboard {
  const builder = new DashboardBuilder(spec.title)
    .uid(spec.uid)
    .description(spec.description)
    .tags(['paymesh'])
    .editable()
    .tooltip(DashboardCursorSync.Crosshair)
    .time({ from: 'now-1h', to: 'now' })
    .refresh('30s')
    .timezone('browser')
    .variables(dashboardVariables());
  let id = 0;
  for (const [title, panels] of Object.entries(spec.rows)) {
    builder.withRow(new RowBuilder(title).id(++id));
    for (const panel of panels) builder.withPanel(panel.id(++id));
  }
  return withoutIntervalFields(builder.build());
}

/**
 * The SDK gives every variable the interval variable's `auto`, `auto_min` and `auto_count`
 * (defaults of one shared variable model); Grafana's schema (@grafana/schema) has no such fields,
 * and its type check in the dashboards test refuses them. None of our variables is an interval.
 */
function withoutIntervalFields(dashboard: Dashboard): Dashboard {
  for (const variable of dashboard.templating.list ?? []) {
    assert.notEqual(variable.type, 'interval', 'an interval variable keeps its auto fields');
    delete variable.auto;
    delete variable.auto_min;
    delete variable.auto_count;
  }
  return dashboard;
}
