// localhost/paymesh-node:24, made from the local base and the node binary running this script (the
// `node` npm package's real binary, not a wrapper), with the npm running it. Rebuilt when the
// checkout's Node version changes.
import { cpSync, linkSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { localBaseImage } from './local-base.ts';
import { imageExists, podman } from './podman.ts';

export const localNodeImage = 'localhost/paymesh-node:24';
const repoRoot = resolve(import.meta.dirname, '../..');

/** The npm package folder of the npm that runs `npm run images`. */
function npmFolder(): string {
  const cli = process.env.npm_execpath;
  if (cli === undefined) throw new Error('run this through npm (`npm run images`): the Node image takes the npm that runs it');
  return dirname(dirname(realpathSync(cli)));
}

export async function ensureNodeImage(options: { rebuild?: boolean; log: (line: string) => void }): Promise<void> {
  if (!process.version.startsWith('v24.')) throw new Error(`the images need Node 24, and this is ${process.version}: run it through npm (the checkout pins Node 24)`);
  if (options.rebuild !== true && (await imageExists(localNodeImage))) {
    const label = (await podman(['image', 'inspect', '--format', '{{index .Labels "org.paymesh.node-version"}}', localNodeImage])).trim();
    if (label === process.version) {
      options.log(`${localNodeImage}: present (${label}), kept`);
      return;
    }
    options.log(`${localNodeImage}: has ${label || 'an unknown Node'}, this checkout ${process.version}: rebuilding`);
  }
  const context = mkdtempSync(join(tmpdir(), 'paymesh-node-image-'));
  try {
    const binary = realpathSync(process.execPath);
    // A hard link when the temporary folder is on the same file system (126 MB not copied).
    try {
      linkSync(binary, join(context, 'node'));
    } catch {
      cpSync(binary, join(context, 'node'));
    }
    cpSync(npmFolder(), join(context, 'npm'), { recursive: true });
    options.log(`${localNodeImage}: ${binary} (${process.version}) and npm from ${npmFolder()}`);
    await podman([
      'build', '--pull=never', '--file', join(repoRoot, 'deploy/local-node.Containerfile'),
      '--build-arg', `BASE_IMAGE=${localBaseImage}`, '--build-arg', `NODE_VERSION=${process.version}`,
      '--tag', localNodeImage, context,
    ], { timeoutMs: 10 * 60_000 });
  } finally {
    rmSync(context, { recursive: true, force: true });
  }
}
