// The traffic a load run sends: what the platform's users do, weighted as a busy day might be.
// Each scenario is one user's action of one or two requests; each answer is checked against what
// the scenario expects (a declined test card's 402 is expected, a 500 never is).
import { randomInt, randomUUID } from 'node:crypto';
import { send, sendJson } from '../../bench/http-client.ts';
import type { LoadRecorder } from './load-recorder.ts';

export interface LoadUser {
  readonly username: string;
  readonly password: string;
  id: number;
  token: string;
  tokenAt: number;
}

interface PaidPayment {
  readonly id: string;
  readonly amountMinor: number;
  readonly idempotencyKey: string;
  readonly json: unknown;
  readonly user: LoadUser;
  refundedMinor: number;
}

/** The test processor's cards that decline, each with its own decline code. */
const decliningCards = [
  'pm_card_visa_chargeDeclined',
  'pm_card_visa_chargeDeclinedInsufficientFunds',
  'pm_card_chargeDeclinedExpiredCard',
  'pm_card_chargeDeclinedIncorrectCvc',
  'pm_card_chargeDeclinedProcessingError',
] as const;

/** Logged-in users renew their token well before the platform's 15 minutes run out. */
const tokenRenewMs = 10 * 60_000;
const keptPayments = 200;

interface Scenario {
  readonly weight: number;
  readonly run: (user: LoadUser) => Promise<void>;
}

export class TrafficMix {
  readonly #baseUrl: string;
  readonly #recorder: LoadRecorder;
  readonly #users: readonly LoadUser[];
  readonly #adminToken: (() => Promise<string>) | undefined;
  /** The account the failed logins aim at (never logged in otherwise: its lockout harms nobody). */
  readonly #loginTarget: string;
  #failedLoginsLeft: number;
  readonly #paid: PaidPayment[] = [];
  readonly #scenarios: readonly Scenario[];
  readonly #totalWeight: number;
  #picks = 0;
  readonly #credit: number[];

  constructor(options: { baseUrl: string; recorder: LoadRecorder; users: readonly LoadUser[]; adminToken?: () => Promise<string>; loginTarget: string; maxFailedLogins: number }) {
    this.#baseUrl = options.baseUrl;
    this.#recorder = options.recorder;
    this.#users = options.users;
    this.#adminToken = options.adminToken;
    this.#loginTarget = options.loginTarget;
    this.#failedLoginsLeft = options.maxFailedLogins;
    this.#scenarios = [
      { weight: 30, run: (u) => this.#payByCard(u) },
      { weight: 8, run: (u) => this.#payWithDecliningCard(u) },
      { weight: 5, run: (u) => this.#payWithThreeDSecure(u) },
      { weight: 4, run: (u) => this.#authoriseThenCapture(u) },
      { weight: this.#adminToken === undefined ? 0 : 5, run: () => this.#refund() },
      { weight: 3, run: () => this.#replay() },
      { weight: 5, run: (u) => this.#listPayments(u) },
      { weight: 8, run: (u) => this.#logIn(u) },
      { weight: 4, run: () => this.#failLogIn() },
      { weight: 1, run: () => this.#failClientAuth() },
      { weight: 12, run: (u) => this.#readInbox(u) },
      { weight: 8, run: (u) => this.#unreadCount(u) },
      { weight: 4, run: (u) => this.#markRead(u) },
    ];
    this.#totalWeight = this.#scenarios.reduce((sum, s) => sum + s.weight, 0);
    this.#credit = this.#scenarios.map(() => 0);
  }

  /**
   * One scenario for a random user: first each scenario once, in the order above (payments before
   * what needs one), then by smooth weighted round robin, so that even a short run on a busy machine
   * sends every kind of request, and each kind its exact share of any stretch of the run.
   */
  async runOne(): Promise<void> {
    const user = this.#users[randomInt(this.#users.length)]!;
    if (Date.now() - user.tokenAt > tokenRenewMs) await this.#logIn(user);
    return this.#next().run(user);
  }

  #next(): Scenario {
    const firstRound = this.#scenarios.filter((scenario) => scenario.weight > 0);
    if (this.#picks < firstRound.length) return firstRound[this.#picks++]!;
    // nginx's smooth weighted round robin: each turn every scenario earns its weight, the richest runs and pays the total.
    let richest = 0;
    this.#scenarios.forEach((scenario, i) => {
      this.#credit[i]! += scenario.weight;
      if (this.#credit[i]! > this.#credit[richest]!) richest = i;
    });
    this.#credit[richest]! -= this.#totalWeight;
    return this.#scenarios[richest]!;
  }

  /** Sends one request and records its answer; `expect` says which statuses the scenario expects. */
  async call(operation: string, method: string, path: string, options: { token?: string; json?: unknown; idempotencyKey?: string }, expect: readonly number[]): Promise<{ status: number; body: any; headers: Record<string, unknown> }> {
    const started = performance.now();
    const headers: Record<string, string> = options.idempotencyKey === undefined ? {} : { 'idempotency-key': options.idempotencyKey };
    try {
      const response = await sendJson(this.#baseUrl, method, path, { token: options.token, json: options.json, headers });
      const body = response.body as { error?: { code?: string } | string; code?: string } | undefined;
      const code = typeof body === 'object' && body !== null ? (typeof body.error === 'object' ? body.error.code : body.code) : undefined;
      this.#recorder.record({ operation, status: response.status, code, ms: performance.now() - started, expected: expect.includes(response.status) });
      return response;
    } catch (error) {
      // No answer at all (refused, reset, timed out): status 0, never expected.
      this.#recorder.record({ operation, status: 0, code: (error as NodeJS.ErrnoException).code ?? 'no_answer', ms: performance.now() - started, expected: false });
      return { status: 0, body: undefined, headers: {} };
    }
  }

  #amount(): string {
    return `${randomInt(1, 200)}.${String(randomInt(100)).padStart(2, '0')}`;
  }

  async #payByCard(user: LoadUser): Promise<void> {
    const json = { amount: this.#amount(), user_id: user.id, payment_method: 'pm_card_visa' };
    const idempotencyKey = randomUUID();
    const paid = await this.call('POST /payments (card)', 'POST', '/payments', { token: user.token, json, idempotencyKey }, [200]);
    if (paid.status !== 200) return;
    this.#paid.push({ id: paid.body.payment.id, amountMinor: paid.body.payment.amount_received ?? paid.body.payment.amount, idempotencyKey, json, user, refundedMinor: 0 });
    if (this.#paid.length > keptPayments) this.#paid.splice(0, this.#paid.length - keptPayments);
  }

  async #payWithDecliningCard(user: LoadUser): Promise<void> {
    const card = decliningCards[randomInt(decliningCards.length)]!;
    await this.call('POST /payments (declined card)', 'POST', '/payments', { token: user.token, json: { amount: this.#amount(), user_id: user.id, payment_method: card }, idempotencyKey: randomUUID() }, [402]);
  }

  async #payWithThreeDSecure(user: LoadUser): Promise<void> {
    const created = await this.call('POST /payments (3-D Secure)', 'POST', '/payments', { token: user.token, json: { amount: this.#amount(), user_id: user.id, payment_method: 'pm_card_authenticationRequired' }, idempotencyKey: randomUUID() }, [200]);
    if (created.status !== 200) return;
    await this.call('POST /payments/:id/confirm', 'POST', `/payments/${created.body.payment.id}/confirm`, { token: user.token, idempotencyKey: randomUUID() }, [200]);
  }

  async #authoriseThenCapture(user: LoadUser): Promise<void> {
    const created = await this.call('POST /payments (manual capture)', 'POST', '/payments', { token: user.token, json: { amount: this.#amount(), user_id: user.id, capture_method: 'manual' }, idempotencyKey: randomUUID() }, [200]);
    if (created.status !== 200) return;
    const amount = created.body.payment.amount as number;
    await this.call('POST /payments/:id/capture', 'POST', `/payments/${created.body.payment.id}/capture`, { token: user.token, json: { amount_to_capture: Math.max(1, Math.floor(amount * 0.8)) / 100 }, idempotencyKey: randomUUID() }, [200]);
  }

  /** A partial refund of a payment this run made, by the admin; never more than is left. */
  async #refund(): Promise<void> {
    const payment = this.#paid.find((p) => p.amountMinor - p.refundedMinor >= 2);
    if (payment === undefined || this.#adminToken === undefined) return;
    const amountMinor = Math.max(1, Math.floor((payment.amountMinor - payment.refundedMinor) / 2));
    payment.refundedMinor += amountMinor;
    await this.call('POST /payments/:id/refunds', 'POST', `/payments/${payment.id}/refunds`, { token: await this.#adminToken(), json: { amount: amountMinor / 100, reason: 'requested_by_customer' }, idempotencyKey: randomUUID() }, [200]);
  }

  /** A client retrying a payment it already made, with the same key: answered from the stored response. */
  async #replay(): Promise<void> {
    const payment = this.#paid[randomInt(Math.max(1, this.#paid.length))];
    if (payment === undefined) return;
    const replayed = await this.call('POST /payments (retry, same key)', 'POST', '/payments', { token: payment.user.token, json: payment.json, idempotencyKey: payment.idempotencyKey }, [200]);
    if (replayed.status === 200 && replayed.body.payment.id !== payment.id) throw new Error(`a retry with the same Idempotency-Key made a second payment (${replayed.body.payment.id} after ${payment.id})`);
  }

  async #listPayments(user: LoadUser): Promise<void> {
    await this.call('GET /payments', 'GET', '/payments?limit=10', { token: user.token }, [200]);
  }

  async #logIn(user: LoadUser): Promise<void> {
    const login = await this.call('POST /auth/login', 'POST', '/auth/login', { json: { username: user.username, password: user.password } }, [200]);
    if (login.status === 200) {
      user.token = login.body.token;
      user.tokenAt = Date.now();
    }
  }

  /** A wrong password for the run's target account: 401, then 429 once it is locked. */
  async #failLogIn(): Promise<void> {
    if (this.#failedLoginsLeft <= 0) return;
    this.#failedLoginsLeft -= 1;
    await this.call('POST /auth/login (wrong password)', 'POST', '/auth/login', { json: { username: this.#loginTarget, password: `wrong-${randomUUID()}` } }, [401, 429]);
  }

  /** A misconfigured integration: client credentials with an unknown client at the token endpoint (shares the failed-login budget). */
  async #failClientAuth(): Promise<void> {
    if (this.#failedLoginsLeft <= 0) return;
    this.#failedLoginsLeft -= 1;
    const started = performance.now();
    const operation = 'POST /auth/token (unknown client)';
    const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: `load-unknown-${randomUUID()}`, client_secret: 'not-a-secret' }).toString();
    try {
      const response = await send(this.#baseUrl, 'POST', '/auth/token', { 'content-type': 'application/x-www-form-urlencoded' }, form);
      let code: string | undefined;
      try {
        code = (JSON.parse(response.text) as { error?: string }).error;
      } catch {
        code = undefined; // not JSON (a proxy's page): the status says enough
      }
      this.#recorder.record({ operation, status: response.status, code, ms: performance.now() - started, expected: [400, 401, 429].includes(response.status) });
    } catch (error) {
      this.#recorder.record({ operation, status: 0, code: (error as NodeJS.ErrnoException).code ?? 'no_answer', ms: performance.now() - started, expected: false });
    }
  }

  async #readInbox(user: LoadUser): Promise<void> {
    await this.call('GET /notifications/', 'GET', '/notifications/?limit=20', { token: user.token }, [200]);
  }

  async #unreadCount(user: LoadUser): Promise<void> {
    await this.call('GET /notifications/unread_count', 'GET', '/notifications/unread_count', { token: user.token }, [200]);
  }

  async #markRead(user: LoadUser): Promise<void> {
    const unread = await this.call('GET /notifications/?unread=true', 'GET', '/notifications/?unread=true&limit=5', { token: user.token }, [200]);
    const first = Array.isArray(unread.body) ? (unread.body[0] as { id: number } | undefined) : undefined;
    if (first === undefined) return;
    await this.call('PUT /notifications/:id/', 'PUT', `/notifications/${first.id}/`, { token: user.token }, [200]);
  }
}
