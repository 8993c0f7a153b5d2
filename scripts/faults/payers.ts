// The fault runner's users: signed up and signed in through the gateway like anyone, each one
// the payer of a share of the load, with its inbox's unread count read through the API.
import type { Payer } from './load-client.ts';

async function call(base: string, method: string, path: string, options: { token?: string; json?: unknown } = {}): Promise<{ status: number; body: any }> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { ...(options.token === undefined ? {} : { authorization: `Bearer ${options.token}` }), ...(options.json === undefined ? {} : { 'content-type': 'application/json' }) },
    body: options.json === undefined ? undefined : JSON.stringify(options.json),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  return { status: response.status, body: text === '' ? undefined : JSON.parse(text) };
}

export async function login(base: string, payer: Pick<Payer, 'username' | 'password'>): Promise<string> {
  const response = await call(base, 'POST', '/auth/login', { json: { username: payer.username, password: payer.password } });
  if (response.status !== 200) throw new Error(`login of ${payer.username} failed: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body.token as string;
}

export async function signUpPayers(base: string, count: number, tag: string): Promise<Payer[]> {
  const payers: Payer[] = [];
  for (let i = 0; i < count; i++) {
    const username = `faults${tag}u${i}`;
    const password = `faults-password-${tag}-${i}-Xq7`;
    const signedUp = await call(base, 'POST', '/users', { json: { username, email: `${username}@example.com`, password } });
    if (signedUp.status !== 202) throw new Error(`sign-up failed: ${signedUp.status} ${JSON.stringify(signedUp.body)}`);
    const token = await login(base, { username, password });
    const me = await call(base, 'GET', '/users/me', { token });
    payers.push({ id: String(me.body.id), username, password, token });
  }
  return payers;
}

export async function unreadCounts(base: string, payers: readonly Payer[]): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const payer of payers) {
    let response = await call(base, 'GET', '/notifications/unread_count', { token: payer.token });
    if (response.status === 401) {
      payer.token = await login(base, payer);
      response = await call(base, 'GET', '/notifications/unread_count', { token: payer.token });
    }
    if (response.status !== 200) throw new Error(`unread count of ${payer.username}: ${response.status}`);
    counts.set(payer.id, Number(response.body.unread));
  }
  return counts;
}

/** Polls until `probe` answers true, at most `timeoutMs`; false if it never did. */
export async function until(probe: () => Promise<boolean>, timeoutMs: number, intervalMs = 250): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await probe().catch(() => false)) return true;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  return false;
}
