// Grafana's own dashboard type (@grafana/schema, the JSON model Grafana reads) as it is written in
// JSON: its string enums (ThresholdsMode, VariableType…) spelled as their values, which TypeScript
// does not accept for an enum. Everything else is the schema's type as it is.
import type { Dashboard } from '@grafana/schema';

type AsJson<T> = T extends string ? `${T}` : T extends readonly (infer U)[] ? AsJson<U>[] : T extends object ? { [K in keyof T]: AsJson<T[K]> } : T;

export type DashboardJson = AsJson<Dashboard>;
