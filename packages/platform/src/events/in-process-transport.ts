// Embedded mode's transport. Publishing delivers to every consumer before it resolves, so the
// outbox marks an event published only once every consumer has committed its effect: a crash
// in between leaves the event in the outbox and it is delivered again (consumers dedupe).
import type { EventEnvelope, EventHandler, EventTransport, Subscription } from './event.ts';

interface Registration {
  readonly subject: string;
  readonly handler: EventHandler;
  readonly follower?: string;
}

export class InProcessTransport implements EventTransport {
  readonly kind = 'in-process' as const;
  readonly #consumers = new Map<string, Registration[]>();
  readonly #broadcasts = new Set<Registration>();
  /**
   * Recent events, for the replay a broadcast subscriber asks for when it starts; bounded by age
   * and by count so that a busy platform does not keep them all (the outbox is the durable copy).
   */
  readonly #recent: { at: number; event: EventEnvelope }[] = [];
  readonly #retainMs: number;
  readonly #retainCount: number;

  constructor(options: { retainMs?: number; retainCount?: number } = {}) {
    this.#retainMs = options.retainMs ?? 20 * 60 * 1000;
    this.#retainCount = options.retainCount ?? 10_000;
  }

  async publish(event: EventEnvelope): Promise<void> {
    const now = Date.now();
    this.#recent.push({ at: now, event });
    while (this.#recent.length > 0 && (this.#recent[0]!.at < now - this.#retainMs || this.#recent.length > this.#retainCount)) this.#recent.shift();
    const failures: unknown[] = [];
    for (const registrations of this.#consumers.values()) {
      // Replicas of one consumer share events: in one process there is one replica, take the first.
      const registration = registrations.find((r) => matches(r.subject, event.subject));
      if (registration === undefined) continue;
      try {
        await registration.handler(event);
      } catch (error) {
        failures.push(error);
      }
    }
    for (const registration of this.#broadcasts) {
      if (!matches(registration.subject, event.subject)) continue;
      try {
        await registration.handler(event);
      } catch (error) {
        failures.push(error);
      }
    }
    if (failures.length > 0) throw new AggregateError(failures, `${failures.length} consumer(s) failed on ${event.subject}`);
  }

  async consume(consumer: string, subject: string, handler: EventHandler): Promise<Subscription> {
    const key = `${consumer}\u0000${subject}`;
    const registration = { subject, handler };
    const list = this.#consumers.get(key) ?? [];
    list.push(registration);
    this.#consumers.set(key, list);
    return {
      stop: async () => {
        const current = this.#consumers.get(key) ?? [];
        const remaining = current.filter((r) => r !== registration);
        if (remaining.length === 0) this.#consumers.delete(key);
        else this.#consumers.set(key, remaining);
      },
    };
  }

  async broadcast(subject: string, handler: EventHandler, options: { replayMs: number; follower?: string }): Promise<Subscription> {
    const since = Date.now() - options.replayMs;
    for (const { at, event } of this.#recent) {
      if (at >= since && matches(subject, event.subject)) await handler(event);
    }
    const registration: Registration = { subject, handler, follower: options.follower };
    this.#broadcasts.add(registration);
    return { stop: async () => void this.#broadcasts.delete(registration) };
  }

  /**
   * What is subscribed now: each work-sharing consumer's subject, and each broadcast's. The
   * embedded platform runs every service on this one transport, so this is every subject consumed
   * anywhere (test/event-contracts.test.ts holds each to a contract and a producer).
   */
  subscriptions(): { readonly consumed: readonly { consumer: string; subject: string }[]; readonly followers: readonly { follower: string | undefined; subject: string }[] } {
    const consumed = [...this.#consumers.keys()].map((key) => {
      const [consumer, subject] = key.split('\u0000') as [string, string];
      return { consumer, subject };
    });
    return { consumed, followers: [...this.#broadcasts].map(({ follower, subject }) => ({ follower, subject })) };
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {
    this.#consumers.clear();
    this.#broadcasts.clear();
  }
}

/** NATS-style subject matching: `*` one token, `>` the rest. */
export function matches(pattern: string, subject: string): boolean {
  const p = pattern.split('.');
  const s = subject.split('.');
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '>') return s.length > i;
    if (i >= s.length) return false;
    if (p[i] !== '*' && p[i] !== s[i]) return false;
  }
  return p.length === s.length;
}
