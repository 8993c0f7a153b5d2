// Development secrets: generated once per checkout into var/dev-secrets.json (gitignored, mode
// 600) so that services started separately on one machine agree on them without anyone choosing
// a fixed default. Production sets every secret explicitly; config warns when this is used.
// Processes often start together on a fresh checkout (the test lanes, `npm start`'s services):
// the file is replaced atomically (written beside it, then renamed), so nobody reads half of it,
// and a secret is added under a lock (a folder made beside the file), so two processes never
// each add their own value for the same name and keep using the one that lost.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

export const varDir = resolve(import.meta.dirname, '../../../var');

/** The development secret `name` if one was generated, without creating anything (for checks). */
export function existingDevSecret(name: string, file = resolve(varDir, 'dev-secrets.json')): string | undefined {
  return readSecrets(file)[name];
}

function readSecrets(file: string): Record<string, string> {
  if (!existsSync(file)) return {};
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
  } catch {
    // Written atomically, so only a crash of the machine itself can leave it so.
    throw new Error(`cannot be read from ${file}, which is not valid JSON: delete the file (development secrets are made again) or set the variable`);
  }
}

export function devSecret(name: string, file = resolve(varDir, 'dev-secrets.json')): string {
  const existing = existingDevSecret(name, file);
  if (existing !== undefined) return existing;
  try {
    mkdirSync(dirname(file), { recursive: true });
    return underLock(`${file}.lock`, () => {
      // Read again under the lock: another process may have added it meanwhile.
      const secrets = readSecrets(file);
      if (secrets[name] !== undefined) return secrets[name];
      const value = randomBytes(32).toString('base64url');
      secrets[name] = value;
      const written = `${file}.${process.pid}.tmp`;
      writeFileSync(written, JSON.stringify(secrets, null, 2) + '\n', { mode: 0o600 });
      renameSync(written, file);
      return value;
    });
  } catch (error) {
    // A container's read-only root file system: the operator must give the secret.
    throw new Error(`is unset, and no development secret can be stored in ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}): set it`);
  }
}

/** A lock older than this was left by a process that died holding it: it is broken. */
const staleLockMs = 10_000;
/** How long to wait for the lock in all (a holder keeps it for microseconds). */
const lockWaitMs = 15_000;

/** `work` while holding `lock`, a folder only one process can make (mkdir is atomic). Synchronous: config is read at boot. */
function underLock<T>(lock: string, work: () => T): T {
  const deadline = Date.now() + lockWaitMs;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || Date.now() > deadline) throw error;
      const age = Date.now() - (statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > staleLockMs) rmSync(lock, { recursive: true, force: true });
      else Atomics.wait(pause, 0, 0, 5);
    }
  }
  try {
    return work();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}
