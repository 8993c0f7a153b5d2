// The fault runner's load: concurrent clients creating payments through the gateway, each
// retrying on any error or timeout with the same Idempotency-Key until the payment is
// acknowledged (200) or its deadline passes, as a careful Stripe client does.

export interface Payer {
  readonly id: string;
  readonly username: string;
  readonly password: string;
  token: string;
}

/** What happened to one Idempotency-Key, as the client saw it. */
export interface KeyOutcome {
  readonly key: string;
  readonly userId: string;
  readonly amountMinor: bigint;
  /** The payment id of the acknowledged answer; undefined if none came before the deadline. */
  paymentId?: string;
  ackedAt?: number;
  attempts: number;
  first409At?: number;
  last409At?: number;
}

export interface LoadRecord {
  readonly keys: Map<string, KeyOutcome>;
  /** Failed attempts by cause: an HTTP status or a transport error's name. */
  readonly errors: Map<string, number>;
  acked: number;
}

export interface LoadOptions {
  readonly gatewayUrl: () => string;
  readonly payers: readonly Payer[];
  readonly count: number;
  readonly clients: number;
  /** Prefix of every key (and of each payment's description): names the scenario. */
  readonly keyPrefix: string;
  readonly perPaymentDeadlineMs: number;
  readonly attemptTimeoutMs: number;
  /**
   * New payments per second over all clients (retries are not paced). Below what the platform
   * sustains, so that a notification's delay measures the fault, not a backlog of the load itself.
   */
  readonly paymentsPerSecond: number;
  readonly relogin: (payer: Payer) => Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Amounts vary per payment (1.00 to 9.99) so that a payment stored with another's amount shows. */
export const amountMinorOf = (index: number) => 100n + BigInt((index * 37) % 900);

export function newLoadRecord(): LoadRecord {
  return { keys: new Map(), errors: new Map(), acked: 0 };
}

export async function runLoad(options: LoadOptions, record: LoadRecord): Promise<void> {
  let next = 0;
  const startedAt = Date.now();
  const failed = (cause: string) => record.errors.set(cause, (record.errors.get(cause) ?? 0) + 1);
  await Promise.all(Array.from({ length: options.clients }, async (_, client) => {
    const payer = options.payers[client % options.payers.length]!;
    for (let index = next++; index < options.count; index = next++) {
      const dueIn = startedAt + (index * 1000) / options.paymentsPerSecond - Date.now();
      if (dueIn > 0) await sleep(dueIn);
      const amountMinor = amountMinorOf(index);
      const key = `${options.keyPrefix}-${index}`;
      const outcome: KeyOutcome = { key, userId: payer.id, amountMinor, attempts: 0 };
      record.keys.set(key, outcome);
      const body = JSON.stringify({ amount: `${amountMinor / 100n}.${String(amountMinor % 100n).padStart(2, '0')}`, user_id: Number(payer.id), description: key });
      const deadline = Date.now() + options.perPaymentDeadlineMs;
      let backoffMs = 50;
      while (Date.now() < deadline) {
        outcome.attempts++;
        try {
          const response = await fetch(`${options.gatewayUrl()}/payments`, {
            method: 'POST',
            headers: { authorization: `Bearer ${payer.token}`, 'content-type': 'application/json', 'idempotency-key': key },
            body,
            signal: AbortSignal.timeout(options.attemptTimeoutMs),
          });
          const text = await response.text();
          if (response.status === 200) {
            outcome.paymentId = (JSON.parse(text) as { payment: { id: string } }).payment.id;
            outcome.ackedAt = Date.now();
            record.acked++;
            break;
          }
          failed(String(response.status));
          if (response.status === 409) {
            outcome.first409At ??= Date.now();
            outcome.last409At = Date.now();
          }
          // A token that expired during a long run: sign in again and retry with the same key.
          if (response.status === 401) await options.relogin(payer).catch(() => failed('relogin'));
          const retryAfterSec = Number(response.headers.get('retry-after'));
          if (retryAfterSec > 0) backoffMs = Math.max(backoffMs, Math.min(1_000, retryAfterSec * 1000));
        } catch (error) {
          failed(error instanceof Error ? (error.name === 'TypeError' ? `fetch:${String((error.cause as { code?: string } | undefined)?.code ?? 'failed')}` : error.name) : 'error');
        }
        await sleep(backoffMs);
        backoffMs = Math.min(1_000, backoffMs * 2);
      }
    }
  }));
}

/** Seconds the worst key kept answering 409 (from its first 409 to its answer, or its last 409). */
export function worst409Seconds(record: LoadRecord): number {
  let worstMs = 0;
  for (const outcome of record.keys.values()) {
    if (outcome.first409At === undefined) continue;
    worstMs = Math.max(worstMs, (outcome.ackedAt ?? outcome.last409At!) - outcome.first409At);
  }
  return worstMs / 1000;
}
