// The local base: Debian bookworm from `debootstrap --variant=minbase`, trimmed the way
// debian:bookworm-slim is (no documentation, manual pages, translations or apt lists) and imported
// into podman. Made once; later runs find it in podman's storage.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { imageExists, runCommand } from './podman.ts';

export const localBaseImage = 'localhost/paymesh-base:bookworm';

/** The Debian mirror this machine's apt uses (DEBIAN_MIRROR overrides), else deb.debian.org. */
export function debianMirror(): string {
  if (process.env.DEBIAN_MIRROR !== undefined) return process.env.DEBIAN_MIRROR;
  const texts: string[] = [];
  if (existsSync('/etc/apt/sources.list')) texts.push(readFileSync('/etc/apt/sources.list', 'utf8'));
  if (existsSync('/etc/apt/sources.list.d')) {
    for (const file of readdirSync('/etc/apt/sources.list.d')) {
      if (file.endsWith('.list') || file.endsWith('.sources')) texts.push(readFileSync(join('/etc/apt/sources.list.d', file), 'utf8'));
    }
  }
  // One-line (`deb URI bookworm main`) and deb822 (`URIs: …`) entries; the Debian archive itself,
  // not its security archive nor a third party's.
  for (const text of texts) {
    for (const match of text.matchAll(/^(?:deb\s+(?:\[[^\]]*\]\s+)?|URIs:\s*)(\S+)/gm)) {
      const uri = match[1]!.replace(/\/$/, '');
      if (/\/debian$/.test(uri)) return uri;
    }
  }
  return 'http://deb.debian.org/debian';
}

// Like debian:bookworm-slim: packages installed later (the test images) leave these out too.
const dpkgExcludes = `path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/lintian/*
`;

/** Builds the base unless podman already has it (or `rebuild`). Needs root for debootstrap. */
export async function ensureLocalBase(options: { rebuild?: boolean; log: (line: string) => void }): Promise<void> {
  if (options.rebuild !== true && (await imageExists(localBaseImage))) {
    options.log(`${localBaseImage}: present, kept`);
    return;
  }
  if (process.getuid?.() !== 0) {
    throw new Error(`making ${localBaseImage} runs debootstrap, which needs root: run \`sudo npm run images\`, or build from registry images (docs/deploy.md)`);
  }
  const mirror = debianMirror();
  const scratch = mkdtempSync(join(tmpdir(), 'paymesh-base-'));
  const rootfs = join(scratch, 'rootfs');
  try {
    options.log(`${localBaseImage}: debootstrap --variant=minbase bookworm from ${mirror}`);
    const bootstrap = await runCommand('debootstrap', ['--variant=minbase', 'bookworm', rootfs, mirror], { timeoutMs: 15 * 60_000 });
    if (bootstrap.code !== 0) throw new Error(`debootstrap failed (${bootstrap.code}): ${bootstrap.stdout.split('\n').slice(-5).join('\n')}${bootstrap.stderr}`);
    writeFileSync(join(rootfs, 'etc/dpkg/dpkg.cfg.d/paymesh-slim'), dpkgExcludes);
    writeFileSync(join(rootfs, 'etc/apt/apt.conf.d/paymesh-no-recommends'), 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n');
    writeFileSync(join(rootfs, 'etc/apt/sources.list'), `deb ${mirror} bookworm main\ndeb ${mirror} bookworm-updates main\n`);
    const trim = await runCommand('sh', ['-c', [
      'set -e; cd "$1"',
      'rm -rf var/cache/apt/*.bin var/cache/apt/archives/*.deb var/lib/apt/lists/* var/log/*.log var/cache/debconf/*-old',
      'rm -rf usr/share/man/* usr/share/info/* usr/share/locale/* usr/share/lintian/*',
      'find usr/share/doc -mindepth 1 ! -type d ! -name copyright -delete',
      'find usr/share/doc -mindepth 1 -type d -empty -delete',
    ].join('\n'), 'trim', rootfs]);
    if (trim.code !== 0) throw new Error(`trimming the base failed: ${trim.stderr}`);
    const imported = await runCommand('sh', ['-c', 'tar --numeric-owner -C "$1" -c . | podman import --change "CMD [\\"/bin/bash\\"]" --message "debootstrap --variant=minbase bookworm" - "$2"', 'import', rootfs, localBaseImage]);
    if (imported.code !== 0) throw new Error(`podman import failed: ${imported.stderr}`);
    options.log(`${localBaseImage}: imported`);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
