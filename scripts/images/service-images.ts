// Building the service images from deploy/Containerfile with podman, from the local base and Node
// image, with the OCI labels of this checkout and the npm CA bundle as a build secret.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { localBaseImage } from './local-base.ts';
import { localNodeImage } from './node-image.ts';
import { podman, runCommand } from './podman.ts';

export const imageServices = ['auth', 'users', 'payments', 'notifications', 'gateway'] as const;
export type ImageService = (typeof imageServices)[number];

const repoRoot = resolve(import.meta.dirname, '../..');

/** The name `npm run images` gives a service's image, the one deploy/compose.yaml runs by default. */
export const serviceImage = (service: ImageService) => `localhost/paymesh-${service}:latest`;

async function git(args: string[]): Promise<string | undefined> {
  const result = await runCommand('git', ['-C', repoRoot, ...args]);
  return result.code === 0 ? result.stdout.trim() : undefined;
}

/** The OCI labels' values: the service's version, the commit (`-dirty` with local changes), the origin. */
export async function imageMetadata(service: ImageService): Promise<{ version: string; revision: string; source: string }> {
  const version = (JSON.parse(readFileSync(resolve(repoRoot, 'services', service, 'package.json'), 'utf8')) as { version: string }).version;
  const commit = (await git(['rev-parse', 'HEAD'])) ?? 'unknown';
  const dirty = ((await git(['status', '--porcelain', '--untracked-files=no'])) ?? '') !== '';
  const source = (await git(['remote', 'get-url', 'origin'])) ?? pathToFileURL(repoRoot).href;
  return { version, revision: dirty ? `${commit}-dirty` : commit, source };
}

/**
 * The CA bundle npm trusts here (npm's cafile, NODE_EXTRA_CA_CERTS, or Debian's bundle), handed to
 * the build as the secret npm_ca: never copied into a layer.
 */
export function npmCaFile(): string | undefined {
  const candidates = [process.env.NPM_CA_FILE, process.env.npm_config_cafile, process.env.NODE_EXTRA_CA_CERTS, '/etc/ssl/certs/ca-certificates.crt'];
  return candidates.find((file) => file !== undefined && file !== '' && existsSync(file));
}

export async function buildServiceImage(service: ImageService, options: { log: (line: string) => void; echo?: boolean }): Promise<void> {
  const { version, revision, source } = await imageMetadata(service);
  const ca = npmCaFile();
  const started = performance.now();
  await podman([
    'build', '--pull=never', '--runtime', 'runc', '--file', resolve(repoRoot, 'deploy/Containerfile'),
    '--build-arg', `SERVICE=${service}`,
    '--build-arg', `NODE_IMAGE=${localNodeImage}`,
    '--build-arg', `BASE_IMAGE=${localBaseImage}`,
    '--build-arg', `VERSION=${version}`,
    '--build-arg', `REVISION=${revision}`,
    '--build-arg', `SOURCE=${source}`,
    ...(ca === undefined ? [] : ['--secret', `id=npm_ca,src=${ca}`]),
    '--tag', serviceImage(service),
    repoRoot,
  ], { echo: options.echo, timeoutMs: 15 * 60_000 });
  options.log(`${serviceImage(service)}: built in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}
