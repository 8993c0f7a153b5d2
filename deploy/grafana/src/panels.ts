// The panel kinds the dashboards use, each reading the datasource variable's Prometheus: a time
// series (most panels) and a stat (a single value that must stay at zero). One place for their
// defaults keeps the dashboards alike.
import { LegendDisplayMode, LegendPlacement, SortOrder, TooltipDisplayMode, VizLegendOptionsBuilder, VizTooltipOptionsBuilder } from '@grafana/grafana-foundation-sdk/common';
import { ThresholdsConfigBuilder, ThresholdsMode } from '@grafana/grafana-foundation-sdk/dashboard';
import { DataqueryBuilder } from '@grafana/grafana-foundation-sdk/prometheus';
import { PanelBuilder as StatPanelBuilder } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as TimeseriesPanelBuilder } from '@grafana/grafana-foundation-sdk/timeseries';
import { prometheus } from './variables.ts';

/** One query of a panel: a range query, its legend written with `{{label}}`. */
export function query(expr: string, legend: string): DataqueryBuilder {
  return new DataqueryBuilder().datasource(prometheus).expr(expr).legendFormat(legend).range();
}

interface PanelSpec {
  readonly title: string;
  /** Shown on the panel's (i): what it tells, and what is normal when that is not obvious. */
  readonly description: string;
  /** A Grafana unit id: `reqps`, `s`, `bytes`, `percentunit`, `short`… */
  readonly unit: string;
  readonly queries: readonly DataqueryBuilder[];
  /** Grid columns out of 24. */
  readonly width?: number;
}

/** Queries lettered A, B, C… in order, as Grafana's editor names them. */
function lettered(queries: readonly DataqueryBuilder[]): DataqueryBuilder[] {
  return queries.map((q, i) => q.refId(String.fromCharCode(65 + i)));
}

/** A value at or above `redFrom` turns the panel (or the line's threshold) red. */
function thresholds(redFrom: number): ThresholdsConfigBuilder {
  return new ThresholdsConfigBuilder().mode(ThresholdsMode.Absolute).steps([{ value: null, color: 'green' }, { value: redFrom, color: 'red' }]);
}

/** The builder methods both panel kinds have (the SDK generates each kind's builder separately). */
interface AnyPanelBuilder {
  title(title: string): this;
  description(description: string): this;
  datasource(datasource: typeof prometheus): this;
  unit(unit: string): this;
  targets(targets: DataqueryBuilder[]): this;
  span(width: number): this;
  height(height: number): this;
}

function withSpec<P extends AnyPanelBuilder>(panel: P, spec: PanelSpec, defaultWidth: number): P {
  return panel
    .title(spec.title)
    .description(spec.description)
    .datasource(prometheus)
    .unit(spec.unit)
    .targets(lettered(spec.queries))
    .span(spec.width ?? defaultWidth)
    .height(8);
}

export function timeseries(spec: PanelSpec & { readonly redFrom?: number }): TimeseriesPanelBuilder {
  const panel = withSpec(new TimeseriesPanelBuilder(), spec, 12)
    .legend(new VizLegendOptionsBuilder().showLegend(true).displayMode(LegendDisplayMode.List).placement(LegendPlacement.Bottom).calcs([]))
    .tooltip(new VizTooltipOptionsBuilder().mode(TooltipDisplayMode.Multi).sort(SortOrder.Descending))
    .fillOpacity(10)
    .min(0);
  return spec.redFrom === undefined ? panel : panel.thresholds(thresholds(spec.redFrom));
}

export function stat(spec: PanelSpec & { readonly redFrom: number }): StatPanelBuilder {
  return withSpec(new StatPanelBuilder(), spec, 6).thresholds(thresholds(spec.redFrom));
}
