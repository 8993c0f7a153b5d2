// The runner's output: one line per scenario with its figures, and the reasons under a failure.
import type { AuditResult } from './audit.ts';

export interface ScenarioReport {
  readonly scenario: string;
  readonly audit: AuditResult;
  /** How each process that ended during the scenario ended, e.g. `payments SIGKILL (injected)`. */
  readonly exits: readonly string[];
  /** Failed attempts by cause, e.g. `503×12`. */
  readonly errorCauses: string;
  readonly seconds: number;
}

const columns = ['scenario', 'payments', 'acked', 'lost', 'dup', 'phantom', 'ledger', 'notif', 'unread', 'worst-409-s', 'worst-notif-s', 'errors', 'result'] as const;
const widths = [26, 8, 6, 4, 4, 7, 6, 9, 6, 11, 13, 7, 6];

export const passed = (report: ScenarioReport) => report.audit.failures.length === 0;

export function headerLine(): string {
  return columns.map((c, i) => c.padEnd(widths[i]!)).join(' ').trimEnd();
}

export function scenarioLine(report: ScenarioReport): string {
  const a = report.audit;
  const notif = a.notificationsMissing === 0 && a.notificationsExtra === 0 ? 'ok' : `-${a.notificationsMissing}/+${a.notificationsExtra}`;
  const cells = [
    report.scenario, a.payments, a.acked, a.lost, a.dup, a.phantom,
    a.ledgerViolations === 0 ? 'ok' : `${a.ledgerViolations}bad`, notif, a.unreadOff === 0 ? 'ok' : `${a.unreadOff}off`,
    a.worst409Seconds.toFixed(1), a.worstNotificationSeconds.toFixed(1), a.errors, passed(report) ? 'PASS' : 'FAIL',
  ].map(String);
  return cells.map((c, i) => c.padEnd(widths[i]!)).join(' ').trimEnd();
}

export function detailLines(report: ScenarioReport): string[] {
  return [
    `    ${report.seconds.toFixed(0)} s; median notification delay ${report.audit.medianNotificationSeconds.toFixed(1)} s; exits: ${report.exits.length === 0 ? 'none' : report.exits.join(', ')}; failed attempts: ${report.errorCauses || 'none'}`,
    ...report.audit.failures.map((failure) => `    FAIL: ${failure}`),
  ];
}

export function errorCauses(errors: ReadonlyMap<string, number>): string {
  return [...errors].sort((a, b) => b[1] - a[1]).map(([cause, n]) => `${cause}×${n}`).join(' ');
}
