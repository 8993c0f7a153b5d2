// The test harness's check that no secret reaches a log: every platform a test boots has its logs
// (warnings and errors at least) scanned when it stops, and the test file fails on a card number,
// a webhook signing secret, a token, or a password or client secret the harness knows of.
import { luhnValid } from '@paymesh/payments/card-details';

/** What was found, one line per finding, the secret itself masked. */
export function findSecretsInLogs(service: string, logText: string, knownSecrets: readonly string[]): string[] {
  const findings: string[] = [];
  for (const line of logText.split('\n')) {
    if (line.trim() === '') continue;
    const text = stringsOf(line).join('\n');
    for (const [kind, found] of secretsIn(text, knownSecrets)) {
      findings.push(`${service}: ${kind} in the log line ${line.replaceAll(found, `[${kind}]`).slice(0, 400)}`);
    }
  }
  return findings;
}

/**
 * The string values of a JSON log line (numbers and the `time` field are not text anyone logged:
 * a millisecond timestamp can pass the Luhn check). A line that is not JSON is scanned whole.
 */
function stringsOf(line: string): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return [line];
  }
  const out: string[] = [];
  const walk = (value: unknown, key: string, depth: number): void => {
    if (depth > 20) return;
    if (typeof value === 'string') {
      if (key !== 'time') out.push(value);
    } else if (typeof value === 'object' && value !== null) {
      for (const [k, v] of Object.entries(value)) walk(v, k, depth + 1);
    }
  };
  walk(parsed, '', 0);
  return out;
}

function* secretsIn(text: string, knownSecrets: readonly string[]): Generator<[kind: string, found: string]> {
  // A run of digits standing alone: one inside a hex digest or an id ("…cff4912…a34") is no card
  // number, and one in ten such runs passes Luhn by chance.
  for (const match of text.matchAll(/(?<![0-9A-Za-z_])[0-9]{13,19}(?![0-9A-Za-z_])/g)) if (luhnValid(match[0])) yield ['card number', match[0]];
  for (const match of text.matchAll(/whsec_[A-Za-z0-9_-]+/g)) yield ['webhook secret', match[0]];
  for (const match of text.matchAll(/eyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]+/g)) yield ['JWT', match[0]];
  for (const match of text.matchAll(/Bearer\s+[A-Za-z0-9._~+/=-]{16,}/gi)) yield ['bearer token', match[0]];
  // The passwords `Api.signUp` makes.
  for (const match of text.matchAll(/pw-[0-9a-f]{16}/g)) yield ['password', match[0]];
  for (const secret of knownSecrets) if (secret.length >= 8 && text.includes(secret)) yield ['known secret', secret];
}

// The Luhn check payments validates card numbers with: one rule for what looks like a card.
export { luhnValid };
