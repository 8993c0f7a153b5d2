// `npm run load`'s options: every one bounded, so that a run always ends, and checked before
// anything is sent (a bad flag is an error with the flag's name, never a silent default).
import { parseArgs } from 'node:util';

export interface LoadOptions {
  /** The gateway's base URL: the platform as a client sees it. */
  readonly baseUrl: string;
  readonly durationSec: number;
  /** Requests in flight at once (each worker runs one scenario after another). */
  readonly concurrency: number;
  /** Users signed up for the run; each pays, reads its inbox and logs in again. */
  readonly users: number;
  /** Of those users, how many hold GET /notifications/stream open for the whole run. */
  readonly streams: number;
  /** A hard stop besides the duration. */
  readonly maxRequests: number;
  /** Failed logins in the whole run (they lock an account; too many lock this address out). */
  readonly maxFailedLogins: number;
  /** The bootstrap admin's password: refunds need an admin. Unset: no refunds. */
  readonly adminPassword?: string;
  /**
   * Start webhook and Web Push receivers on 127.0.0.1 and register them for the run's users, so
   * that every channel has deliveries (one webhook endpoint answers 500: retries, then dead
   * letters). Needs a platform on this machine with WEBHOOKS_ALLOW_PRIVATE_NETWORKS=true and
   * VAPID keys.
   */
  readonly localReceivers: boolean;
  /** Unexpected answers above this share make the run fail (exit code 1). */
  readonly maxErrorRate: number;
  /** Progress line every this many ms (0: none). */
  readonly progressMs: number;
}

export class LoadOptionError extends Error {}

const usage = `npm run load -- [options]
  --base-url URL           gateway to load (default http://127.0.0.1:8080)
  --duration SECONDS       how long to send traffic (default 30, at most 3600)
  --concurrency N          requests in flight at once (default 8, at most 256)
  --users N                users signed up for the run (default 10, at most 1000)
  --streams N              users holding the live inbox stream open (default 2)
  --max-requests N         stop after this many requests (default 100000)
  --max-failed-logins N    failed logins in the whole run (default 30; LOGIN_MAX_FAILURES_PER_IP is 50)
  --admin-password PW      the admin's password, for refunds (default: $LOAD_ADMIN_PASSWORD, then var/bootstrap-admin.txt)
  --local-receivers        receive webhooks and Web Push on 127.0.0.1 (platform on this machine only)
  --max-error-rate R       fail (exit 1) above this share of unexpected answers (default 0.01)
  --progress-ms MS         progress line interval (default 1000, 0 for none)
  --json                   print the summary as JSON instead of a table`;

export { usage as loadUsage };

function bounded(flag: string, raw: string | undefined, fallback: number, min: number, max: number, integer = true): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value) || (integer && !Number.isInteger(value)) || value < min || value > max) {
    throw new LoadOptionError(`--${flag} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}, not "${raw}"`);
  }
  return value;
}

export function parseLoadOptions(argv: readonly string[], readAdminPassword: () => string | undefined): LoadOptions & { readonly json: boolean; readonly help: boolean } {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      strict: true,
      options: {
        'base-url': { type: 'string' }, duration: { type: 'string' }, concurrency: { type: 'string' }, users: { type: 'string' },
        streams: { type: 'string' }, 'max-requests': { type: 'string' }, 'max-failed-logins': { type: 'string' },
        'admin-password': { type: 'string' }, 'local-receivers': { type: 'boolean' }, 'max-error-rate': { type: 'string' },
        'progress-ms': { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    throw new LoadOptionError((error as Error).message);
  }
  const v = parsed.values;
  const baseUrl = v['base-url'] ?? 'http://127.0.0.1:8080';
  const url = URL.parse(baseUrl);
  if (url === null || (url.protocol !== 'http:' && url.protocol !== 'https:')) throw new LoadOptionError(`--base-url must be an http(s) URL, not "${baseUrl}"`);
  const users = bounded('users', v.users, 10, 1, 1000);
  const localReceivers = v['local-receivers'] === true;
  if (localReceivers && !['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname)) {
    throw new LoadOptionError('--local-receivers needs the platform on this machine (--base-url on 127.0.0.1 or localhost)');
  }
  return {
    baseUrl: baseUrl.replace(/\/+$/, ''),
    durationSec: bounded('duration', v.duration, 30, 1, 3600),
    concurrency: bounded('concurrency', v.concurrency, 8, 1, 256),
    users,
    streams: bounded('streams', v.streams, Math.min(2, users), 0, users),
    maxRequests: bounded('max-requests', v['max-requests'], 100_000, 1, 10_000_000),
    maxFailedLogins: bounded('max-failed-logins', v['max-failed-logins'], 30, 0, 10_000),
    adminPassword: v['admin-password'] ?? process.env.LOAD_ADMIN_PASSWORD ?? readAdminPassword(),
    localReceivers,
    maxErrorRate: bounded('max-error-rate', v['max-error-rate'], 0.01, 0, 1, false),
    progressMs: bounded('progress-ms', v['progress-ms'], 1000, 0, 3_600_000),
    json: v.json === true,
    help: v.help === true,
  };
}
