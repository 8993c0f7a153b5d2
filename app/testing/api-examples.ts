// Where each service's recorded API examples live, and how a recorded answer is made fit to
// publish (scripts/write-api-examples.ts writes them; test/openapi.test.ts checks them).
import { resolve } from 'node:path';
export type { ApiExamples } from '@paymesh/platform/openapi/api-examples';

export function apiExamplesPath(service: string): string {
  return resolve(import.meta.dirname, '../../services', service, 'src/api-examples.json');
}

const jwt = /^eyJ[\w-]*\.[\w-]*\.[\w-]*$/;
const sampleJwt = 'eyJhbGciOiJFUzI1NiIsImtpZCI6ImV4YW1wbGUifQ.eyJzdWIiOiJleGFtcGxlIn0.c2lnbmF0dXJl';
// A field named for a secret (client_secret, access_token, password), not one that only mentions one (token_endpoint_auth_method).
const secretKey = /(^|_)(secret|token|password)$/i;

/**
 * A recorded answer with its tokens and secrets replaced (they are a test platform's and worthless,
 * but a published document must not look like it leaks one): a JWT by a sample, another secret's
 * characters after its prefix (`whsec_`) by x's of the same length, so its format still holds.
 */
export function redactExample(value: unknown, key = ''): unknown {
  if (typeof value === 'string') {
    if (jwt.test(value)) return sampleJwt;
    if (secretKey.test(key) && value.length >= 16) {
      const prefix = /^[a-z]+_/.exec(value)?.[0] ?? '';
      return prefix + value.slice(prefix.length).replace(/[A-Za-z0-9]/g, 'x');
    }
    return value;
  }
  if (Array.isArray(value)) return value.map((item) => redactExample(item, key));
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactExample(v, k)]));
  return value;
}
