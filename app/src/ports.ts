import { randomBytes } from 'node:crypto';
import { metricsPorts, servicePorts } from '@paymesh/platform/service-config';
import { freePorts } from './free-ports.ts';

export const serviceNames = ['auth', 'users', 'payments', 'notifications'] as const;
export type ServiceName = (typeof serviceNames)[number];

export interface PortPlan {
  readonly gateway: number;
  readonly gatewayMetrics: number;
  readonly http: Record<ServiceName, number>;
  readonly metrics: Record<ServiceName, number>;
}

/** The documented ports, or free ones (tests). The gateway honours PORT either way. */
export async function planPorts(mode: 'default' | 'random', gatewayPort?: number): Promise<PortPlan> {
  if (mode === 'default') {
    return {
      gateway: gatewayPort ?? servicePorts.gateway,
      gatewayMetrics: metricsPorts.gateway,
      http: { auth: servicePorts.auth, users: servicePorts.users, payments: servicePorts.payments, notifications: servicePorts.notifications },
      metrics: { auth: metricsPorts.auth, users: metricsPorts.users, payments: metricsPorts.payments, notifications: metricsPorts.notifications },
    };
  }
  const ports = await freePorts(2 + 2 * serviceNames.length);
  const take = () => Object.fromEntries(serviceNames.map((name) => [name, ports.pop()!])) as Record<ServiceName, number>;
  const gateway = ports.pop()!;
  return { gateway: gatewayPort ?? gateway, gatewayMetrics: ports.pop()!, http: take(), metrics: take() };
}

/**
 * Client secrets for one run of the platform, so that processes started together never race to
 * create the development secrets file. An operator's own SERVICE_CLIENTS wins.
 */
export function runSecrets(base: Record<string, string | undefined>): Record<string, string | undefined> {
  if (base.SERVICE_CLIENTS !== undefined) return base;
  const secrets = Object.fromEntries(serviceNames.filter((n) => n !== 'auth').map((name) => [name, randomBytes(32).toString('base64url')]));
  return {
    ...base,
    SERVICE_CLIENTS: Object.entries(secrets).map(([name, secret]) => `${name}-service:${secret}`).join(','),
    ...Object.fromEntries(Object.entries(secrets).map(([name, secret]) => [`${name.toUpperCase()}_SERVICE_CLIENT_SECRET`, secret])),
  };
}

/** The environment each service needs to find the others on this machine. */
export function serviceEnv(plan: PortPlan, service: ServiceName, base: Record<string, string | undefined>): Record<string, string | undefined> {
  const url = (name: ServiceName) => `http://127.0.0.1:${plan.http[name]}`;
  return {
    ...base,
    SERVICE_CLIENT_SECRET: base[`${service.toUpperCase()}_SERVICE_CLIENT_SECRET`] ?? base.SERVICE_CLIENT_SECRET,
    HTTP_PORT: String(plan.http[service]),
    METRICS_PORT: String(plan.metrics[service]),
    AUTH_URL: url('auth'),
    USERS_URL: url('users'),
    PAYMENTS_URL: url('payments'),
    NOTIFICATIONS_URL: url('notifications'),
    AUTH_ISSUER: base.AUTH_ISSUER ?? `http://localhost:${plan.gateway}/auth`,
    // Links in emails point at the gateway, as clients see it.
    PUBLIC_URL: base.PUBLIC_URL ?? `http://localhost:${plan.gateway}`,
  };
}

export function gatewayEnv(plan: PortPlan, base: Record<string, string | undefined>): Record<string, string | undefined> {
  return { ...serviceEnv(plan, 'auth', base), PORT: String(plan.gateway), METRICS_PORT: String(plan.gatewayMetrics) };
}
