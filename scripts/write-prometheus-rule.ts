// Writes the PrometheusRule (scripts/prometheus-rule.ts). `npm run prometheus:rule`.
import { writeFileSync } from 'node:fs';
import { prometheusRule, prometheusRulePath } from './prometheus-rule.ts';

writeFileSync(prometheusRulePath, prometheusRule());
