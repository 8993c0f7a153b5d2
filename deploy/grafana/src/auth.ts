// auth: password logins and what refuses them (failures, lockouts), tokens issued, the signing keys
// and their rotation, failed client authentications, and every service's JWKS refreshes.
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { paymeshDashboard } from './paymesh-dashboard.ts';
import { query, timeseries } from './panels.ts';
import { increaseOf, rateOf, series } from './promql.ts';

const logins = (matchers = '') => `sum(${rateOf('auth_login_attempts_total', matchers)})`;

export function auth(): Dashboard {
  return paymeshDashboard({
    uid: 'paymesh-auth',
    title: 'Paymesh / Auth',
    description: 'Password logins, failures and lockouts, tokens issued by grant type, signing key rotation, client authentication failures and JWKS refreshes.',
    rows: {
      Logins: [
        timeseries({
          title: 'Logins by outcome',
          description: 'Password logins per second (API and login page): succeeded, failed, throttled.',
          unit: 'ops',
          queries: [query(`sum by (outcome) (${rateOf('auth_login_attempts_total')})`, '{{outcome}}')],
          width: 8,
        }),
        timeseries({
          title: 'Login failure share',
          description: 'Share of logins that failed; 0 without failures. LoginFailureSpike warns above 50% with more than 0.5 failures per second.',
          unit: 'percentunit',
          queries: [query(`(${logins('outcome="failed"')} or vector(0)) / ${logins()}`, 'failed')],
          redFrom: 0.5,
          width: 8,
        }),
        timeseries({
          title: 'Lockouts by scope',
          description: 'Locks set after too many failures in each interval (ADR 9): account_source (an account from one source) or address.',
          unit: 'short',
          queries: [query(`sum by (scope) (${increaseOf('auth_login_lockouts_total')})`, '{{scope}}')],
          width: 8,
        }),
      ],
      Tokens: [
        timeseries({
          title: 'Tokens issued by grant type',
          description: 'Access tokens issued per second by grant type (authorization_code, refresh_token, client_credentials, password_login for POST /auth/login, other).',
          unit: 'ops',
          queries: [query(`sum by (grant_type) (${rateOf('auth_tokens_issued_total')})`, '{{grant_type}}')],
        }),
        timeseries({
          title: 'Client authentication failures',
          description: 'Failed or throttled client authentications at the token, introspection and revocation endpoints.',
          unit: 'ops',
          queries: [query(`sum by (endpoint, outcome) (${rateOf('auth_client_auth_failures_total')})`, '{{endpoint}} {{outcome}}')],
        }),
      ],
      'Signing keys': [
        timeseries({
          title: 'Signing keys',
          description: 'Signing keys published in the JWKS: the one signing, the next one before it signs, and replaced ones until their tokens expire.',
          unit: 'short',
          queries: [query(`max without (instance) (${series('auth_signing_keys')})`, '{{service}}')],
          width: 8,
        }),
        timeseries({
          title: 'Signing key age',
          description: 'Time since the key that signs now started signing: a line that only grows was never rotated (npm run keys:rotate).',
          unit: 's',
          queries: [query(`max without (instance) (${series('auth_signing_key_age_seconds')})`, '{{service}}')],
          width: 8,
        }),
        timeseries({
          title: 'JWKS refreshes by service and outcome',
          description: 'Fetches of auth\'s signing keys by each service\'s token verifier in each interval. JwksFetchFailing pages when a service\'s fetches fail with none succeeding for 10 minutes.',
          unit: 'short',
          queries: [query(`sum by (service, outcome) (${increaseOf('jwks_refreshes_total')})`, '{{service}} {{outcome}}')],
          width: 8,
        }),
      ],
    },
  });
}
