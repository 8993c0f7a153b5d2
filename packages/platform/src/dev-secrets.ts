// Development secrets: generated once per checkout into var/dev-secrets.json (gitignored, mode
// 600) so that services started separately on one machine agree on them without anyone choosing
// a fixed default. Production sets every secret explicitly; config warns when this is used.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

export const varDir = resolve(import.meta.dirname, '../../../var');

/** The development secret `name` if one was generated, without creating anything (for checks). */
export function existingDevSecret(name: string, file = resolve(varDir, 'dev-secrets.json')): string | undefined {
  if (!existsSync(file)) return undefined;
  return (JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>)[name];
}

export function devSecret(name: string, file = resolve(varDir, 'dev-secrets.json')): string {
  const secrets = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>) : {};
  const existing = secrets[name];
  if (existing !== undefined) return existing;
  const value = randomBytes(32).toString('base64url');
  secrets[name] = value;
  try {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, JSON.stringify(secrets, null, 2) + '\n', { mode: 0o600 });
  } catch (error) {
    // A container's read-only root file system: the operator must give the secret.
    throw new Error(`is unset, and no development secret can be stored in ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}): set it`);
  }
  return value;
}
