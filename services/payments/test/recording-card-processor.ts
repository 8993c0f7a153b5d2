// A card processor for the crash tests: the service's own processor behind it, every call recorded,
// and the money kept per authorisation as the processor's dashboard would show it (held, captured,
// voided, refunded), applying each idempotency key once as the processor contract says. It can hold
// a call (a slow processor), or let one reach the processor and never bring its answer back: the
// image of the payments process killed between the processor's answer and its own commit.
import type { AuthorizationOutcome, AuthorizeRequest, CaptureRequest, CardProcessor, RefundOutcome, RefundRequest, VoidRequest } from '../src/processor/card-processor.ts';
import type { CardDetails } from '../src/processor/card-details.ts';
import type { PaymentsContext } from '../src/payments-context.ts';

export type Operation = 'authorize' | 'capture' | 'void' | 'refund';

export interface Charge {
  readonly authorization: string;
  readonly amountMinor: bigint;
  capturedMinor: bigint;
  voided: boolean;
  refundedMinor: bigint;
}

export interface RecordedCall {
  readonly operation: Operation;
  readonly idempotencyKey: string;
}

/** What to do with the next call of an operation. */
type Fault = { readonly kind: 'hold'; readonly open: Promise<void>; readonly arrived: () => void } | { readonly kind: 'crash-after' | 'crash-before'; readonly arrived: () => void };

export class RecordingCardProcessor implements CardProcessor {
  readonly name: string;
  readonly calls: RecordedCall[] = [];
  /** Every authorisation the processor gave, by id. */
  readonly charges = new Map<string, Charge>();
  /** Uses of the processor a real one would refuse or that break its contract. */
  readonly violations: string[] = [];
  readonly #inner: CardProcessor;
  readonly #answers = new Map<string, string>();
  readonly #faults = new Map<Operation, Fault>();
  /** Calls that will never answer until `killFrozen`, as their process is dead. */
  readonly #frozen: ((error: Error) => void)[] = [];

  constructor(inner: CardProcessor) {
    this.#inner = inner;
    this.name = inner.name;
  }

  /** Puts this processor in the service's place; returns what puts the old one back. */
  static install(ctx: PaymentsContext): { processor: RecordingCardProcessor; restore: () => void } {
    const mutable = ctx as { processor: CardProcessor };
    const previous = mutable.processor;
    const processor = new RecordingCardProcessor(previous);
    mutable.processor = processor;
    return { processor, restore: () => void (mutable.processor = previous) };
  }

  /** The next `operation` waits until `open` resolves; the promise returned resolves once it arrived. */
  holdNext(operation: Operation, open: Promise<void>): Promise<void> {
    return new Promise((arrived) => this.#faults.set(operation, { kind: 'hold', open, arrived }));
  }

  /** The next `operation` is done at the processor and its answer never returns; resolves once done. */
  crashAfterNext(operation: Operation): Promise<void> {
    return new Promise((arrived) => this.#faults.set(operation, { kind: 'crash-after', arrived }));
  }

  /** The next `operation` never reaches the processor and never returns; resolves once it was sent. */
  crashBeforeNext(operation: Operation): Promise<void> {
    return new Promise((arrived) => this.#faults.set(operation, { kind: 'crash-before', arrived }));
  }

  /** Lets the frozen calls fail, so the requests that made them end (their outcome must change nothing). */
  killFrozen(): void {
    for (const reject of this.#frozen.splice(0)) reject(new Error('the process making this call was killed'));
  }

  /** What the card was charged in the end, per authorisation: captured less refunded. */
  netCharged(authorization: string): bigint {
    const charge = this.charges.get(authorization)!;
    return charge.capturedMinor - charge.refundedMinor;
  }

  /** Whether the authorisation still holds money on the card without having taken it. */
  holding(authorization: string): boolean {
    const charge = this.charges.get(authorization)!;
    return !charge.voided && charge.capturedMinor === 0n;
  }

  tokenize(card: CardDetails): Promise<string> {
    return this.#inner.tokenize(card);
  }

  authorize(request: AuthorizeRequest): Promise<AuthorizationOutcome> {
    return this.#call('authorize', request, () => this.#inner.authorize(request), (outcome) => {
      if (outcome.status !== 'authorized' && outcome.status !== 'pending') return;
      this.charges.set(outcome.authorization, { authorization: outcome.authorization, amountMinor: request.amountMinor, capturedMinor: request.capture ? request.amountMinor : 0n, voided: false, refundedMinor: 0n });
    });
  }

  capture(request: CaptureRequest): Promise<void> {
    return this.#call('capture', request, () => this.#inner.capture(request), () => {
      const charge = this.#charge(request.authorization, 'capture');
      if (charge === undefined) return;
      if (charge.capturedMinor > 0n || charge.voided) this.violations.push(`capture of ${request.authorization}, already captured or voided`);
      else if (request.amountMinor > charge.amountMinor) this.violations.push(`capture of ${request.authorization} beyond its amount`);
      else charge.capturedMinor = request.amountMinor;
    });
  }

  void(request: VoidRequest): Promise<void> {
    return this.#call('void', request, () => this.#inner.void(request), () => {
      const charge = this.#charge(request.authorization, 'void');
      if (charge === undefined) return;
      if (charge.capturedMinor > 0n) this.violations.push(`void of ${request.authorization}, already captured`);
      charge.voided = true;
    });
  }

  refund(request: RefundRequest): Promise<RefundOutcome> {
    return this.#call('refund', request, () => this.#inner.refund(request), (outcome) => {
      const charge = this.#charge(request.authorization, 'refund');
      if (charge === undefined || outcome.status !== 'succeeded') return;
      charge.refundedMinor += request.amountMinor;
      if (charge.refundedMinor > charge.capturedMinor) this.violations.push(`refunds of ${request.authorization} beyond what it captured`);
    });
  }

  #charge(authorization: string, operation: Operation): Charge | undefined {
    const charge = this.charges.get(authorization);
    if (charge === undefined) this.violations.push(`${operation} of an unknown authorisation ${authorization}`);
    return charge;
  }

  /** One call: faults first, then the processor; a key's effect is applied the first time only, and every repeat must get the same answer. */
  async #call<T>(operation: Operation, request: { readonly idempotencyKey: string }, call: () => Promise<T>, apply: (answer: T) => void): Promise<T> {
    const fault = this.#faults.get(operation);
    this.#faults.delete(operation);
    this.calls.push({ operation, idempotencyKey: request.idempotencyKey });
    if (fault?.kind === 'crash-before') {
      fault.arrived();
      return this.#freeze();
    }
    if (fault?.kind === 'hold') {
      fault.arrived();
      await fault.open;
    }
    const answer = await call();
    const text = JSON.stringify(answer ?? null);
    const first = this.#answers.get(request.idempotencyKey);
    if (first === undefined) {
      this.#answers.set(request.idempotencyKey, text);
      apply(answer);
    } else if (first !== text) {
      this.violations.push(`${operation} key ${request.idempotencyKey} answered differently the second time`);
    }
    if (fault?.kind === 'crash-after') {
      fault.arrived();
      return this.#freeze();
    }
    return answer;
  }

  #freeze<T>(): Promise<T> {
    return new Promise<T>((_, reject) => this.#frozen.push(reject));
  }
}
