// Typed configuration read from the environment and checked once at boot. Every key carries its
// documentation so that `describeConfig` can print the whole surface (docs/configuration.md is
// generated from it) and an insecure value is warned about loudly instead of silently accepted.
import { isIP } from 'node:net';

export interface ConfigKey<T> {
  readonly env: string;
  readonly doc: string;
  readonly parse: (raw: string) => T;
  readonly fallback: (() => T) | undefined;
  /** How the default is documented (never the value of a generated secret). */
  readonly shownDefault: string;
  /** Returns a warning when the value is unsafe for production, otherwise undefined. */
  readonly insecure?: (value: T) => string | undefined;
}

type Options<T> = { default?: T | (() => T); shownDefault?: string; insecure?: (value: T) => string | undefined };

function key<T>(env: string, doc: string, parse: (raw: string) => T, options: Options<T>): ConfigKey<T> {
  const d = options.default;
  const fallback = d === undefined ? undefined : typeof d === 'function' ? (d as () => T) : () => d;
  const shownDefault = options.shownDefault ?? (d === undefined ? 'required' : typeof d === 'function' ? '(computed at boot)' : `\`${String(d)}\``);
  return { env, doc, parse, fallback, shownDefault, insecure: options.insecure };
}

export function str(env: string, doc: string, options: Options<string> = {}): ConfigKey<string> {
  return key(env, doc, (raw) => raw, options);
}

export function oneOf<const V extends string>(env: string, doc: string, values: readonly V[], options: Options<V> = {}): ConfigKey<V> {
  return key(env, doc, (raw) => {
    if (!(values as readonly string[]).includes(raw)) throw new Error(`must be one of ${values.join(', ')}`);
    return raw as V;
  }, options);
}

export function optionalStr(env: string, doc: string): ConfigKey<string | undefined> {
  return key<string | undefined>(env, doc, (raw) => (raw === '' ? undefined : raw), { default: () => undefined, shownDefault: '(unset)' });
}

export function int(env: string, doc: string, options: Options<number> & { min?: number; max?: number } = {}): ConfigKey<number> {
  return key(env, doc, (raw) => {
    if (!/^-?\d+$/.test(raw)) throw new Error(`expected an integer, got "${raw}"`);
    const value = Number(raw);
    if (!Number.isSafeInteger(value)) throw new Error(`must be a safe integer, got "${raw}"`);
    if (options.min !== undefined && value < options.min) throw new Error(`must be at least ${options.min}`);
    if (options.max !== undefined && value > options.max) throw new Error(`must be at most ${options.max}`);
    return value;
  }, options);
}

function splitList(raw: string): string[] {
  return raw.split(',').map((item) => item.trim()).filter(Boolean);
}

/**
 * A comma-separated list, items trimmed and empty ones dropped (an empty value is an empty list);
 * `item` throws for an item it refuses.
 */
export function list(env: string, doc: string, options: Options<readonly string[]> & { item?: (item: string) => void } = {}): ConfigKey<readonly string[]> {
  return key(env, doc, (raw) => {
    const items = splitList(raw);
    if (options.item !== undefined) for (const item of items) options.item(item);
    return items;
  }, { ...options, shownDefault: options.shownDefault ?? (Array.isArray(options.default) ? `\`${options.default.join(',')}\`` : undefined) });
}

const proxyKeywords = new Set(['loopback', 'linklocal', 'uniquelocal']);

/**
 * A comma-separated list of addresses, CIDR ranges (`10.0.0.0/8`, `fd00::/8`) and the keywords
 * `loopback`, `linklocal`, `uniquelocal`; an empty value is an empty list.
 */
export function addressList(env: string, doc: string, options: Options<readonly string[]> & { shownDefault: string }): ConfigKey<readonly string[]> {
  return list(env, doc, {
    ...options,
    item: (item) => {
      if (proxyKeywords.has(item)) return;
      const [address, bits, extra] = item.split('/');
      const family = isIP(address ?? '');
      const maxBits = family === 4 ? 32 : 128;
      if (family === 0 || extra !== undefined || (bits !== undefined && (!/^\d{1,3}$/.test(bits) || Number(bits) > maxBits))) {
        throw new Error(`expected addresses, CIDR ranges or ${[...proxyKeywords].join(', ')}, got "${item}"`);
      }
    },
  });
}

const durationUnits = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
export type DurationUnit = keyof typeof durationUnits;
const unitNames: Record<DurationUnit, string> = { ms: 'milliseconds', s: 'seconds', m: 'minutes', h: 'hours', d: 'days' };

/** `90` (in `unit`) or a number with its own unit (`1500ms`, `90s`, `15m`, `2h`, `30d`), as a whole number of `unit`. */
function parseDuration(raw: string, unit: DurationUnit): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(raw);
  if (match === null) throw new Error(`expected a duration such as 90, 1500ms, 90s, 15m, 2h or 30d, got "${raw}"`);
  const given = (match[2] ?? unit) as DurationUnit;
  const value = Number(match[1]) * durationUnits[given] / durationUnits[unit];
  if (!Number.isSafeInteger(value)) throw new Error(`must be a whole number of ${unitNames[unit]}, got "${raw}"`);
  return value;
}

/**
 * A duration, read and returned in `unit` (the key's name says it: `_MS`, `_SECONDS`, `_DAYS`); a
 * value may give its own unit instead (`LOGIN_LOCKOUT_SECONDS=15m`). Bounds are in `unit`.
 */
export function duration(env: string, doc: string, options: Options<number> & { unit: DurationUnit; min?: number; max?: number }): ConfigKey<number> {
  return key(env, doc, (raw) => {
    const value = parseDuration(raw, options.unit);
    if (options.min !== undefined && value < options.min) throw new Error(`must be at least ${options.min} ${unitNames[options.unit]}`);
    if (options.max !== undefined && value > options.max) throw new Error(`must be at most ${options.max} ${unitNames[options.unit]}`);
    return value;
  }, options);
}

/** A comma-separated list of durations (`1m,5m,2h`), each in `unit`; the default is written the same way. */
export function durationList(env: string, doc: string, options: { unit: DurationUnit; default: string }): ConfigKey<readonly number[]> {
  const parse = (raw: string) => splitList(raw).map((item) => parseDuration(item, options.unit));
  return key<readonly number[]>(env, doc, parse, { default: () => parse(options.default), shownDefault: `\`${options.default}\`` });
}

export function bool(env: string, doc: string, options: Options<boolean> = {}): ConfigKey<boolean> {
  return key(env, doc, (raw) => {
    if (raw === 'true' || raw === '1') return true;
    if (raw === 'false' || raw === '0') return false;
    throw new Error(`expected true or false, got "${raw}"`);
  }, options);
}

// `localhost:3001` parses as a URL whose scheme is `localhost:`: only these schemes are URLs here.
const knownSchemes = new Set(['http:', 'https:', 'postgres:', 'postgresql:', 'nats:', 'tls:', 'smtp:', 'smtps:']);

function parseUrl(raw: string): string {
  const parsed = URL.parse(raw);
  // Never quote credentials (SMTP_URL, DATABASE_URL carry passwords) into a boot error.
  if (parsed === null || !knownSchemes.has(parsed.protocol)) throw new Error(`expected a URL, got "${raw.replace(/\/\/[^/@]*@/, '//***@')}"`);
  return raw;
}

export function url(env: string, doc: string, options: Options<string> = {}): ConfigKey<string> {
  return key(env, doc, (raw) => parseUrl(raw).replace(/\/$/, ''), options);
}

export function optionalUrl(env: string, doc: string): ConfigKey<string | undefined> {
  return key<string | undefined>(env, doc, (raw) => (raw === '' ? undefined : parseUrl(raw)), { default: () => undefined, shownDefault: '(unset)' });
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- keys of any value type
export type ConfigSpec = Record<string, ConfigKey<any>>;
export type ConfigOf<S extends ConfigSpec> = { readonly [K in keyof S]: S[K] extends ConfigKey<infer T> ? T : never };

export class ConfigError extends Error {}

/**
 * Reads every key of `spec` from `env`. All problems are reported at once so that an operator
 * fixes a deployment in one round trip; insecure values are returned as warnings for the caller
 * to log (the logger does not exist yet when config is read).
 */
export function loadConfig<S extends ConfigSpec>(spec: S, env: Record<string, string | undefined> = process.env): { config: ConfigOf<S>; warnings: string[] } {
  const errors: string[] = [];
  const warnings: string[] = [];
  const config: Record<string, unknown> = {};
  for (const [name, k] of Object.entries(spec)) {
    const raw = env[k.env];
    try {
      if (raw === undefined || raw === '') {
        if (k.fallback === undefined) throw new Error('is required');
        config[name] = k.fallback();
      } else {
        config[name] = k.parse(raw);
      }
      const warning = k.insecure?.(config[name]);
      if (warning !== undefined) warnings.push(`${k.env}: ${warning}`);
    } catch (error) {
      errors.push(`${k.env} ${(error as Error).message} (${k.doc})`);
    }
  }
  if (errors.length > 0) throw new ConfigError(`invalid configuration:\n  ${errors.join('\n  ')}`);
  return { config: config as ConfigOf<S>, warnings };
}

export function describeConfig(spec: ConfigSpec): string {
  return Object.values(spec)
    .map((k) => `| \`${k.env}\` | ${k.doc} | ${k.shownDefault} |`)
    .join('\n');
}
