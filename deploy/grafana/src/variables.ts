// The template variables every Paymesh dashboard has, and the matchers every panel query carries so
// that they narrow it: datasource, then namespace → service → instance, each a multi-value choice
// with "All" meaning `.*`.
import { DatasourceVariableBuilder, QueryVariableBuilder, VariableRefresh, VariableSort } from '@grafana/grafana-foundation-sdk/dashboard';

/** The Prometheus every panel and variable queries: the datasource variable's value. */
export const prometheus = { type: 'prometheus', uid: '${datasource}' };

/**
 * The matchers of every series a panel reads. `=~".*"` also matches a series without the label:
 * one-machine scrapes have no `namespace`, and recording rules that aggregate the instance away
 * keep working under "All".
 */
export const scopeMatchers = 'namespace=~"$namespace", service=~"$service", instance=~"$instance"';

function choice(name: string, label: string, query: string): QueryVariableBuilder {
  return new QueryVariableBuilder(name)
    .label(label)
    .datasource(prometheus)
    .query({ query, refId: `${name}-values` })
    .refresh(VariableRefresh.OnTimeRangeChanged)
    .sort(VariableSort.AlphabeticalAsc)
    .multi(true)
    .includeAll(true)
    .allValue('.*')
    .current({ text: 'All', value: '$__all' });
}

export function dashboardVariables(): (DatasourceVariableBuilder | QueryVariableBuilder)[] {
  return [
    new DatasourceVariableBuilder('datasource').label('Prometheus').type('prometheus'),
    choice('namespace', 'Namespace', 'label_values(up, namespace)'),
    // `up` has a series per target whatever the scrape did; its `job` is the part's name in every
    // deployment mode (docs/observability.md), the same value the exposed `service` label has.
    // (`service` itself is not a target label outside Kubernetes.)
    choice('service', 'Service', 'label_values(up{namespace=~"$namespace"}, job)'),
    choice('instance', 'Instance', 'label_values(up{namespace=~"$namespace", job=~"$service"}, instance)'),
  ];
}
