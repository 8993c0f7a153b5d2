// `npm run images`: the five service images (localhost/paymesh-<service>:latest) built with podman
// from deploy/Containerfile, without any registry: from Debian bookworm made here by debootstrap
// and the Node 24 binary of this checkout, each built once and then reused from podman's storage.
//   npm run images -- payments gateway    only these
//   npm run images -- --test-images       also the test-only PostgreSQL and NATS stand-ins
//   npm run images -- --rebuild-base      debootstrap again (a newer Debian point release)
//   npm run images -- --verbose           podman's build output
// Needs podman, buildah and runc (and debootstrap and root for the base); docs/deploy.md.
import { ensureLocalBase } from './images/local-base.ts';
import { ensureNodeImage } from './images/node-image.ts';
import { hasCommand } from './images/podman.ts';
import { buildServiceImage, imageServices, type ImageService } from './images/service-images.ts';
import { buildTestImages } from './images/test-images.ts';

const args = process.argv.slice(2);
const flags = new Set(args.filter((a) => a.startsWith('--')));
for (const flag of flags) {
  if (!['--test-images', '--rebuild-base', '--verbose'].includes(flag)) throw new Error(`unknown option ${flag}; known: --test-images, --rebuild-base, --verbose`);
}
const named = args.filter((a) => !a.startsWith('--'));
for (const name of named) {
  if (!(imageServices as readonly string[]).includes(name)) throw new Error(`unknown service ${name}; the services: ${imageServices.join(', ')}`);
}
const services = named.length > 0 ? (named as ImageService[]) : imageServices;

const missing = [];
for (const command of ['podman', 'buildah', 'runc']) if (!(await hasCommand(command))) missing.push(command);
if (missing.length > 0) {
  console.error(`npm run images needs ${missing.join(', ')}: sudo apt-get install podman buildah runc debootstrap`);
  process.exit(1);
}

const started = performance.now();
const log = (line: string) => console.log(`[${((performance.now() - started) / 1000).toFixed(1).padStart(6)} s] ${line}`);
const rebuild = flags.has('--rebuild-base');
await ensureLocalBase({ rebuild, log });
await ensureNodeImage({ rebuild, log });
for (const service of services) await buildServiceImage(service, { log, echo: flags.has('--verbose') });
if (flags.has('--test-images')) await buildTestImages({ log, rebuild });
log('done');
