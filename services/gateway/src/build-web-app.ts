// The dashboard's bundle (ADR 27): esbuild turns services/gateway/web (TypeScript, the SDK,
// oauth4webapi) into one minified ES module and a stylesheet, at most once per version of the
// sources. The output lives in web/dist/<hash of the sources>/: the gateway serves the build whose
// hash matches what it sees and builds first when none does (a fresh clone's first `npm start`,
// an edited source). The gateway image builds it at image build time (deploy/Containerfile), so a
// container, whose file system is read-only, always finds it.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';

export const webAppRoot = resolve(import.meta.dirname, '../web');
const distRoot = join(webAppRoot, 'dist');
const require = createRequire(import.meta.url);

/** The files a build produces, by the name they are served under. */
export const webAppFiles = ['app.js', 'app.css'] as const;

export interface WebAppBuild {
  /** The hash of the sources: the assets' version in their URLs. */
  readonly version: string;
  readonly files: ReadonlyMap<(typeof webAppFiles)[number], Buffer>;
  /** Whether this call built it (false: the build was already there). */
  readonly built: boolean;
  readonly buildMs: number;
}

function filesUnder(folder: string): string[] {
  return readdirSync(folder, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
}

function packageVersion(name: string): string {
  let folder = dirname(require.resolve(name));
  while (!existsSync(join(folder, 'package.json')) || (JSON.parse(readFileSync(join(folder, 'package.json'), 'utf8')) as { name?: string }).name !== name) {
    const parent = dirname(folder);
    if (parent === folder) throw new Error(`no package.json found for ${name}`);
    folder = parent;
  }
  return (JSON.parse(readFileSync(join(folder, 'package.json'), 'utf8')) as { version: string }).version;
}

/** What the bundle is made of: the app's sources, the SDK's, and the versions of the packages and of esbuild. */
export function webAppSourceHash(): string {
  const hash = createHash('sha256');
  const sdkSources = dirname(require.resolve('@paymesh/sdk'));
  const files = [...filesUnder(join(webAppRoot, 'src')), join(webAppRoot, 'index.css'), ...filesUnder(sdkSources)];
  for (const file of files) hash.update(`${relative(webAppRoot, file)}\0`).update(readFileSync(file)).update('\0');
  for (const name of ['esbuild', 'oauth4webapi', 'openapi-fetch']) hash.update(`${name}@${packageVersion(name)}\0`);
  return hash.digest('base64url').slice(0, 16);
}

function read(version: string): Map<(typeof webAppFiles)[number], Buffer> | undefined {
  const folder = join(distRoot, version);
  if (!webAppFiles.every((name) => existsSync(join(folder, name)))) return undefined;
  return new Map(webAppFiles.map((name) => [name, readFileSync(join(folder, name))]));
}

/** The current build of the dashboard, made first if the sources changed since the last one. */
export async function buildWebApp(): Promise<WebAppBuild> {
  const startedMs = performance.now();
  const version = webAppSourceHash();
  const existing = read(version);
  if (existing !== undefined) return { version, files: existing, built: false, buildMs: performance.now() - startedMs };

  // Loaded only when a build is needed: a start that finds its build never starts esbuild.
  const esbuild = await import('esbuild');
  // Several processes may build at once (test lanes): each writes its own folder, then renames it
  // into place; the first rename wins and the others' identical output is dropped.
  const scratch = join(distRoot, `.build-${randomBytes(6).toString('hex')}`);
  mkdirSync(scratch, { recursive: true });
  try {
    await esbuild.build({
      entryPoints: { app: join(webAppRoot, 'src/main.ts') },
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: ['es2022'],
      minify: true,
      legalComments: 'none',
      outdir: scratch,
      logLevel: 'silent',
      tsconfig: join(webAppRoot, 'tsconfig.json'),
    });
    writeFileSync(join(scratch, 'app.css'), (await esbuild.transform(readFileSync(join(webAppRoot, 'index.css'), 'utf8'), { loader: 'css', minify: true })).code);
    try {
      renameSync(scratch, join(distRoot, version));
    } catch (error) {
      if (read(version) === undefined) throw error;
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  // Older builds are of sources that are gone.
  for (const entry of readdirSync(distRoot)) if (entry !== version && !entry.startsWith('.')) rmSync(join(distRoot, entry), { recursive: true, force: true });
  const files = read(version);
  if (files === undefined) throw new Error(`the dashboard's build ${version} is incomplete`);
  return { version, files, built: true, buildMs: performance.now() - startedMs };
}

// `node services/gateway/src/build-web-app.ts`: the image's build step (and anyone's), printing what it did.
if (import.meta.main) {
  const build = await buildWebApp();
  const { gzipSync } = await import('node:zlib');
  const sizes = [...build.files].map(([name, body]) => `${name} ${body.length} B (${gzipSync(body).length} B gzipped)`);
  console.log(`dashboard ${build.version}: ${build.built ? 'built' : 'up to date'} in ${Math.round(build.buildMs)} ms; ${sizes.join(', ')}`);
}
