// PromQL pieces the panels are written with: a series scoped by the template variables, its rate or
// increase over Grafana's `$__rate_interval` (never a fixed window: it follows the scrape interval
// and the zoom), and a histogram quantile.
import { scopeMatchers } from './variables.ts';

/** `metric{matchers, <the variables' matchers>}`. */
export function series(metric: string, matchers = ''): string {
  return `${metric}{${matchers === '' ? '' : `${matchers}, `}${scopeMatchers}}`;
}

export function rateOf(metric: string, matchers = ''): string {
  return `rate(${series(metric, matchers)}[$__rate_interval])`;
}

export function increaseOf(metric: string, matchers = ''): string {
  return `increase(${series(metric, matchers)}[$__rate_interval])`;
}

/** The q-quantile of a histogram, grouped by `by` (`le` is added). */
export function quantileOf(q: number, histogram: string, by: string[], matchers = ''): string {
  return `histogram_quantile(${q}, sum by (${[...by, 'le'].join(', ')}) (${rateOf(`${histogram}_bucket`, matchers)}))`;
}
