// What the image and compose tests share: whether they can run here (podman and the images built
// by `npm run images`), and reading a container the way its runtime sees it.
import { hasCommand, imageExists, podman } from '../../scripts/images/podman.ts';

/** Under REQUIRE_IMAGES=1 (.ci/run) a test that cannot run fails instead of being skipped. */
export const imagesRequired = process.env.REQUIRE_IMAGES === '1';

/**
 * The `skip` of a suite needing podman and these images: why it cannot run (a newcomer's
 * `npm test`), or false. Throws under REQUIRE_IMAGES=1 rather than skip.
 */
export async function skipWithoutImages(images: readonly string[], also: string | false = false): Promise<string | false> {
  const missing = !(await hasCommand('podman')) ? 'no podman (apt-get install podman buildah runc debootstrap podman-compose)' : await missingImages(images);
  const problem = missing ?? (also === false ? undefined : also);
  if (problem !== undefined && imagesRequired) throw new Error(`REQUIRE_IMAGES=1 but ${problem}`);
  return problem === undefined ? false : `${problem}: skipped (npm run images builds the images; CI sets REQUIRE_IMAGES=1)`;
}

async function missingImages(images: readonly string[]): Promise<string | undefined> {
  const missing = [];
  for (const image of images) if (!(await imageExists(image))) missing.push(image);
  return missing.length === 0 ? undefined : `missing images ${missing.join(', ')}`;
}

/** `podman inspect` of one container or image, parsed. */
export async function inspect(kind: 'container' | 'image', name: string): Promise<any> {
  return (JSON.parse(await podman([kind, 'inspect', name])) as any[])[0];
}

/** The status fields of PID 1 in a running container (Uid, CapEff, NoNewPrivs…), as the container sees them. */
export async function pid1Status(container: string): Promise<Record<string, string>> {
  const text = await podman(['exec', container, 'cat', '/proc/1/status']);
  return Object.fromEntries(text.split('\n').filter((line) => line.includes(':')).map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1).trim()]));
}

/** PID 1's command line in a running container. */
export async function pid1Command(container: string): Promise<string[]> {
  return (await podman(['exec', container, 'cat', '/proc/1/cmdline'])).split('\0').filter((part) => part !== '');
}

/** Resident memory of a container's PID 1 in MiB. */
export async function residentMiB(container: string): Promise<number> {
  const kb = /^(\d+) kB$/.exec((await pid1Status(container)).VmRSS ?? '')?.[1];
  if (kb === undefined) throw new Error(`no VmRSS for ${container}`);
  return Math.round(Number(kb) / 1024);
}

/** Polls `url` until it answers 200; returns the milliseconds waited. Bounded by `timeoutMs`. */
export async function waitFor200(url: string, timeoutMs: number, alive?: () => Promise<boolean>): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < timeoutMs) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(1_000) });
      if (response.status === 200) return performance.now() - started;
    } catch {
      // not listening yet
    }
    if (alive !== undefined && !(await alive())) throw new Error(`${url}: the container stopped before it was ready`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${url} did not answer 200 within ${timeoutMs} ms`);
}
