// The deployment files agree with the repository, without podman: the Containerfile's manifest
// step names every workspace (npm ci fails on a lockfile that does not match them), Docker and
// podman read the same ignore file, and every variable compose.yaml interpolates is in the
// committed example env file, with no secret's value in it.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';

const root = resolve(import.meta.dirname, '../..');
const read = (path: string) => readFileSync(join(root, path), 'utf8');

/** The workspace folders of the root package.json (`packages/*`, `services/*`, `app`). */
function workspaces(): string[] {
  const globs = (JSON.parse(read('package.json')) as { workspaces: string[] }).workspaces;
  return globs.flatMap((glob) => (glob.endsWith('/*') ? readdirSync(join(root, glob.slice(0, -2))).map((name) => `${glob.slice(0, -2)}/${name}`) : [glob]))
    .filter((folder) => existsSync(join(root, folder, 'package.json')));
}

test('the Containerfile copies the manifest of every workspace before npm ci', () => {
  const containerfile = read('deploy/Containerfile');
  const copied = [...containerfile.matchAll(/^COPY (\S+)\/package\.json \1\/$/gm)].map((m) => m[1]);
  assert.deepEqual(copied.sort(), workspaces().sort());
});

test('the image of each service is built from the same file, and SERVICE names one of them', () => {
  const containerfile = read('deploy/Containerfile');
  const services = readdirSync(join(root, 'services')).filter((name) => existsSync(join(root, 'services', name, 'src/main.ts'))).sort();
  const accepted = /case "\$\{SERVICE\}" in ([a-z|]+)\)/.exec(containerfile)?.[1]?.split('|').sort();
  assert.deepEqual(accepted, services);
  assert.match(containerfile, /^ARG NODE_IMAGE=node:24-bookworm-slim$/m);
  assert.match(containerfile, /^USER 10001:10001$/m, 'a numeric user');
  assert.match(containerfile, /^CMD \["node", "src\/main\.ts"\]$/m, 'node as PID 1, exec form');
});

test('.dockerignore is the same file as .containerignore', () => {
  assert.equal(read('.dockerignore'), read('.containerignore'));
});

test('every variable compose.yaml interpolates is in compose.env.example, and no secret has a value there', () => {
  const used = new Set([...read('deploy/compose.yaml').matchAll(/\$\{([A-Z_]+)/g)].map((m) => m[1]!));
  const example = new Map([...read('deploy/compose.env.example').matchAll(/^([A-Z_]+)=(.*)$/gm)].map((m) => [m[1]!, m[2]!]));
  // Images of the infrastructure are overridden by the compose test only (deploy/test-images/).
  for (const name of used) if (!['POSTGRES_IMAGE', 'NATS_IMAGE'].includes(name)) assert.ok(example.has(name), `${name} is missing from compose.env.example`);
  for (const [name, value] of example) {
    if (/PASSWORD|SECRET|KEYS?$/.test(name)) assert.equal(value, '', `${name} must have no value in the committed example`);
  }
});
