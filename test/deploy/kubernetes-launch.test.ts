// The manifest-driven launch's translation (kubernetes/podman-run.ts), on the rendered production
// overlay: each Deployment's container becomes the `podman run` a kubelet's work amounts to, with
// everything the manifest says and nothing it does not. Starting the containers needs the images
// (`npm run images`) and podman: that part is not here yet (docs/deploy.md says what is left).
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { describeOrSkip } from '@paymesh/platform/testing/describe-or-skip';
import { EnvError, secretReferences } from './kubernetes/pod-env.ts';
import { platformWorkloads } from './kubernetes/policies.ts';
import { envFileText, podmanRunSpecs, RunSpecError, type RunOptions, type RunSpec } from './kubernetes/podman-run.ts';
import { kubectlMissing, renderOverlay, type K8sObject } from './kubernetes/render.ts';
import { offlineTestSecrets } from './kubernetes/test-secrets.ts';

const missing = await kubectlMissing();
if (missing !== false && process.env.REQUIRE_KUBECTL === '1') throw new Error(`REQUIRE_KUBECTL=1 but ${missing}`);

const parts = ['auth', 'users', 'payments', 'notifications', 'gateway'];
const hostPorts = Object.fromEntries(parts.map((part, i) => [part, 19100 + i]));
const images = Object.fromEntries(parts.map((part) => [`paymesh/${part}:0.1.0`, `localhost/paymesh-${part}:latest`]));

describeOrSkip('manifest-driven launch: manifests → podman run', missing, () => {
  let objects: K8sObject[];
  let options: RunOptions;
  let specs: RunSpec[];
  const spec = (name: string) => specs.find((s) => s.name === name)!;
  const flag = (s: RunSpec, name: string) => s.args.flatMap((arg, i) => (arg === name ? [s.args[i + 1]!] : []));

  before(async () => {
    objects = await renderOverlay('production');
    options = { secrets: offlineTestSecrets(), images, network: 'paymesh-k8s', hostPorts };
    specs = podmanRunSpecs(objects, options);
  });

  test('one container per Deployment, its image mapped as kustomize edit set image would', () => {
    assert.deepEqual(specs.map((s) => s.name).sort(), [...parts].sort());
    for (const part of parts) {
      assert.equal(spec(part).image, `localhost/paymesh-${part}:latest`);
      // The image comes last but for the container's args (none: the image's own command runs).
      assert.equal(spec(part).args.at(-1), `localhost/paymesh-${part}:latest`);
      assert.deepEqual(flag(spec(part), '--entrypoint'), []);
    }
  });

  test('hardened as the securityContext says: numeric user, read-only root, no capabilities, no new privileges', () => {
    for (const s of specs) {
      assert.deepEqual(flag(s, '--user'), ['10001:10001'], s.name);
      assert.ok(s.args.includes('--read-only'), s.name);
      assert.deepEqual(flag(s, '--cap-drop'), ['ALL'], s.name);
      assert.deepEqual(flag(s, '--cap-add'), [], s.name);
      assert.deepEqual(flag(s, '--security-opt'), ['no-new-privileges'], s.name);
      assert.deepEqual(flag(s, '--tmpfs'), ['/tmp:rw,U,mode=1777,size=65536k'], s.name);
    }
  });

  test('Service names resolve to their pods, and only the probed port is published, on loopback', () => {
    for (const s of specs) {
      assert.deepEqual(flag(s, '--network'), ['paymesh-k8s']);
      assert.deepEqual(flag(s, '--network-alias'), [s.name]);
    }
    assert.deepEqual(flag(spec('payments'), '--publish'), [`127.0.0.1:${hostPorts.payments}:3003`]);
    assert.deepEqual(flag(spec('gateway'), '--publish'), [`127.0.0.1:${hostPorts.gateway}:8080`]);
  });

  test('the environment is the ConfigMaps and the Secrets resolved, the Secret values exactly', () => {
    for (const { part, workload } of platformWorkloads(objects)) {
      const env = spec(part).env;
      assert.equal(env.HOST, '0.0.0.0');
      assert.equal(env.AUTH_URL, 'http://auth:3001');
      for (const ref of secretReferences([workload])) {
        assert.equal(env[ref.env], options.secrets[ref.name]?.[ref.key], `${part} ${ref.env}`);
      }
    }
    assert.equal(spec('payments').env.USERS_URL, 'http://users:3002');
    assert.equal(spec('gateway').env.PORT, '8080');
    assert.match(envFileText(spec('users').env), /^BOOTSTRAP_ADMIN_PASSWORD=Admin-/m);
  });

  test('probes are polled as the manifest names them, stop as the pod stops', () => {
    const probes = spec('users').probes;
    assert.deepEqual(probes.map((p) => [p.kind, p.url, p.periodMs, p.failureThreshold]), [
      ['startup', `http://127.0.0.1:${hostPorts.users}/healthz`, 2000, 45],
      ['readiness', `http://127.0.0.1:${hostPorts.users}/readyz`, 5000, 2],
      ['liveness', `http://127.0.0.1:${hostPorts.users}/healthz`, 10000, 3],
    ]);
    assert.equal(spec('users').preStopSleepSec, 5);
    assert.deepEqual(flag(spec('users'), '--stop-timeout'), ['30']);
    assert.deepEqual(flag(spec('users'), '--stop-signal'), ['SIGTERM']);
  });

  test('a Secret the operator forgot stops the launch with what is missing, as it keeps a pod from starting', () => {
    const secrets = structuredClone(options.secrets);
    delete secrets['paymesh-payments']!.PAYMENTS_FINGERPRINT_KEY;
    assert.throws(() => podmanRunSpecs(objects, { ...options, secrets }), (error: unknown) => error instanceof EnvError && /paymesh-payments has no key PAYMENTS_FINGERPRINT_KEY/.test(error.message));
  });

  test('what this launch cannot do as a kubelet would is refused, not skipped', () => {
    const broken = structuredClone(objects);
    const deployment = broken.find((o) => o.kind === 'Deployment' && o.metadata.name === 'auth') as K8sObject & { spec: { template: { spec: { volumes: unknown[] } } } };
    deployment.spec.template.spec.volumes = [{ name: 'tmp', configMap: { name: 'auth-settings' } }];
    assert.throws(() => podmanRunSpecs(broken, options), RunSpecError);
  });
});
