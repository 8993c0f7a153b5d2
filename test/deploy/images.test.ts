// The five service images run the way a hardened runtime (Kubernetes' restricted profile) runs
// them: numeric non-root user, read-only root file system with no tmpfs but the one a service
// needs, no capabilities, no privilege gains. Each must start against the machine's PostgreSQL
// and NATS, answer its probes, and exit 0 on SIGTERM. Needs podman and `npm run images`; skipped
// with the reason otherwise, unless REQUIRE_IMAGES=1 (.ci/run). Prints the figures of
// docs/deploy.md ("Figures: images and compose"): size, start-to-ready, resident memory.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { dropDatabase, ensureDatabase } from '@paymesh/platform/db/ensure-database';
import { describeOrSkip } from '@paymesh/platform/testing/describe-or-skip';
import { podman, runCommand } from '../../scripts/images/podman.ts';
import { imageMetadata, imageServices, serviceImage, type ImageService } from '../../scripts/images/service-images.ts';
import { inspect, pid1Command, pid1Status, residentMiB, skipWithoutImages, waitFor200 } from './podman-harness.ts';

const databaseUrl = process.env.TEST_DATABASE_URL;
const natsUrl = process.env.TEST_NATS_URL;
const skip = await skipWithoutImages(imageServices.map(serviceImage), databaseUrl === undefined || natsUrl === undefined ? 'needs TEST_DATABASE_URL and TEST_NATS_URL: the containers use the machine\'s PostgreSQL and NATS' : false);

const maxImageBytes = 250 * 1000 * 1000;
const suffix = randomBytes(3).toString('hex');
const stream = `IMG${suffix.toUpperCase()}`;
// On the host's network (the machine's PostgreSQL and NATS listen on loopback), ports of this part.
const ports: Record<ImageService, { http: number; metrics: number }> = {
  gateway: { http: 18100, metrics: 18110 },
  auth: { http: 18101, metrics: 18111 },
  users: { http: 18102, metrics: 18112 },
  payments: { http: 18103, metrics: 18113 },
  notifications: { http: 18104, metrics: 18114 },
};
const startOrder: readonly ImageService[] = ['auth', 'users', 'payments', 'notifications', 'gateway'];
const container = (service: ImageService) => `paymesh-imgtest-${service}-${suffix}`;
const url = (service: ImageService, path: string) => `http://127.0.0.1:${ports[service].http}${path}`;
const databaseName = (service: Exclude<ImageService, 'gateway'>) => `img_${service}_${suffix}`;
const secret = () => randomBytes(24).toString('hex');
const adminPassword = `admin-${secret()}`;

/** What each service is given, as app/src/ports.ts gives it to the processes of distributed mode. */
function environment(service: ImageService, databaseUrls: Record<Exclude<ImageService, 'gateway'>, string>, clients: Record<'users' | 'payments' | 'notifications', string>): Record<string, string> {
  const shared = {
    HOST: '127.0.0.1',
    HTTP_PORT: String(ports[service].http),
    METRICS_PORT: String(ports[service].metrics),
    AUTH_URL: url('auth', ''),
    USERS_URL: url('users', ''),
    PAYMENTS_URL: url('payments', ''),
    NOTIFICATIONS_URL: url('notifications', ''),
    AUTH_ISSUER: `http://localhost:${ports.gateway.http}/auth`,
    PUBLIC_URL: `http://localhost:${ports.gateway.http}`,
    LOG_LEVEL: 'warn',
  };
  if (service === 'gateway') return { ...shared, PORT: String(ports.gateway.http) };
  const backing = { DATABASE_URL: databaseUrls[service], NATS_URL: natsUrl!, NATS_STREAM: stream };
  switch (service) {
    // No SERVICE_CLIENT_SECRET: auth mints its own tokens, and must not need one to start read-only.
    case 'auth':
      return { ...shared, ...backing, SERVICE_CLIENTS: Object.entries(clients).map(([name, value]) => `${name}-service:${value}`).join(','), COOKIE_KEYS: secret() };
    case 'users':
      return { ...shared, ...backing, SERVICE_CLIENT_SECRET: clients.users, BOOTSTRAP_ADMIN_PASSWORD: adminPassword };
    case 'payments':
      return { ...shared, ...backing, SERVICE_CLIENT_SECRET: clients.payments, PAYMENTS_FINGERPRINT_KEY: secret() };
    case 'notifications':
      return { ...shared, ...backing, SERVICE_CLIENT_SECRET: clients.notifications, EMAIL_OUTBOX_DIR: '/var/lib/paymesh/mail' };
  }
}

describeOrSkip('the service images, run hardened', skip, () => {
  const figures = new Map<ImageService, { sizeMB: number; readyMs: number; rssMiB?: number; stopMs?: number }>();
  const scratch = mkdtempSync(join(tmpdir(), 'paymesh-imgtest-'));
  const started: ImageService[] = [];

  before(async () => {
    const databaseUrls = {} as Record<Exclude<ImageService, 'gateway'>, string>;
    for (const service of ['auth', 'users', 'payments', 'notifications'] as const) databaseUrls[service] = await ensureDatabase(databaseUrl!, databaseName(service));
    const clients = { users: secret(), payments: secret(), notifications: secret() };
    // One at a time, each until ready: start-to-ready of one container, not of five on two cores.
    for (const service of startOrder) {
      const envFile = join(scratch, `${service}.env`);
      writeFileSync(envFile, Object.entries(environment(service, databaseUrls, clients)).map(([k, v]) => `${k}=${v}`).join('\n') + '\n', { mode: 0o600 });
      const began = performance.now();
      await podman([
        'run', '--detach', '--name', container(service), '--network', 'host', '--env-file', envFile,
        '--read-only', '--read-only-tmpfs=false', '--cap-drop', 'ALL', '--security-opt', 'no-new-privileges',
        // The one service that writes (its mail outbox without SMTP_URL): a tmpfs owned by its user.
        ...(service === 'notifications' ? ['--tmpfs', '/var/lib/paymesh:rw,U,mode=0700'] : []),
        serviceImage(service),
      ]);
      started.push(service);
      const alive = async () => (await inspect('container', container(service))).State.Running === true;
      await waitFor200(url(service, '/readyz'), 60_000, alive);
      figures.set(service, { sizeMB: 0, readyMs: Math.round(performance.now() - began) });
    }
  });

  after(async () => {
    for (const service of started) await runCommand('podman', ['rm', '--force', '--time', '0', container(service)]);
    for (const service of ['auth', 'users', 'payments', 'notifications'] as const) await dropDatabase(databaseUrl!, databaseName(service)).catch(() => {});
    const { connect } = await import('@nats-io/transport-node');
    const { jetstreamManager } = await import('@nats-io/jetstream');
    const nc = await connect({ servers: natsUrl });
    await (await jetstreamManager(nc)).streams.delete(stream).catch(() => false);
    await nc.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  test('every image is at most 250 MB and carries the OCI labels of this checkout', async () => {
    for (const service of imageServices) {
      const image = await inspect('image', serviceImage(service));
      figures.get(service)!.sizeMB = Math.round(image.Size / 1e6);
      assert.ok(image.Size <= maxImageBytes, `${service}: ${Math.round(image.Size / 1e6)} MB is over 250 MB`);
      const labels = image.Config.Labels as Record<string, string>;
      const expected = await imageMetadata(service);
      assert.equal(labels['org.opencontainers.image.version'], expected.version, `${service}: version`);
      assert.equal(labels['org.opencontainers.image.revision']?.replace(/-dirty$/, ''), expected.revision.replace(/-dirty$/, ''), `${service}: revision (run npm run images after a commit)`);
      assert.equal(labels['org.opencontainers.image.source'], expected.source, `${service}: source`);
      assert.equal(labels['org.opencontainers.image.title'], `paymesh-${service}`);
      assert.equal(labels['org.opencontainers.image.licenses'], 'Apache-2.0', `${service}: licence`);
    }
  });

  test('every service runs node as PID 1, as the numeric user 10001, without capabilities or privilege gains', async () => {
    for (const service of imageServices) {
      assert.equal((await inspect('image', serviceImage(service))).Config.User, '10001:10001', `${service}: the image's user`);
      assert.deepEqual(await pid1Command(container(service)), ['node', 'src/main.ts'], `${service}: PID 1`);
      const status = await pid1Status(container(service));
      assert.equal(status.Uid, '10001\t10001\t10001\t10001', `${service}: uid`);
      assert.equal(status.Gid, '10001\t10001\t10001\t10001', `${service}: gid`);
      assert.equal(status.CapEff, '0000000000000000', `${service}: effective capabilities`);
      assert.equal(status.CapBnd, '0000000000000000', `${service}: bounding set`);
      assert.equal(status.NoNewPrivs, '1', `${service}: no_new_privs`);
    }
  });

  test('the root file system is read-only: only the tmpfs given to notifications can be written', async () => {
    for (const service of imageServices) {
      for (const path of ['/app/written', '/tmp/written', '/var/lib/paymesh/written']) {
        const result = await runCommand('podman', ['exec', container(service), 'sh', '-c', `: > ${path}`]);
        if (service === 'notifications' && path.startsWith('/var/lib/paymesh/')) assert.equal(result.code, 0, `${service} writes ${path}: ${result.stderr}`);
        else assert.match(result.stderr, /Read-only file system/, `${service} must not write ${path} (exit ${result.code})`);
      }
    }
  });

  test('each service answers its probes, and a login through the gateway reaches auth and users', async () => {
    for (const service of imageServices) {
      assert.equal((await fetch(url(service, '/healthz'))).status, 200, `${service} /healthz`);
      assert.equal((await fetch(url(service, '/readyz'))).status, 200, `${service} /readyz`);
      const metrics = await fetch(`http://127.0.0.1:${ports[service].metrics}/metrics`);
      assert.equal(metrics.status, 200, `${service} /metrics`);
    }
    // argon2 (a native module) in the users image, the service token auth mints, the gateway's routing.
    const login = await fetch(url('gateway', '/auth/login'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: adminPassword }) });
    assert.equal(login.status, 200, await login.clone().text());
    assert.match(((await login.json()) as { token: string }).token, /^[\w-]+\.[\w-]+\.[\w-]+$/);
  });

  test('SIGTERM: every service drains and exits 0', async (t) => {
    for (const service of imageServices) figures.get(service)!.rssMiB = await residentMiB(container(service));
    for (const service of [...startOrder].reverse()) {
      const began = performance.now();
      await podman(['stop', '--time', '30', container(service)]);
      figures.get(service)!.stopMs = Math.round(performance.now() - began);
      const state = (await inspect('container', container(service))).State;
      assert.equal(state.ExitCode, 0, `${service} exited with ${state.ExitCode}: ${(await runCommand('podman', ['logs', '--tail', '20', container(service)])).stderr}`);
    }
    t.diagnostic('image        size MB  start-to-ready ms  RSS MiB  SIGTERM-to-exit ms');
    for (const [service, f] of figures) t.diagnostic(`${service.padEnd(13)}${String(f.sizeMB).padStart(7)}${String(f.readyMs).padStart(19)}${String(f.rssMiB).padStart(9)}${String(f.stopMs).padStart(20)}`);
  });
});
