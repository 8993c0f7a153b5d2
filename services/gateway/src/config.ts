import { addressList, duration, int, oneOf, str, url } from '@paymesh/platform/config';
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
  trustedProxies: addressList('TRUSTED_PROXIES', 'The peers in front of the gateway whose X-Forwarded-For it believes: a Kubernetes Ingress controller or a load balancer, as comma-separated addresses, CIDR ranges or `loopback`, `linklocal`, `uniquelocal`. The client address it passes on (and caps live streams by) is then the one that peer saw; the services\' login and registration limits count by it. Empty (the default) believes nobody: the gateway is the edge, and any client could otherwise choose its own address.', { default: [], shownDefault: '(empty: nobody)' }),
  logLevel: oneOf('LOG_LEVEL', `Log level (${logLevels.join(', ')}).`, logLevels, { default: 'info' }),
  maxBodyBytes: int('MAX_BODY_BYTES', 'Largest request body the gateway forwards when its size is announced (Content-Length); larger is 413 body_too_large. Keep it at the services\' limit (1 MiB).', { default: 1024 * 1024, min: 1024 }),
  maxStreamsPerAddress: int('MAX_STREAMS_PER_ADDRESS', 'Live streams (GET /notifications/stream) one client address may hold open through this gateway; more is 429 too_many_streams_from_address.', { default: 20, min: 1 }),
  maxStreams: int('MAX_STREAMS', 'Live streams (GET /notifications/stream) this gateway replica holds open at once, from every address together; more is 503 streams_full with Retry-After, answered before the proxy is asked. Streams have a pool of their own, so the API is served however many are open. Each stream holds two sockets here (client and upstream): keep the process\'s nofile limit above twice this plus the API connections.', { default: 10_000, min: 1 }),
  upstreamConnections: int('UPSTREAM_CONNECTIONS', 'API requests (everything but live streams) this gateway replica has in flight to one upstream at once, each on its own connection. Past it a request waits for a place at most UPSTREAM_WAIT_MS, then is 503 upstream_busy.', { default: 256, min: 1 }),
  upstreamWaitMs: duration('UPSTREAM_WAIT_MS', 'How long an API request may wait for a place among the UPSTREAM_CONNECTIONS of its upstream before it is refused with 503 upstream_busy (a full pool answers instead of queueing without end).', { unit: 'ms', default: 1_000, min: 0 }),
  shutdownDrainMs: shutdownDrainKey(),
  upstreamTimeoutMs: duration('UPSTREAM_TIMEOUT_MS', 'How long the gateway waits for an upstream answer.', { unit: 'ms', default: 30_000, min: 100 }),
};
