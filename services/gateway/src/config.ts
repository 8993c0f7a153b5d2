import { int, oneOf, str, url } from '@paymesh/platform/config';
import { logLevels, metricsPorts, servicePorts, shutdownDrainKey } from '@paymesh/platform/service-config';

export const gatewayConfigSpec = {
  host: str('HOST', 'Interface the gateway binds to.', { default: '127.0.0.1' }),
  port: int('PORT', 'Port of the public entry point.', { default: servicePorts.gateway, min: 0, max: 65535 }),
  metricsPort: int('METRICS_PORT', 'Port of the gateway /metrics endpoint.', { default: metricsPorts.gateway, min: 0, max: 65535 }),
  publicUrl: url('PUBLIC_URL', 'The public origin clients use (scheme and host). Passed upstream as X-Forwarded-Proto/Host, so a client cannot choose the URLs auth publishes by sending its own Host header.', { default: `http://localhost:${servicePorts.gateway}` }),
  authUrl: url('AUTH_URL', 'Upstream for /auth.', { default: `http://127.0.0.1:${servicePorts.auth}` }),
  usersUrl: url('USERS_URL', 'Upstream for /users.', { default: `http://127.0.0.1:${servicePorts.users}` }),
  paymentsUrl: url('PAYMENTS_URL', 'Upstream for /payments.', { default: `http://127.0.0.1:${servicePorts.payments}` }),
  notificationsUrl: url('NOTIFICATIONS_URL', 'Upstream for /notifications.', { default: `http://127.0.0.1:${servicePorts.notifications}` }),
  logLevel: oneOf('LOG_LEVEL', `Log level (${logLevels.join(', ')}).`, logLevels, { default: 'info' }),
  shutdownDrainMs: shutdownDrainKey(),
  upstreamTimeoutMs: int('UPSTREAM_TIMEOUT_MS', 'How long the gateway waits for an upstream answer.', { default: 30_000, min: 100 }),
};
