// What the throttles count, for dashboards and alerts: a burst of failures or refusals is an
// attack in progress. No login names or client ids in labels (unbounded, and personal).
import { Counter, type Registry } from 'prom-client';

export class ThrottleMetrics {
  /** Password logins by outcome: succeeded, failed (wrong credentials), throttled (refused unchecked). */
  readonly loginAttempts: Counter<'outcome'>;
  /** Client authentications that failed at the token endpoints, by endpoint and outcome (failed, throttled). */
  readonly clientAuthFailures: Counter<'endpoint' | 'outcome'>;
  /** Locks set by too many failures, by scope: one account from one source, or one address over every account. */
  readonly lockouts: Counter<'scope'>;

  constructor(registry: Registry) {
    this.loginAttempts = new Counter({ name: 'auth_login_attempts_total', help: 'Password logins (POST /auth/login and the login page) by outcome: succeeded, failed, throttled.', labelNames: ['outcome'] as const, registers: [registry] });
    this.lockouts = new Counter({ name: 'auth_login_lockouts_total', help: 'Login locks set after too many failures, by scope (account_source, address).', labelNames: ['scope'] as const, registers: [registry] });
    this.clientAuthFailures = new Counter({ name: 'auth_client_auth_failures_total', help: 'Failed or throttled client authentications at the token, introspection and revocation endpoints.', labelNames: ['endpoint', 'outcome'] as const, registers: [registry] });
  }
}
