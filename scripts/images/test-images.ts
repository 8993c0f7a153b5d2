// The test-only stand-ins for the official postgres and nats images (deploy/test-images/README.md),
// which the compose test runs because no registry is reachable here. Built once, then kept.
import { resolve } from 'node:path';
import { localBaseImage } from './local-base.ts';
import { imageExists, podman } from './podman.ts';

const folder = resolve(import.meta.dirname, '../../deploy/test-images');

export const testImages = {
  postgres: { name: 'localhost/paymesh-test-postgres:15', file: 'postgres.Containerfile' },
  nats: { name: 'localhost/paymesh-test-nats:2.9', file: 'nats.Containerfile' },
} as const;

export async function buildTestImages(options: { log: (line: string) => void; rebuild?: boolean }): Promise<void> {
  for (const { name, file } of Object.values(testImages)) {
    if (options.rebuild !== true && (await imageExists(name))) {
      options.log(`${name}: present, kept`);
      continue;
    }
    const started = performance.now();
    await podman(['build', '--pull=never', '--runtime', 'runc', '--file', resolve(folder, file), '--build-arg', `BASE_IMAGE=${localBaseImage}`, '--tag', name, folder], { timeoutMs: 15 * 60_000 });
    options.log(`${name}: built in ${((performance.now() - started) / 1000).toFixed(1)} s (test only)`);
  }
}
