// deploy/compose.yaml brought up by podman-compose as a user would (their deploy/.env, fresh
// secrets), with the test-only PostgreSQL and NATS stand-ins in place of the official images
// (deploy/test-images/README.md): every container running and healthy, the Paymesh ones hardened,
// the contract flow through the published gateway, SIGTERM → exit 0, then down with nothing left.
// Needs podman, podman-compose and `npm run images -- --test-images`; skipped with the reason
// otherwise, unless REQUIRE_IMAGES=1 (.ci/run). Prints the figures of docs/deploy.md.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { eventually } from '@paymesh/app/testing';
import { describeOrSkip } from '@paymesh/platform/testing/describe-or-skip';
import { hasCommand, podman, runCommand } from '../../scripts/images/podman.ts';
import { imageServices, serviceImage, type ImageService } from '../../scripts/images/service-images.ts';
import { testImages } from '../../scripts/images/test-images.ts';
import { imagesRequired, inspect, residentMiB, skipWithoutImages, waitFor200 } from './podman-harness.ts';

const deploy = resolve(import.meta.dirname, '../../deploy');
const noCompose = !(await hasCommand('podman-compose')) ? 'no podman-compose (apt-get install podman-compose)' : false;
if (noCompose !== false && imagesRequired) throw new Error(`REQUIRE_IMAGES=1 but ${noCompose}`);
const skip = noCompose || (await skipWithoutImages([...imageServices.map(serviceImage), testImages.postgres.name, testImages.nats.name]));

const suffix = randomBytes(3).toString('hex');
const project = `paymesh-composetest-${suffix}`;
const port = 18180;
const gateway = `http://127.0.0.1:${port}`;
const infrastructure = ['postgres', 'nats'] as const;
const containerOf = (service: string) => `${project}_${service}_1`;
const hex = () => randomBytes(24).toString('hex');

/** deploy/.env as a user writes it from compose.env.example: every secret its own value. */
function dotEnv(overrides: Record<string, string | undefined> = {}): string {
  const values: Record<string, string | undefined> = {
    PAYMESH_ADDRESS: '127.0.0.1', PAYMESH_PORT: String(port), PUBLIC_URL: `http://localhost:${port}`,
    PAYMESH_IMAGE_REPOSITORY: 'localhost', PAYMESH_IMAGE_TAG: 'latest',
    POSTGRES_IMAGE: testImages.postgres.name, NATS_IMAGE: testImages.nats.name,
    POSTGRES_PASSWORD: hex(), AUTH_DB_PASSWORD: hex(), USERS_DB_PASSWORD: hex(), PAYMENTS_DB_PASSWORD: hex(), NOTIFICATIONS_DB_PASSWORD: hex(),
    USERS_SERVICE_CLIENT_SECRET: hex(), PAYMENTS_SERVICE_CLIENT_SECRET: hex(), NOTIFICATIONS_SERVICE_CLIENT_SECRET: hex(),
    COOKIE_KEYS: hex(), PAYMENTS_FINGERPRINT_KEY: hex(),
    BOOTSTRAP_ADMIN_USERNAME: 'admin', BOOTSTRAP_ADMIN_PASSWORD: `admin-${hex()}`,
    SMTP_URL: '', LOG_LEVEL: 'info',
    ...overrides,
  };
  return Object.entries(values).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${v}`).join('\n') + '\n';
}

/** A project folder like deploy/: the committed compose file and init script, and its own .env. */
function projectFolder(env: string): string {
  const folder = mkdtempSync(join(tmpdir(), 'paymesh-compose-'));
  cpSync(join(deploy, 'compose.yaml'), join(folder, 'compose.yaml'));
  cpSync(join(deploy, 'postgres'), join(folder, 'postgres'), { recursive: true });
  writeFileSync(join(folder, '.env'), env, { mode: 0o600 });
  return folder;
}

const compose = (folder: string, name: string, args: string[], timeoutMs = 180_000) => runCommand('podman-compose', ['--file', join(folder, 'compose.yaml'), '--project-name', name, ...args], { timeoutMs });

describeOrSkip('the compose stack (podman-compose, test-only PostgreSQL and NATS)', skip, () => {
  const folder = projectFolder(dotEnv());
  const figures: string[] = [];
  let upMs = 0;
  let readyMs = 0;

  before(async () => {
    const began = performance.now();
    const up = await compose(folder, project, ['up', '--detach', '--no-build']);
    upMs = performance.now() - began;
    assert.equal(up.code, 0, `podman-compose up: ${up.stdout.slice(-2000)}${up.stderr.slice(-2000)}`);
    await waitFor200(`${gateway}/readyz`, 120_000);
    readyMs = performance.now() - began;
  });

  after(async () => {
    // Whatever a failed test left: the project's containers, volumes and network.
    await compose(folder, project, ['down', '--volumes']);
    await runCommand('podman', ['network', 'rm', '--force', `${project}_default`]);
    rmSync(folder, { recursive: true, force: true });
  });

  test('every container is running, never restarted, and passes the health check compose gives it', async () => {
    for (const service of [...infrastructure, ...imageServices]) {
      const state = await inspect('container', containerOf(service));
      assert.equal(state.State.Status, 'running', `${service}: ${state.State.Status}`);
      // podman-compose exits 0 even when a container keeps failing: a restart means it did.
      assert.equal(state.RestartCount, 0, `${service} restarted ${state.RestartCount} times: ${(await runCommand('podman', ['logs', '--tail', '15', containerOf(service)])).stderr}`);
      // Without systemd podman runs no health check timers: each check is run here, once.
      const health = await eventually(async () => ((await runCommand('podman', ['healthcheck', 'run', containerOf(service)])).code === 0 ? true : undefined), { timeoutMs: 30_000, intervalMs: 1_000 });
      assert.equal(health, true);
    }
  });

  test('every Paymesh container is read-only, capability-free, non-root and without privilege gains; only the gateway is published', async () => {
    for (const service of imageServices) {
      const { HostConfig, Config, EffectiveCaps } = await inspect('container', containerOf(service));
      assert.equal(HostConfig.ReadonlyRootfs, true, `${service}: read-only root`);
      assert.equal(Config.User, '10001:10001', `${service}: user`);
      assert.deepEqual(EffectiveCaps ?? [], [], `${service}: capabilities`);
      assert.ok((HostConfig.SecurityOpt as string[]).some((o) => o.startsWith('no-new-privileges')), `${service}: no-new-privileges`);
      const published = Object.values((HostConfig.PortBindings ?? {}) as Record<string, unknown[] | null>).flat().filter(Boolean);
      assert.equal(published.length, service === 'gateway' ? 1 : 0, `${service}: published ports`);
    }
  });

  test('the contract flow through the gateway: create user, log in, pay, notified, read, log out', async () => {
    const call = async (method: string, path: string, options: { token?: string; json?: string; form?: Record<string, string> } = {}) => {
      const headers: Record<string, string> = {};
      if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
      if (options.json !== undefined) headers['content-type'] = 'application/json';
      if (options.form !== undefined) headers['content-type'] = 'application/x-www-form-urlencoded';
      const body = options.json ?? (options.form === undefined ? undefined : new URLSearchParams(options.form).toString());
      const response = await fetch(gateway + path, { method, headers, body, signal: AbortSignal.timeout(30_000) });
      const text = await response.text();
      return { status: response.status, body: text === '' ? undefined : JSON.parse(text) };
    };
    const alice = { username: `alice_${suffix}`, email: `alice_${suffix}@example.com`, password: 'alice-password-1' };
    assert.deepEqual((await call('POST', '/users/create_user', { form: alice })).body, { success: true, message: 'User created successfully' });
    const login = await call('POST', '/auth/login', { json: JSON.stringify({ username: alice.username, password: alice.password }) });
    assert.equal(login.status, 200);
    const token: string = login.body.token;
    const me = await call('GET', '/users/me', { token });
    assert.equal(me.status, 200);
    const payment = await call('POST', '/payments', { token, json: `{"amount": 100.00, "user_id": ${me.body.id}}` });
    assert.equal(payment.status, 200, JSON.stringify(payment.body));
    assert.equal(payment.body.message, `Payment of $100.00 received from user ${me.body.id}`);
    // Over NATS, from payments to notifications: the notification appears.
    const notification = await eventually(async () => {
      const list = await call('GET', '/notifications/', { token });
      return list.status === 200 && list.body.length > 0 ? list.body[0] : undefined;
    }, { timeoutMs: 15_000, intervalMs: 100 });
    assert.match(notification.message, /\$100\.00/);
    assert.deepEqual((await call('PUT', `/notifications/${notification.id}/`, { token })).body, { message: 'Notification marked as read.' });
    assert.equal((await call('POST', '/auth/logout', { token })).status, 200);
    // The revocation is broadcast over NATS to every service.
    await eventually(async () => ((await call('GET', '/payments', { token })).status === 401 ? true : undefined), { timeoutMs: 15_000, intervalMs: 100 });
    const refused = await call('GET', '/notifications/', { token });
    assert.equal(refused.status, 401);
    assert.equal(refused.body.message, 'Invalid token');
  });

  test('SIGTERM: every Paymesh service exits 0; down removes every container, volume and network', async (t) => {
    for (const service of [...imageServices, ...infrastructure]) figures.push(`${service.padEnd(14)} RSS ${String(await residentMiB(containerOf(service))).padStart(4)} MiB`);
    // podman-compose 1.0.3 stops with a 1 s timeout before it kills: the services get their 30 s here.
    const stopOrder: readonly ImageService[] = ['gateway', 'notifications', 'payments', 'users', 'auth'];
    for (const service of stopOrder) {
      await podman(['stop', '--time', '30', containerOf(service)]);
      const state = (await inspect('container', containerOf(service))).State;
      assert.equal(state.ExitCode, 0, `${service} exited with ${state.ExitCode}`);
    }
    const began = performance.now();
    const down = await compose(folder, project, ['down', '--volumes']);
    const downMs = performance.now() - began;
    assert.equal(down.code, 0, down.stderr.slice(-2000));
    // podman-compose 1.0.3 leaves the project's network behind: removed as docs/deploy.md says.
    await podman(['network', 'rm', `${project}_default`]);
    const left = async (kind: 'ps' | 'volume' | 'network') => (await podman(kind === 'ps' ? ['ps', '--all', '--quiet', '--filter', `label=io.podman.compose.project=${project}`] : [kind, 'ls', '--quiet', '--filter', `label=io.podman.compose.project=${project}`])).trim();
    assert.equal(await left('ps'), '', 'containers left');
    assert.equal(await left('volume'), '', 'volumes left');
    assert.equal(await left('network'), '', 'networks left');
    t.diagnostic(`podman-compose up ${(upMs / 1000).toFixed(1)} s, gateway ready ${(readyMs / 1000).toFixed(1)} s after up began, down (after the stops) ${(downMs / 1000).toFixed(1)} s`);
    for (const line of figures) t.diagnostic(line);
  });
});

describeOrSkip('the compose file and its secrets', noCompose, () => {
  test('a secret missing from deploy/.env stops podman-compose before anything starts, naming it', async () => {
    const folder = projectFolder(dotEnv({ COOKIE_KEYS: undefined }));
    try {
      const result = await compose(folder, `${project}-refused`, ['--dry-run', 'up', '--detach', '--no-build'], 60_000);
      assert.notEqual(result.code, 0);
      assert.match(result.stdout + result.stderr, /set COOKIE_KEYS in deploy\/\.env/);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
