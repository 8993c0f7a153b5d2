// Configuration keys every service shares. Each service adds its own beside these.
import { resolve } from 'node:path';
import { addressList, bool, duration, int, oneOf, optionalStr, optionalUrl, str, url, type ConfigSpec } from './config.ts';
import { devSecret, existingDevSecret, varDir } from './dev-secrets.ts';

export const servicePorts = { gateway: 8080, auth: 3001, users: 3002, payments: 3003, notifications: 3004 } as const;
export const metricsPorts = { gateway: 9100, auth: 9101, users: 9102, payments: 9103, notifications: 9104 } as const;
export const logLevels = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type ServiceName = keyof typeof servicePorts;

/** Accepted by every service beside its own audience (see auth's oidc/scopes.ts). */
export const platformWideAudience = 'urn:paymesh:platform';

/** The audience a service requires, also its resource indicator at auth (RFC 8707). */
export const serviceAudience = (service: Exclude<ServiceName, 'gateway'>) => `urn:paymesh:${service}`;

const devSecretWarning = (name: string) => (value: string) =>
  value === existingDevSecret(name) ? `using the development secret from var/dev-secrets.json; set a real secret in production` : undefined;

/** Shared with the gateway, which drains the same way. */
export const shutdownDrainKey = () =>
  duration('SHUTDOWN_DRAIN_MS', 'On SIGTERM, how long at most the listener stays open answering new requests with 503 shutting_down (Connection: close, Retry-After) before it closes, so that a request racing the shutdown gets an answer instead of a connection reset. Ends sooner once no connection is left.', { unit: 'ms', default: 1_000, min: 0, max: 60_000 });

export function serviceConfigSpec(service: Exclude<ServiceName, 'gateway'>) {
  return {
    host: str('HOST', 'Interface the HTTP and metrics servers bind to (0.0.0.0 in containers).', { default: '127.0.0.1' }),
    httpPort: int('HTTP_PORT', 'Port of the service API.', { default: servicePorts[service], min: 0, max: 65535 }),
    metricsPort: int('METRICS_PORT', 'Port of the Prometheus /metrics endpoint (never routed by the gateway).', { default: metricsPorts[service], min: 0, max: 65535 }),
    databaseUrl: optionalUrl('DATABASE_URL', "PostgreSQL URL of this service's own database; unset means embedded PGlite."),
    databasePreparedStatements: bool('DATABASE_PREPARED_STATEMENTS', 'On PostgreSQL, send each statement with parameters as a named (prepared) statement, parsed once per connection (ADR 30). Turn off behind a pooler that cannot keep prepared statements (PgBouncer in transaction mode before 1.21, or without max_prepared_statements).', { default: true }),
    dataDir: str('DATA_DIR', 'PGlite data folder when DATABASE_URL is unset and the service runs on its own (`memory://` keeps nothing). `npm start` keeps every service in its one cluster under PAYMESH_DATA_ROOT instead.', { default: resolve(varDir, 'data', service), shownDefault: '`var/data/<service>`' }),
    natsUrl: optionalUrl('NATS_URL', 'NATS server with JetStream; unset means the in-process event transport (embedded mode only).'),
    natsStream: str('NATS_STREAM', 'JetStream stream name; its lower-case form prefixes every subject.', { default: 'PAYMESH' }),
    authIssuer: url('AUTH_ISSUER', 'Issuer of access tokens (`iss`), also the public base of the auth service.', { default: 'http://localhost:8080/auth' }),
    authUrl: url('AUTH_URL', 'Internal base URL of the auth service (token endpoint and JWKS are fetched there).', { default: `http://127.0.0.1:${servicePorts.auth}` }),
    authAudience: str('AUTH_AUDIENCE', 'Audience (`aud`) this service requires in access tokens: its resource indicator at auth (RFC 8707), so a token minted for another service is refused.', { default: serviceAudience(service) }),
    externalIssuer: optionalStr('EXTERNAL_ISSUER', 'An additional trusted issuer (Auth0, Okta, Keycloak): its `iss` value.'),
    externalJwksUrl: optionalUrl('EXTERNAL_JWKS_URL', "The external issuer's JWKS URL."),
    externalAudience: optionalStr('EXTERNAL_AUDIENCE', 'Audience required in tokens from the external issuer.'),
    jwksCooldownSec: duration('JWKS_COOLDOWN_SECONDS', 'A token with an unknown key id refetches the issuer\'s JWKS at most once per this many seconds.', { unit: 's', default: 30, min: 0, max: 3600 }),
    clientId: str('SERVICE_CLIENT_ID', 'OAuth client id this service uses for client_credentials calls.', { default: `${service}-service` }),
    clientSecret: str('SERVICE_CLIENT_SECRET', 'OAuth client secret of this service.', { default: () => devSecret(`${service}-service`), shownDefault: '(development secret, with a warning)', insecure: devSecretWarning(`${service}-service`) }),
    trustedProxies: addressList('TRUSTED_PROXIES', 'The peers whose X-Forwarded-For (and -Proto, -Host) this service believes: the gateway, the ingress or a load balancer, as comma-separated addresses, CIDR ranges or `loopback`, `linklocal`, `uniquelocal`. The client address the login, registration and client-secret throttles key on comes from it, so a client that can reach the service from anywhere else must not be trusted: it could choose its own address. Empty trusts nobody (the socket address is the client).', { default: ['loopback'], shownDefault: '`loopback`' }),
    checkResponses: oneOf('CHECK_RESPONSES', 'on: every JSON answer of a documented route is checked against the API document (its status\'s schema, with no field left undocumented) and answered 500 response_undocumented when it does not match. For tests (the test platforms turn it on); it costs a schema check per answer.', ['off', 'on'], { default: 'off' }),
    apiExamplesDir: optionalStr('API_EXAMPLES_DIR', 'With CHECK_RESPONSES=on, a folder where the first valid answer of each documented route and status is written as `<service>.jsonl` (`npm run api:examples` makes the API document\'s examples of them).'),
    logLevel: oneOf('LOG_LEVEL', `Log level (${logLevels.join(', ')}).`, logLevels, { default: 'info' }),
    startupDependencyTimeoutSec: duration('STARTUP_DEPENDENCY_TIMEOUT_SECONDS', 'At start, how long to wait for PostgreSQL and NATS to answer (retrying with growing pauses, a log line per wait) before exiting with status 1.', { unit: 's', default: 60, min: 0, max: 3600 }),
    shutdownDrainMs: shutdownDrainKey(),
    shutdownGraceMs: duration('SHUTDOWN_GRACE_MS', 'On SIGTERM, how long the outbox relay may keep publishing; the whole shutdown is given twice this before the process exits anyway.', { unit: 'ms', default: 10_000, min: 0 }),
  } satisfies ConfigSpec;
}
