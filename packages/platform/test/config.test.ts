// loadConfig is the boot-time gate: a deployment with a bad environment must fail with every
// problem listed at once, and an unsafe value must come back as a warning rather than pass silently.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { addressList, bool, ConfigError, describeConfig, duration, durationList, int, list, loadConfig, oneOf, optionalStr, optionalUrl, str, url } from '../src/config.ts';

function configError(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected loadConfig to throw');
}

describe('loadConfig', () => {
  test('every problem is reported at once, each naming its variable and what it is for', () => {
    const spec = {
      secret: str('APP_SECRET', 'Signs the session cookies.'),
      port: int('APP_PORT', 'Port of the API.', { min: 0, max: 65535 }),
      verbose: bool('APP_VERBOSE', 'Logs every query.'),
      upstream: url('APP_UPSTREAM', 'Where orders are forwarded.'),
      name: str('APP_NAME', 'Shown in the logs.', { default: 'paymesh' }),
    };
    const error = configError(() => loadConfig(spec, { APP_PORT: '70000', APP_VERBOSE: 'yes', APP_UPSTREAM: 'not a url' }));
    const lines = error.message.split('\n').slice(1).map((line) => line.trim());
    assert.deepEqual(lines, [
      'APP_SECRET is required (Signs the session cookies.)',
      'APP_PORT must be at most 65535 (Port of the API.)',
      'APP_VERBOSE expected true or false, got "yes" (Logs every query.)',
      'APP_UPSTREAM expected a URL, got "not a url" (Where orders are forwarded.)',
    ]);
  });

  test('a required key that is unset or empty is refused', () => {
    const spec = { secret: str('APP_SECRET', 'Signs things.') };
    assert.match(configError(() => loadConfig(spec, {})).message, /APP_SECRET is required/);
    assert.match(configError(() => loadConfig(spec, { APP_SECRET: '' })).message, /APP_SECRET is required/);
    assert.deepEqual(loadConfig(spec, { APP_SECRET: 's3cret' }).config, { secret: 's3cret' });
  });

  test('only the environment given is read, never process.env behind its back', () => {
    process.env.PAYMESH_CONFIG_TEST_ONLY = 'from-process-env';
    try {
      const spec = { value: str('PAYMESH_CONFIG_TEST_ONLY', 'A key set only in process.env.') };
      assert.match(configError(() => loadConfig(spec, {})).message, /PAYMESH_CONFIG_TEST_ONLY is required/);
      assert.equal(loadConfig(spec).config.value, 'from-process-env');
    } finally {
      delete process.env.PAYMESH_CONFIG_TEST_ONLY;
    }
  });

  test('a default applies when the key is unset or empty, and the environment wins otherwise', () => {
    const spec = { host: str('APP_HOST', 'Interface to bind.', { default: '127.0.0.1' }), port: int('APP_PORT', 'Port.', { default: 3000 }) };
    assert.deepEqual(loadConfig(spec, {}).config, { host: '127.0.0.1', port: 3000 });
    assert.deepEqual(loadConfig(spec, { APP_HOST: '', APP_PORT: '' }).config, { host: '127.0.0.1', port: 3000 });
    assert.deepEqual(loadConfig(spec, { APP_HOST: '0.0.0.0', APP_PORT: '8080' }).config, { host: '0.0.0.0', port: 8080 });
  });

  test('a default given as a function is computed only when the key is unset, once per load', () => {
    let calls = 0;
    const spec = { secret: str('APP_SECRET', 'Generated in development.', { default: () => `generated-${++calls}` }) };
    assert.equal(loadConfig(spec, { APP_SECRET: 'set-by-operator' }).config.secret, 'set-by-operator');
    assert.equal(calls, 0, 'a set key never runs the default (which may write a dev secret to disk)');
    assert.equal(loadConfig(spec, {}).config.secret, 'generated-1');
    assert.equal(calls, 1);
  });

  test('a default function that fails is reported with the other problems', () => {
    const spec = {
      secret: str('APP_SECRET', 'Generated in development.', { default: () => { throw new Error('cannot write var/dev-secrets.json'); } }),
      port: int('APP_PORT', 'Port.'),
    };
    const error = configError(() => loadConfig(spec, {}));
    assert.match(error.message, /APP_SECRET cannot write var\/dev-secrets\.json/);
    assert.match(error.message, /APP_PORT is required/);
  });

  describe('int', () => {
    const spec = { timeoutMs: int('APP_TIMEOUT_MS', 'Request timeout.', { min: 1, max: 60_000 }) };

    test('bounds are inclusive; a value outside them is refused', () => {
      assert.equal(loadConfig(spec, { APP_TIMEOUT_MS: '1' }).config.timeoutMs, 1);
      assert.equal(loadConfig(spec, { APP_TIMEOUT_MS: '60000' }).config.timeoutMs, 60_000);
      assert.match(configError(() => loadConfig(spec, { APP_TIMEOUT_MS: '0' })).message, /APP_TIMEOUT_MS must be at least 1/);
      assert.match(configError(() => loadConfig(spec, { APP_TIMEOUT_MS: '60001' })).message, /APP_TIMEOUT_MS must be at most 60000/);
      assert.match(configError(() => loadConfig(spec, { APP_TIMEOUT_MS: '-5' })).message, /must be at least 1/);
    });

    test('anything but a plain decimal integer is refused, never rounded or read as hex', () => {
      for (const raw of ['1.5', '1e3', '0x10', '7abc', ' 7', '7 ', '+7', 'Infinity', 'NaN', 'seven', '--1']) {
        assert.match(configError(() => loadConfig(spec, { APP_TIMEOUT_MS: raw })).message, /expected an integer/, `"${raw}" must be refused`);
      }
    });

    test('a negative integer is accepted when no minimum forbids it', () => {
      const offset = { offsetMinutes: int('APP_OFFSET_MINUTES', 'Clock offset.') };
      assert.equal(loadConfig(offset, { APP_OFFSET_MINUTES: '-90' }).config.offsetMinutes, -90);
    });

    test('an integer beyond the safe range is refused rather than silently rounded', () => {
      const grace = { graceMs: int('APP_GRACE_MS', 'Shutdown grace.', { min: 0 }) };
      assert.throws(() => loadConfig(grace, { APP_GRACE_MS: '99999999999999999999' }), ConfigError);
    });
  });

  describe('duration', () => {
    const spec = { lockoutSec: duration('APP_LOCKOUT_SECONDS', 'Lockout.', { unit: 's', default: 900, min: 1, max: 86_400 }) };

    test('a bare number is in the unit the name says; a number may bring its own unit', () => {
      assert.equal(loadConfig(spec, { APP_LOCKOUT_SECONDS: '90' }).config.lockoutSec, 90);
      assert.equal(loadConfig(spec, { APP_LOCKOUT_SECONDS: '15m' }).config.lockoutSec, 900);
      assert.equal(loadConfig(spec, { APP_LOCKOUT_SECONDS: '2h' }).config.lockoutSec, 7200);
      assert.equal(loadConfig(spec, { APP_LOCKOUT_SECONDS: '1d' }).config.lockoutSec, 86_400);
      assert.equal(loadConfig(spec, { APP_LOCKOUT_SECONDS: '3000ms' }).config.lockoutSec, 3);
      assert.equal(loadConfig(spec, {}).config.lockoutSec, 900);
    });

    test('a value that is no whole number of the unit, or outside the bounds, is refused with the unit named', () => {
      assert.match(configError(() => loadConfig(spec, { APP_LOCKOUT_SECONDS: '1500ms' })).message, /APP_LOCKOUT_SECONDS must be a whole number of seconds/);
      assert.match(configError(() => loadConfig(spec, { APP_LOCKOUT_SECONDS: '2d' })).message, /must be at most 86400 seconds/);
      assert.match(configError(() => loadConfig(spec, { APP_LOCKOUT_SECONDS: '0s' })).message, /must be at least 1 seconds/);
      for (const raw of ['-5', '5 m', '5min', 'm', '1e3', '0x10', ' 5']) {
        assert.match(configError(() => loadConfig(spec, { APP_LOCKOUT_SECONDS: raw })).message, /expected a duration/, `"${raw}" must be refused`);
      }
    });

    test('a list of durations, each in the unit', () => {
      const delays = { delaysMs: durationList('APP_RETRY_DELAYS', 'Retries.', { unit: 'ms', default: '1m,5m' }) };
      assert.deepEqual(loadConfig(delays, {}).config.delaysMs, [60_000, 300_000]);
      assert.deepEqual(loadConfig(delays, { APP_RETRY_DELAYS: '250, 1.5s ,2h' }).config.delaysMs, [250, 1500, 7_200_000]);
      assert.match(configError(() => loadConfig(delays, { APP_RETRY_DELAYS: '1m,soon' })).message, /expected a duration/);
      assert.match(describeConfig(delays), /`1m,5m`/);
    });
  });

  describe('list', () => {
    test('comma-separated, items trimmed, empty items dropped, each item checked', () => {
      const spec = { keys: list('APP_KEYS', 'Keys.', { default: [], item: (item) => { if (item.length < 4) throw new Error(`"${item}" is too short`); } }) };
      assert.deepEqual(loadConfig(spec, { APP_KEYS: ' abcd, efgh,,ijkl ' }).config.keys, ['abcd', 'efgh', 'ijkl']);
      assert.deepEqual(loadConfig(spec, {}).config.keys, []);
      assert.match(configError(() => loadConfig(spec, { APP_KEYS: 'abcd,xy' })).message, /APP_KEYS "xy" is too short/);
    });
  });

  describe('bool', () => {
    const spec = { verbose: bool('APP_VERBOSE', 'Logs every query.', { default: false }) };

    test('true/1 and false/0 are the only spellings accepted', () => {
      assert.equal(loadConfig(spec, { APP_VERBOSE: 'true' }).config.verbose, true);
      assert.equal(loadConfig(spec, { APP_VERBOSE: '1' }).config.verbose, true);
      assert.equal(loadConfig(spec, { APP_VERBOSE: 'false' }).config.verbose, false);
      assert.equal(loadConfig(spec, { APP_VERBOSE: '0' }).config.verbose, false);
      assert.equal(loadConfig(spec, {}).config.verbose, false);
    });

    test('near misses are refused instead of read as false', () => {
      for (const raw of ['TRUE', 'True', 'yes', 'no', 'on', 'off', '2', ' true']) {
        assert.match(configError(() => loadConfig(spec, { APP_VERBOSE: raw })).message, /APP_VERBOSE expected true or false/, `"${raw}" must be refused`);
      }
    });
  });

  describe('url', () => {
    const spec = { authUrl: url('APP_AUTH_URL', 'Internal base URL of auth.') };

    test('a valid URL is kept without its trailing slash, so paths can be appended', () => {
      assert.equal(loadConfig(spec, { APP_AUTH_URL: 'http://127.0.0.1:3001/' }).config.authUrl, 'http://127.0.0.1:3001');
      assert.equal(loadConfig(spec, { APP_AUTH_URL: 'https://auth.example.com/base' }).config.authUrl, 'https://auth.example.com/base');
    });

    test('something that is not a URL is refused', () => {
      for (const raw of ['auth', '127.0.0.1:3001', '/auth', 'http//auth']) {
        assert.match(configError(() => loadConfig(spec, { APP_AUTH_URL: raw })).message, /APP_AUTH_URL expected a URL/, `"${raw}" must be refused`);
      }
    });

    test('a host:port without a scheme is refused, not taken as a URL whose scheme is the host', () => {
      assert.throws(() => loadConfig(spec, { APP_AUTH_URL: 'localhost:3001' }), ConfigError);
    });

    test('a malformed URL is refused without quoting the credentials it carries', () => {
      const optional = { smtpUrl: optionalUrl('APP_SMTP_URL', 'SMTP server.') };
      const message = configError(() => loadConfig(optional, { APP_SMTP_URL: 'smpt://mailer:s3cret-pass@smtp.example:587' })).message;
      assert.match(message, /APP_SMTP_URL expected a URL, got "smpt:\/\/\*\*\*@smtp.example:587"/);
      assert.doesNotMatch(message, /s3cret-pass/);
    });

    test('an optional URL is undefined when unset or empty and checked when set', () => {
      const optional = { natsUrl: optionalUrl('APP_NATS_URL', 'NATS server.') };
      assert.equal(loadConfig(optional, {}).config.natsUrl, undefined);
      assert.equal(loadConfig(optional, { APP_NATS_URL: '' }).config.natsUrl, undefined);
      assert.equal(loadConfig(optional, { APP_NATS_URL: 'nats://127.0.0.1:4222' }).config.natsUrl, 'nats://127.0.0.1:4222');
      assert.match(configError(() => loadConfig(optional, { APP_NATS_URL: 'nats' })).message, /APP_NATS_URL expected a URL, got "nats"/);
    });
  });

  test('an optional string is undefined when unset or empty', () => {
    const spec = { issuer: optionalStr('APP_ISSUER', 'External issuer.') };
    assert.equal(loadConfig(spec, {}).config.issuer, undefined);
    assert.equal(loadConfig(spec, { APP_ISSUER: '' }).config.issuer, undefined);
    assert.equal(loadConfig(spec, { APP_ISSUER: 'https://id.example.com' }).config.issuer, 'https://id.example.com');
  });

  describe('insecure values', () => {
    const weak = (value: string) => (value.length < 16 ? 'shorter than 16 characters; set a real secret in production' : undefined);
    const spec = {
      secret: str('APP_SECRET', 'Signs the session cookies.', { default: 'dev', insecure: weak }),
      port: int('APP_PORT', 'Port.', { default: 80, insecure: (value) => (value < 1024 ? 'a privileged port' : undefined) }),
    };

    test('are returned as warnings naming their variable, and do not stop the service from starting', () => {
      const { config, warnings } = loadConfig(spec, { APP_SECRET: 'short' });
      assert.deepEqual(config, { secret: 'short', port: 80 });
      assert.deepEqual(warnings, ['APP_SECRET: shorter than 16 characters; set a real secret in production', 'APP_PORT: a privileged port']);
    });

    test('an insecure default is warned about like a value from the environment', () => {
      assert.deepEqual(loadConfig(spec, {}).warnings, ['APP_SECRET: shorter than 16 characters; set a real secret in production', 'APP_PORT: a privileged port']);
    });

    test('a safe value gives no warning', () => {
      assert.deepEqual(loadConfig(spec, { APP_SECRET: 'a-long-enough-production-secret', APP_PORT: '3000' }).warnings, []);
    });

    test('a value that failed to parse is reported as an error, not passed to the insecure check', () => {
      let checked = 0;
      const counting = { port: int('APP_PORT', 'Port.', { insecure: () => { checked++; return undefined; } }) };
      assert.throws(() => loadConfig(counting, { APP_PORT: 'eighty' }), ConfigError);
      assert.equal(checked, 0);
    });
  });

  test('a one-of key accepts only its listed values, exactly as spelled', () => {
    const spec = { level: oneOf('APP_LOG_LEVEL', 'Log level.', ['debug', 'info', 'warn'] as const, { default: 'info' }) };
    assert.equal(loadConfig(spec, {}).config.level, 'info');
    assert.equal(loadConfig(spec, { APP_LOG_LEVEL: 'warn' }).config.level, 'warn');
    for (const raw of ['WARN', 'verbose', ' info']) {
      assert.match(configError(() => loadConfig(spec, { APP_LOG_LEVEL: raw })).message, /APP_LOG_LEVEL must be one of debug, info, warn/, `"${raw}" must be refused`);
    }
  });

  test('describeConfig never runs a default function, so a generated secret is never printed', () => {
    let calls = 0;
    const spec = {
      secret: str('APP_SECRET', 'Generated in development.', { default: () => `generated-${++calls}` }),
      labelled: str('APP_TOKEN', 'Generated too.', { default: () => 'x', shownDefault: '(development secret)' }),
    };
    const text = describeConfig(spec);
    assert.equal(calls, 0);
    assert.doesNotMatch(text, /generated-/);
    assert.match(text, /\| `APP_TOKEN` \| Generated too\. \| \(development secret\) \|/);
  });

  test('describeConfig lists every key with its documentation and default, required keys marked', () => {
    const spec = {
      secret: str('APP_SECRET', 'Signs things.'),
      port: int('APP_PORT', 'Port.', { default: 3000 }),
      issuer: optionalStr('APP_ISSUER', 'External issuer.'),
    };
    assert.equal(describeConfig(spec), [
      '| `APP_SECRET` | Signs things. | required |',
      '| `APP_PORT` | Port. | `3000` |',
      '| `APP_ISSUER` | External issuer. | (unset) |',
    ].join('\n'));
  });
});

describe('address lists (TRUSTED_PROXIES)', () => {
  const spec = { proxies: addressList('PROXIES', 'Proxies.', { default: ['loopback'], shownDefault: '`loopback`' }) };

  test('addresses, CIDR ranges and the proxy keywords are accepted; empty trusts nobody; unset is the default', () => {
    assert.deepEqual(loadConfig(spec, { PROXIES: '10.0.0.1, 10.1.0.0/16,fd00::/8, ::1,loopback,uniquelocal' }).config.proxies, ['10.0.0.1', '10.1.0.0/16', 'fd00::/8', '::1', 'loopback', 'uniquelocal']);
    assert.deepEqual(loadConfig(spec, {}).config.proxies, ['loopback']);
    assert.deepEqual(loadConfig(spec, { PROXIES: ' , ' }).config.proxies, []);
  });

  test('anything else stops the start, naming the item', () => {
    for (const bad of ['*', 'true', 'gateway', '10.0.0.256', '10.0.0.0/33', 'fd00::/129', '10.0.0.0/8/8', '10.0.0.0/x', '10.0.0.1 10.0.0.2', 'localhost']) {
      const error = configError(() => loadConfig(spec, { PROXIES: bad }));
      assert.match(error.message, /PROXIES/, bad);
    }
  });
});
