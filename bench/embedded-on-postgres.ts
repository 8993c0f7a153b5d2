// What the growth benchmarks share: the platform embedded on the machine's PostgreSQL (a database
// per service named `<prefix>_<service>`, dropped when it stops), users signed up and logged in
// through the gateway, and the percentiles and machine line of their reports.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbedded, type EmbeddedPlatform } from '@paymesh/app/start-embedded';
import { serviceNames, type ServiceName } from '@paymesh/app/ports';
import { dropDatabase, ensureDatabase } from '@paymesh/platform/db/ensure-database';
import { closeHttpClient, sendJson } from './http-client.ts';

export const adminUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface BenchPlatform {
  readonly platform: EmbeddedPlatform;
  /** A user signed up and logged in through the gateway (its name made unique per run). */
  signUp(name: string): Promise<{ id: number; token: string }>;
  stop(): Promise<void>;
}

export async function startEmbeddedOnPostgres(prefix: string): Promise<BenchPlatform> {
  const suffix = randomBytes(3).toString('hex');
  const scratch = mkdtempSync(join(tmpdir(), `paymesh-${prefix}-`));
  const names = Object.fromEntries(serviceNames.map((name) => [name, `${prefix}_${suffix}_${name}`])) as Record<ServiceName, string>;
  const databaseUrls = {} as Record<ServiceName, string>;
  for (const name of serviceNames) databaseUrls[name] = await ensureDatabase(adminUrl, names[name]);
  const platform = await startEmbedded({
    env: { ...process.env, LOG_LEVEL: 'error', BOOTSTRAP_ADMIN_PASSWORD_FILE: join(scratch, 'admin.txt'), EMAIL_OUTBOX_DIR: join(scratch, 'mail'), PORT: undefined, DATABASE_URL: undefined, NATS_URL: undefined, AUTH_ISSUER: undefined, PUBLIC_URL: undefined },
    ports: 'random', databaseUrls, dataRoot: join(scratch, 'data'),
  });
  return {
    platform,
    signUp: (name) => signUp(platform.gatewayUrl, `${name}${suffix}`),
    async stop() {
      await platform.stop();
      closeHttpClient();
      for (const name of serviceNames) await dropDatabase(adminUrl, names[name]);
      rmSync(scratch, { recursive: true, force: true });
    },
  };
}

/** A user signed up and logged in through the gateway at `gatewayUrl`. */
export async function signUp(gatewayUrl: string, username: string): Promise<{ id: number; token: string }> {
  const password = `bench-password-${username}`;
  const signedUp = await sendJson(gatewayUrl, 'POST', '/users', { json: { username, email: `${username}@example.com`, password } });
  if (signedUp.status !== 202) throw new Error(`sign-up failed: ${signedUp.status} ${JSON.stringify(signedUp.body)}`);
  const login = await sendJson(gatewayUrl, 'POST', '/auth/login', { json: { username, password } });
  if (login.status !== 200) throw new Error(`login failed: ${login.status} ${JSON.stringify(login.body)}`);
  const token = login.body.token as string;
  const id = Number((await sendJson(gatewayUrl, 'GET', '/users/me', { token })).body.id);
  return { id, token };
}

/** The `p`th percentile of `values` (nearest rank). */
export const percentile = (values: number[], p: number): number => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor((p / 100) * values.length))]!;

/** "2 × <CPU model>, <date>": the machine and day of a report. */
export function machineLine(): string {
  const cpu = /model name\s*:\s*(.+)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 'cpu';
  return `${cpus().length} × ${cpu}, ${new Date().toISOString().slice(0, 10)}`;
}
