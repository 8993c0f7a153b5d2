// Every Paymesh dashboard and the file it is committed as (deploy/grafana/dashboards/<file>):
// `npm run dashboards` writes them, the dashboards test compares them, kustomize and Grafana's
// provisioning load them.
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { auth } from './auth.ts';
import { notifications } from './notifications.ts';
import { payments } from './payments.ts';
import { platformOverview } from './platform-overview.ts';
import { runtime } from './runtime.ts';

export const dashboards: readonly { readonly file: string; readonly build: () => Dashboard }[] = [
  { file: 'paymesh-overview.json', build: platformOverview },
  { file: 'paymesh-payments.json', build: payments },
  { file: 'paymesh-notifications.json', build: notifications },
  { file: 'paymesh-auth.json', build: auth },
  { file: 'paymesh-runtime.json', build: runtime },
];

/** The committed text of a dashboard: two-space JSON and a final newline, the same on every run. */
export function dashboardJson(dashboard: Dashboard): string {
  return `${JSON.stringify(dashboard, null, 2)}\n`;
}
