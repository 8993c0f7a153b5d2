// Test helpers: the whole platform on free ports, on PGlite (always) and on the machine's
// PostgreSQL when TEST_DATABASE_URL is given, in process or as separate processes over NATS
// (TEST_NATS_URL). Tests speak HTTP to the gateway like any client.
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import pg from 'pg';
import type { Clock } from '@paymesh/platform/clock';
import { dropDatabase } from '@paymesh/platform/db/ensure-database';
import { deleteStreams } from '@paymesh/platform/events/delete-streams';
import { queryRows, sql, type Db } from '@paymesh/platform/db/open-database';
import type { FaultProxy } from './fault-proxy.ts';
import { findSecretsInLogs } from './log-scan.ts';
import { createFromTemplate, migratedTemplate } from './postgres-template.ts';
import { runSecrets, serviceNames, type ServiceName } from '../src/ports.ts';
import { startDistributed } from '../src/start-distributed.ts';
import { startEmbedded, type EmbeddedPlatform, type HostedServices } from '../src/start-embedded.ts';

export type Backend = 'pglite' | 'postgres';

export const testDatabaseUrl = process.env.TEST_DATABASE_URL;
export const testNatsUrl = process.env.TEST_NATS_URL;

/** PGlite always; PostgreSQL too when CI gives TEST_DATABASE_URL. */
export function backends(): Backend[] {
  return testDatabaseUrl === undefined ? ['pglite'] : ['pglite', 'postgres'];
}

export const adminPassword = 'admin-test-password-0123';

export interface TestPlatform {
  readonly gatewayUrl: string;
  readonly embedded: EmbeddedPlatform | undefined;
  readonly api: Api;
  /** Distributed mode: what a service's process logged so far. */
  readonly logs: ((service: ServiceName | 'gateway') => string) | undefined;
  /** On PostgreSQL: each service's own database, for tests that inspect what it stored. */
  readonly databaseUrls: Record<ServiceName, string> | undefined;
  /** Distributed mode: each service's process (tests of exits and signals). */
  readonly processes?: Record<ServiceName | 'gateway', ChildProcess>;
  /** Distributed mode: a service's own base URL (its /readyz, say), bypassing the gateway. */
  readonly serviceUrl?: (service: ServiceName) => string;
  /**
   * Marks a user's email address confirmed, as following the emailed link does (the users tests
   * follow the real link; other suites only need a user whose address may receive mail).
   */
  confirmEmail(userId: number): Promise<void>;
  /**
   * Embedded mode: a hosted service, its `context` typed as its declaration builds it
   * (`platform.service('payments').context.ledger`). Distributed mode has none in this process.
   */
  service<N extends ServiceName>(name: N): HostedServices[N];
  /**
   * Embedded mode: returns once every outbox row of every service is published and every consumer
   * has handled it (the in-process transport resolves a publish once its consumers committed),
   * events that consumers enqueued in turn included, and the job queues those fill (deliveries
   * due now, with every attempt finished; reset requests) are worked off. Deliveries waiting for a
   * later retry are not waited for. What a test asserts did not happen has then
   * not happened, instead of "not yet" after a sleep. Fails after `timeoutMs` naming what is left.
   */
  settle(options?: { timeoutMs?: number }): Promise<void>;
  stop(): Promise<void>;
}

function noServiceHere(): never {
  throw new Error('service(): the services run in their own processes (distributed mode)');
}

/**
 * Kicks every relay and waits for its passes until a full round finds no event left unpublished
 * and no job queue (deliveries, reset requests) anything due.
 */
async function settleOutboxes(embedded: EmbeddedPlatform, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left: string[] = [];
    for (const name of serviceNames) {
      const { relay, database } = embedded.services[name].runtime;
      relay.kick();
      await relay.idle();
      const [row] = await queryRows<{ n: number }>(database.db, sql`select count(*)::int as n from outbox where published_at is null`);
      if (Number(row!.n) > 0) left.push(`${name}: ${row!.n}`);
    }
    // The queues the requests and events filled (deliveries, reset requests) are worked off too;
    // what they enqueue in turn is the next round's.
    if (left.length === 0) {
      let worked = false;
      for (const name of serviceNames) if (await embedded.services[name].settleJobs()) worked = true;
      if (!worked) return;
      if (Date.now() > deadline) throw new Error(`settle: the job queues still found work after ${timeoutMs} ms`);
      continue;
    }
    // Events a consumer refused wait out their backoff (at most 1 s) before the next pass.
    if (Date.now() > deadline) throw new Error(`settle: events still unpublished after ${timeoutMs} ms (${left.join(', ')})`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

async function createDatabases(): Promise<{ urls: Record<ServiceName, string>; drop: () => Promise<void> }> {
  if (testDatabaseUrl === undefined) throw new Error('TEST_DATABASE_URL is not set');
  const suffix = randomBytes(4).toString('hex');
  const urls = {} as Record<ServiceName, string>;
  // Copies of databases migrated once (postgres-template.ts): the services find nothing left to apply.
  for (const name of serviceNames) urls[name] = await createFromTemplate(testDatabaseUrl, `t_${suffix}_${name}`, await migratedTemplate(testDatabaseUrl, name));
  return { urls, drop: async () => void (await Promise.all(serviceNames.map((name) => dropDatabase(testDatabaseUrl, `t_${suffix}_${name}`)))) };
}

/** Configuration a test gives its platform (`startTestPlatform({ env })`): it wins over the harness's defaults. */
export type TestEnv = Readonly<Record<string, string | undefined>>;

function testEnv(overrides: TestEnv = {}): Record<string, string | undefined> {
  return {
    ...process.env,
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
    BOOTSTRAP_ADMIN_PASSWORD: adminPassword,
    // Every test client is 127.0.0.1: the per-address limits of users would count a whole suite as
    // one abuser. The tests of those limits set their own (services/users/test/account-abuse.test.ts).
    USERS_REGISTRATIONS_PER_CLIENT_PER_HOUR: process.env.USERS_REGISTRATIONS_PER_CLIENT_PER_HOUR ?? '1000000',
    USERS_PASSWORD_CHECKS_PER_CLIENT_PER_HOUR: process.env.USERS_PASSWORD_CHECKS_PER_CLIENT_PER_HOUR ?? '1000000',
    BOOTSTRAP_ADMIN_PASSWORD_FILE: join(mkdtempSync(join(tmpdir(), 'paymesh-')), 'admin.txt'),
    // Emails of tests never land in the checkout's var/mail.
    EMAIL_OUTBOX_DIR: process.env.EMAIL_OUTBOX_DIR ?? mkdtempSync(join(tmpdir(), 'paymesh-mail-')),
    // Every answer the suite receives is checked against the API document (check-responses.ts).
    CHECK_RESPONSES: process.env.CHECK_RESPONSES ?? 'on',
    DATABASE_URL: undefined,
    NATS_URL: undefined,
    ...overrides,
  };
}

/**
 * SERVICE_CLIENTS and each service's <NAME>_SERVICE_CLIENT_SECRET for secrets a test chose (to
 * call the token endpoint as a service): the launcher keeps them instead of making its own.
 */
export function serviceClientsEnv(secrets: Readonly<Partial<Record<Exclude<ServiceName, 'auth'>, string>>>): TestEnv {
  const entries = Object.entries(secrets) as [string, string][];
  return {
    SERVICE_CLIENTS: entries.map(([name, secret]) => `${name}-service:${secret}`).join(','),
    ...Object.fromEntries(entries.map(([name, secret]) => [`${name.toUpperCase()}_SERVICE_CLIENT_SECRET`, secret])),
  };
}

/** The secrets the harness knows (the admin password, the service clients' secrets): none may reach a log. */
function knownSecrets(env: Record<string, string | undefined>): string[] {
  const clientSecrets = (env.SERVICE_CLIENTS ?? '').split(',').map((pair) => pair.slice(pair.indexOf(':') + 1));
  return [adminPassword, ...clientSecrets].filter((secret) => secret.length >= 8);
}

/** Fails the test file (from its `after`) when a secret reached a log; says where, never what. */
function assertNoSecretsLogged(logs: (service: ServiceName | 'gateway') => string, secrets: readonly string[]): void {
  const findings = [...serviceNames, 'gateway' as const].flatMap((service) => findSecretsInLogs(service, logs(service), secrets));
  if (findings.length > 0) throw new Error(`secrets reached the logs:\n${findings.join('\n')}`);
}

/**
 * `captureLogs`: the services log at level info into memory, read by `logs`. Otherwise they log
 * warnings and errors only (cheap), still into memory: every platform's logs are scanned for
 * secrets when it stops (log-scan.ts).
 */
/**
 * `clock`: the services' time (token expiry, stream ends, lockouts) from a SkewedClock the test
 * moves forward (`clock.advance(ms)`) instead of waiting; the system's clock otherwise.
 */
/** `dataRoot`: PGlite data on disk there (tests of restarts and data folders) instead of in memory. */
export async function startTestPlatform(backend: Backend = 'pglite', options: { captureLogs?: boolean; env?: TestEnv; clock?: Clock; dataRoot?: string } = {}): Promise<TestPlatform> {
  const databases = backend === 'postgres' ? await createDatabases() : undefined;
  const logged = new Map<ServiceName | 'gateway', string[]>();
  const logTo = (service: ServiceName | 'gateway') => {
    const lines = logged.get(service) ?? [];
    logged.set(service, lines);
    return { write: (line: string) => void lines.push(line) };
  };
  const logsOf = (service: ServiceName | 'gateway') => (logged.get(service) ?? []).join('');
  // Stopping a test platform waits for no late request: the gateway and services close at once
  // instead of holding their listeners open for the drain (tests of the drain start their own).
  const env = runSecrets(testEnv({ SHUTDOWN_DRAIN_MS: '0', ...options.env }));
  const embedded = await retryOnPortTaken(() => startEmbedded({ env, ports: 'random', dataRoot: options.dataRoot ?? 'memory://', databaseUrls: databases?.urls, logTo, logLevel: options.captureLogs === true ? 'info' : 'warn', clock: options.clock }));
  return {
    gatewayUrl: embedded.gatewayUrl,
    embedded,
    api: new Api(embedded.gatewayUrl),
    logs: options.captureLogs === true ? logsOf : undefined,
    databaseUrls: databases?.urls,
    async confirmEmail(userId) {
      await embedded.services.users.runtime.database.db.execute(sql`update users set email_verified_at = now() where id = ${String(userId)}`);
    },
    service: (name) => embedded.services[name],
    settle: (settleOptions = {}) => settleOutboxes(embedded, settleOptions.timeoutMs ?? 10_000),
    async stop() {
      await embedded.stop();
      await databases?.drop();
      assertNoSecretsLogged(logsOf, knownSecrets(env));
    },
  };
}

/** A user as `Api.signUp` returns them. */
export type SignedUpUser = Awaited<ReturnType<Api['signUp']>>;

/** What `suitePlatform` returns: its fields are set in the suite's `before`. */
export type SuitePlatform<U extends string = never> = {
  readonly platform: TestPlatform;
  /** The database of the service named by `options.db` (not set when none is named). */
  readonly db: Db;
  readonly adminToken: string;
} & { readonly [name in U]: SignedUpUser };

/**
 * The usual platform of a `describe`, on one backend. Call it in the describe's body: it registers
 * a `before` that starts the platform (`startTestPlatform`, with `options.env`), reads the database of the service
 * `options.db`, logs the admin in, then signs up `options.users` one after another in the order
 * given (so their ids follow that order), and an `after` that stops the platform. The fields of
 * the object it returns are set by that `before`: read them in hooks and tests, not while the
 * suite is being defined.
 *
 *   const suite = suitePlatform(backend, { db: 'payments', users: ['alice', 'bob'] });
 *   test('…', async () => { await suite.platform.api.call('GET', '/wallet', { token: suite.alice.token }); });
 */
export function suitePlatform<const U extends string = never>(backend: Backend, options: { db?: ServiceName; users?: readonly U[]; env?: TestEnv | (() => TestEnv) } = {}): SuitePlatform<U> {
  const users = options.users ?? [];
  for (const name of users) {
    if (name === 'platform' || name === 'db' || name === 'adminToken') throw new Error(`suitePlatform: a user may not be called ${name}`);
  }
  const suite: Record<string, unknown> = {};
  before(async () => {
    // A function when the configuration exists only once an earlier hook ran (an SMTP sink's URL).
    const env = typeof options.env === 'function' ? options.env() : options.env;
    const platform = await startTestPlatform(backend, { env });
    suite.platform = platform;
    if (options.db !== undefined) suite.db = platform.embedded!.services[options.db].runtime.database.db;
    suite.adminToken = await platform.api.adminToken();
    for (const name of users) suite[name] = await platform.api.signUp();
  });
  after(async () => {
    await (suite.platform as TestPlatform | undefined)?.stop();
  });
  return suite as SuitePlatform<U>;
}

export interface DistributedTestOptions {
  /** The services reach PostgreSQL through this proxy (tests of database faults). */
  readonly databaseProxy?: FaultProxy;
  /** The services reach NATS through this proxy (tests of broker faults). */
  readonly natsProxy?: FaultProxy;
  /** Extra environment for every process. */
  readonly env?: TestEnv;
  /** Where the processes log (`<dir>/<service>.log`), for tests that read it before start-up ends. */
  readonly logDir?: string;
}

/** Every service its own process, PostgreSQL databases of their own, events over NATS. */
export async function startDistributedTestPlatform(options: DistributedTestOptions = {}): Promise<TestPlatform> {
  if (testNatsUrl === undefined) throw new Error('TEST_NATS_URL is not set');
  const databases = await createDatabases();
  const stream = `T${randomBytes(4).toString('hex').toUpperCase()}`;
  const logDir = options.logDir ?? mkdtempSync(join(tmpdir(), 'paymesh-logs-'));
  const databaseUrls = { ...databases.urls };
  if (options.databaseProxy !== undefined) for (const name of serviceNames) databaseUrls[name] = options.databaseProxy.rewrite(databases.urls[name]);
  const natsUrl = options.natsProxy === undefined ? testNatsUrl : options.natsProxy.rewrite(testNatsUrl);
  const env = runSecrets(testEnv({ LOG_LEVEL: 'info', ...options.env }));
  const platform = await startDistributed({ env, databaseUrls, natsUrl, natsStream: stream, ports: 'random', logDir });
  return {
    gatewayUrl: platform.gatewayUrl,
    embedded: undefined,
    processes: platform.processes,
    serviceUrl: (service) => `http://127.0.0.1:${platform.plan.http[service]}`,
    api: new Api(platform.gatewayUrl),
    logs: (service) => readFileSync(join(logDir, `${service}.log`), 'utf8'),
    databaseUrls: databases.urls,
    service: noServiceHere,
    async confirmEmail(userId) {
      const client = new pg.Client({ connectionString: databases.urls.users });
      await client.connect();
      try {
        await client.query('update users set email_verified_at = now() where id = $1', [String(userId)]);
      } finally {
        await client.end();
      }
    },
    async settle() {
      // Consumers across NATS say nothing of being idle: distributed tests wait for what they expect.
      throw new Error('settle() needs the embedded platform');
    },
    async stop() {
      await platform.stop();
      await databases.drop();
      await deleteStreams(testNatsUrl, [stream]);
      const logFile = (service: string) => join(logDir, `${service}.log`);
      assertNoSecretsLogged((service) => (existsSync(logFile(service)) ? readFileSync(logFile(service), 'utf8') : ''), knownSecrets(env));
    },
  };
}

export interface ApiResponse<T = any> {
  readonly status: number;
  readonly body: T;
  readonly headers: Headers;
}

/**
 * How long a request may go unanswered before the test fails instead of hanging. Not a speed
 * bound: 200 requests raced at once on a loaded two-core machine queue behind one another for
 * well over 15 s, and are right. Pass `timeoutMs` to a call that means a bound of its own.
 */
const unansweredAfterMs = 120_000;

/** A small HTTP client for tests: JSON by default, form-encoded on request, bearer optional. */
export class Api {
  readonly baseUrl: string;

  constructor(baseUrl: string) {
    this.baseUrl = baseUrl;
  }

  async call<T = any>(method: string, path: string, options: { token?: string; json?: unknown; form?: Record<string, string>; headers?: Record<string, string>; timeoutMs?: number } = {}): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
    let body: string | undefined;
    if (options.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = typeof options.json === 'string' ? options.json : JSON.stringify(options.json);
    } else if (options.form !== undefined) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(options.form).toString();
    }
    const response = await fetch(this.baseUrl + path, { method, headers, body, signal: AbortSignal.timeout(options.timeoutMs ?? unansweredAfterMs) });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    return { status: response.status, body: parsed as T, headers: response.headers };
  }

  /** Registers a user and logs them in; returns their id and token. */
  async signUp(username = `u${randomBytes(5).toString('hex')}`, password = `pw-${randomBytes(8).toString('hex')}`): Promise<{ id: number; token: string; username: string; password: string }> {
    const created = await this.call('POST', '/users', { json: { username, email: `${username}@example.com`, password } });
    if (created.status !== 202) throw new Error(`sign-up failed: ${created.status} ${JSON.stringify(created.body)}`);
    // Registration does not say which account it created (a taken address answers the same way).
    const token = await this.login(username, password);
    const me = await this.call('GET', '/users/me', { token });
    if (me.status !== 200) throw new Error(`sign-up: GET /users/me answered ${me.status}`);
    return { id: me.body.id, token, username, password };
  }

  async login(username: string, password: string): Promise<string> {
    const response = await this.call('POST', '/auth/login', { json: { username, password } });
    if (response.status !== 200) throw new Error(`login failed: ${response.status} ${JSON.stringify(response.body)}`);
    return response.body.token;
  }

  adminToken(): Promise<string> {
    return this.login('admin', adminPassword);
  }
}

/** Polls `probe` until it returns a value (not undefined) or the time is up. */
export async function eventually<T>(probe: () => Promise<T | undefined>, options: { timeoutMs?: number; intervalMs?: number } = {}): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 5_000);
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 25));
  }
}

/**
 * Test files run side by side, and a port found free can be taken by another file before this
 * one binds it: the start (which closed whatever it had opened) is tried again on a new plan.
 */
async function retryOnPortTaken<T>(start: () => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (error) {
      if ((error as { code?: string }).code !== 'EADDRINUSE' || attempt >= attempts) throw error;
    }
  }
}
