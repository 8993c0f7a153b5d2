// The manifest-driven launch: the rendered production overlay's five Deployments started with
// podman as a kubelet would (podman-run.ts), against the machine's PostgreSQL and NATS, each probe
// polled as the manifest names it, the contract flow run through the gateway, then every container
// stopped with SIGTERM and required to exit 0. Needs podman, the images (`npm run images`) and
// TEST_DATABASE_URL / TEST_NATS_URL; REQUIRE_IMAGES=1 makes their absence a failure.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, connect, type Socket } from 'node:net';
import { test } from 'node:test';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect as natsConnect } from '@nats-io/transport-node';
import { testDatabaseUrl, testNatsUrl } from '@paymesh/app/testing';
import { dropDatabase, ensureDatabase } from '@paymesh/platform/db/ensure-database';
import { launchPods, podman, type PodmanOptions } from './kubernetes/podman-launch.ts';
import { podmanRunSpecs } from './kubernetes/podman-run.ts';
import { kubectlMissing, renderOverlay } from './kubernetes/render.ts';
import { testSecrets } from './kubernetes/test-secrets.ts';
import { podmanEnv } from '../../scripts/images/podman.ts';

const parts = ['auth', 'users', 'payments', 'notifications', 'gateway'] as const;
const services = ['auth', 'users', 'payments', 'notifications'] as const;
const localImage = (part: string) => `localhost/paymesh-${part}:latest`;

async function missingReason(): Promise<string | false> {
  const kubectl = await kubectlMissing();
  if (kubectl !== false) return kubectl;
  if (testDatabaseUrl === undefined || testNatsUrl === undefined) return 'needs TEST_DATABASE_URL and TEST_NATS_URL';
  try {
    for (const part of parts) if ((await podman(['image', 'exists', localImage(part)])).code !== 0) return `image ${localImage(part)} is missing (npm run images builds it)`;
  } catch {
    return 'podman is not installed';
  }
  return false;
}

const missing = await missingReason();
if (missing !== false && process.env.REQUIRE_IMAGES === '1') throw new Error(`REQUIRE_IMAGES=1 but ${missing}`);

/** This host's podman needs runc and ulimits within the process's own: the images scripts' settings. */
async function podmanOptions(): Promise<PodmanOptions> {
  return { env: await podmanEnv() };
}

/**
 * The machine's PostgreSQL and NATS listen on loopback, which containers cannot reach: a TCP relay
 * on a port of ours (19000–19999) forwards to them, for connections from the launch's network only.
 */
/**
 * A TCP relay from the pods' network to a server on the host. Closing it cuts the connections it
 * carries: a pod that is gone (its network removed) never closes its side, and a server's close
 * would wait for it until TCP gives up, many minutes later.
 */
async function relay(port: number, target: URL, subnetPrefix: string): Promise<{ close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    if (!(socket.remoteAddress ?? '').replace(/^::ffff:/, '').startsWith(subnetPrefix)) return socket.destroy();
    const upstream = connect(Number(target.port), target.hostname);
    for (const s of [socket, upstream]) {
      sockets.add(s);
      s.once('close', () => sockets.delete(s));
    }
    socket.pipe(upstream).pipe(socket);
    upstream.on('error', () => socket.destroy());
    socket.on('error', () => upstream.destroy());
  });
  await new Promise<void>((done) => server.listen(port, '0.0.0.0', done));
  return {
    close: () => new Promise<void>((done) => {
      server.close(() => done());
      for (const socket of sockets) socket.destroy();
    }),
  };
}

test('the production overlay launched on podman as a kubelet would: probes pass, the contract flow works, SIGTERM exits 0', { skip: missing, timeout: 300_000 }, async () => {
  const options = await podmanOptions();
  const suffix = `${process.pid}${randomBytes(2).toString('hex')}`;
  const network = `paymesh-k8s-${suffix}`;
  const stream = `K8SLAUNCH${suffix.toUpperCase()}`;
  const databases = Object.fromEntries(services.map((s) => [s, `k8s_launch_${s}_${suffix}`])) as Record<(typeof services)[number], string>;
  const relays: { close: () => Promise<void> }[] = [];
  let pods: Awaited<ReturnType<typeof launchPods>> | undefined;
  await podman(['network', 'create', '--subnet', '10.231.7.0/24', network], options);
  try {
    relays.push(await relay(19432, new URL(testDatabaseUrl!), '10.231.7.'), await relay(19422, new URL(testNatsUrl!), '10.231.7.'));
    for (const s of services) await ensureDatabase(testDatabaseUrl!, databases[s]);
    const database = new URL(testDatabaseUrl!);
    const databaseUrls = Object.fromEntries(services.map((s) => {
      const url = new URL(database);
      url.hostname = 'host.containers.internal';
      url.port = '19432';
      url.pathname = `/${databases[s]}`;
      return [s, url.toString()];
    })) as Record<(typeof services)[number], string>;
    const adminPassword = `Launch-${randomBytes(12).toString('base64url')}`;
    const secrets = testSecrets({ databaseUrls, natsUrl: 'nats://host.containers.internal:19422', adminPassword });
    const objects = await renderOverlay('production');
    // The stream name is a setting; a run of its own keeps the machine's NATS tidy.
    const settings = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('services-settings')) as unknown as { data: Record<string, string> };
    settings.data.NATS_STREAM = stream;
    const specs = podmanRunSpecs(objects, {
      secrets,
      network,
      containerPrefix: `k8s-${suffix}-`,
      images: Object.fromEntries(parts.map((p) => [`paymesh/${p}:0.1.0`, localImage(p)])),
      hostPorts: Object.fromEntries(parts.map((p, i) => [p, 19180 + i])),
    });
    // Services first, the gateway (whose readiness asks them) last.
    specs.sort((a, b) => Number(a.name === 'gateway') - Number(b.name === 'gateway'));
    pods = await launchPods(specs, options);

    const gateway = 'http://127.0.0.1:19184';
    const post = async (path: string, body: unknown, token?: string) => {
      const response = await fetch(`${gateway}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) }, body: JSON.stringify(body) });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };
    const username = `launch${suffix}`;
    const password = `Pw-${randomBytes(12).toString('base64url')}`;
    assert.deepEqual((await post('/users/create_user', { username, email: `${username}@example.com`, password })).body, { success: true, message: 'User created successfully' });
    const login = await post('/auth/login', { username, password });
    assert.equal(login.status, 200);
    const token = login.body.token as string;
    const me = (await (await fetch(`${gateway}/users/me`, { headers: { authorization: `Bearer ${token}` } })).json()) as { id: string | number };
    const paid = await post('/payments', { amount: 100.0, user_id: Number(me.id) }, token);
    assert.equal(paid.status, 200, JSON.stringify(paid.body));
    assert.equal(paid.body.message, `Payment of $100.00 received from user ${me.id}`);
    assert.equal((await post('/payments', { amount: 100.0, user_id: Number(me.id) })).status, 401);

    const codes = await pods.stop();
    pods = undefined;
    assert.deepEqual(codes, Object.fromEntries(parts.map((p) => [p, 0])));
  } finally {
    await pods?.stop().catch(() => undefined);
    for (const r of relays) await r.close();
    await podman(['network', 'rm', '--force', network], options);
    for (const s of services) await dropDatabase(testDatabaseUrl!, databases[s]).catch(() => undefined);
    const nats = await natsConnect({ servers: testNatsUrl! });
    await (await jetstreamManager(nats)).streams.delete(stream).catch(() => false);
    await nats.close();
  }
});
