// Distributed mode's transport: NATS JetStream. One stream holds every subject under a prefix;
// `Nats-Msg-Id` (the event id) lets the server drop a republished duplicate within its window;
// durable pull consumers with explicit ack give at-least-once delivery shared among replicas.
// Written for nats-server 2.9 (Debian's): one filter subject per consumer, no 2.10 features.
import { connect, headers, nanos, type NatsConnection } from '@nats-io/transport-node';
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, StorageType, type ConsumerMessages, type JetStreamClient, type JetStreamManager, type JsMsg } from '@nats-io/jetstream';
import type { Logger } from '../logger.ts';
import type { EventEnvelope, EventHandler, EventTransport, Subscription } from './event.ts';

export interface NatsTransportOptions {
  readonly url: string;
  /** Stream name; its lower-case form prefixes every subject, so tests can run side by side. */
  readonly stream: string;
  readonly connectionName: string;
  readonly logger: Logger;
  /** How long the server remembers message ids to drop duplicates. */
  readonly duplicateWindowMs?: number;
  /**
   * How long a delivered but unacknowledged event waits before redelivery: what an event handed to
   * a replica that then died (kill -9, a cut connection) waits before another replica gets it.
   * Short, so a crash delays events by seconds; a handler that runs longer says it is still working.
   */
  readonly ackWaitMs?: number;
}

// 3 s: after a broker kill -9 the events it had sent but the client never received wait out one
// ack wait from the restart (the fault run measured 6 s to the last notification with 4 s).
const defaultAckWaitMs = 3_000;
/**
 * Messages a consumer pulls at a time, handed to the handler together (their effects commit as a
 * group); each is told `working` from then on. nats.js pulls the next ones when three quarters
 * are taken, so up to about as many more can wait in its buffer, untold, while a group commits:
 * about one group's time (tens of milliseconds), far from the ack wait unless the database stalls,
 * as the 8 buffered one after another could before; a redelivery then is absorbed by the inbox.
 */
const bufferedMessages = 64;
/**
 * Pulls expire and are renewed this often, so a consumer finds a restarted server again quickly:
 * after a reconnection nats.js checks the consumer and, when JetStream is not answering yet, tries
 * again after this long (and it also sets the idle heartbeat to half of it).
 */
const pullExpiresMs = 2_000;
/**
 * How long a publish waits for the stream's acknowledgement. A publish sent in the instant a
 * restarted server accepts connections but before JetStream has recovered its streams is never
 * answered: it costs this long before the relay tries again. A retry of a publish that did land is
 * dropped by the server (same message id), so short is safe; under load an acknowledgement takes
 * milliseconds.
 */
const publishTimeoutMs = 1_000;

/** How long closing waits for the connection to drain before it just closes it. */
const drainTimeoutMs = 3_000;

/** The longest a failed event waits before it is delivered again. */
const maxRedeliveryDelayMs = 4_000;

/**
 * A durable name for (consumer, subject) that no other pair shares: every character outside
 * [A-Za-z0-9-] is escaped as `_xx` (its hex code), and `__` separates the two parts.
 */
function durableName(consumer: string, subject: string): string {
  const escape = (text: string) => text.replace(/[^A-Za-z0-9-]/g, (c) => `_${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return `${escape(consumer)}__${escape(subject)}`;
}

export class NatsTransport implements EventTransport {
  readonly kind = 'nats' as const;
  readonly #nc: NatsConnection;
  readonly #js: JetStreamClient;
  readonly #jsm: JetStreamManager;
  readonly #options: NatsTransportOptions;
  readonly #prefix: string;
  readonly #subscriptions = new Set<ConsumerMessages>();
  readonly #ackWaitMs: number;

  private constructor(nc: NatsConnection, jsm: JetStreamManager, options: NatsTransportOptions) {
    this.#nc = nc;
    this.#jsm = jsm;
    this.#js = jetstream(nc);
    this.#options = options;
    this.#prefix = options.stream.toLowerCase();
    this.#ackWaitMs = options.ackWaitMs ?? defaultAckWaitMs;
  }

  static async connect(options: NatsTransportOptions): Promise<NatsTransport> {
    // noAsyncTraces: nats.js otherwise builds an Error (a stack trace) up front for every request,
    // each JetStream publish and its timer included, in case it fails: 2 % of the payments service's
    // busy time under load in a profile (0.55 s of 27.7 s). A failed publish is logged with its
    // event id and subject instead.
    const nc = await connect({ servers: options.url, name: options.connectionName, maxReconnectAttempts: -1, reconnectTimeWait: 500, noAsyncTraces: true });
    const jsm = await jetstreamManager(nc).catch(async (error: unknown) => {
      await nc.close();
      throw error;
    });
    const transport = new NatsTransport(nc, jsm, options);
    try {
      await transport.#ensureStream();
    } catch (error) {
      // A caller retrying the connection must not leave this one open behind it.
      await nc.close();
      throw error;
    }
    return transport;
  }

  async #ensureStream(): Promise<void> {
    const config = {
      name: this.#options.stream,
      subjects: [`${this.#prefix}.>`],
      storage: StorageType.File,
      duplicate_window: nanos(this.#options.duplicateWindowMs ?? 10 * 60_000),
      max_age: nanos(7 * 24 * 60 * 60_000),
    };
    try {
      await this.#jsm.streams.info(config.name);
    } catch {
      try {
        await this.#jsm.streams.add(config);
      } catch (error) {
        // Another service created it between our look and our add.
        await this.#jsm.streams.info(config.name).catch(() => Promise.reject(error));
      }
    }
  }

  async publish(event: EventEnvelope): Promise<void> {
    // The trace context is a header, as W3C trace context is on any message transport: a
    // subscriber that is not ours (`nats sub`, a tracing proxy) finds it where it looks.
    const { traceparent, ...body } = event;
    const options = { msgID: event.id, timeout: publishTimeoutMs };
    if (traceparent === undefined) {
      await this.#js.publish(`${this.#prefix}.${event.subject}`, JSON.stringify(body), options);
      return;
    }
    const carried = headers();
    carried.set('traceparent', traceparent);
    await this.#js.publish(`${this.#prefix}.${event.subject}`, JSON.stringify(body), { ...options, headers: carried });
  }

  async consume(consumer: string, subject: string, handler: EventHandler): Promise<Subscription> {
    const durable = durableName(consumer, subject);
    const config = {
      durable_name: durable,
      filter_subject: `${this.#prefix}.${subject}`,
      ack_policy: AckPolicy.Explicit,
      ack_wait: nanos(this.#ackWaitMs),
      deliver_policy: DeliverPolicy.All,
      max_deliver: -1,
    };
    try {
      const info = await this.#jsm.consumers.info(this.#options.stream, durable);
      // A consumer made by an earlier release keeps its ack wait until told otherwise.
      if (info.config.ack_wait !== config.ack_wait) await this.#jsm.consumers.update(this.#options.stream, durable, { ack_wait: config.ack_wait });
    } catch {
      await this.#jsm.consumers.add(this.#options.stream, config).catch(async (error: unknown) => {
        await this.#jsm.consumers.info(this.#options.stream, durable).catch(() => Promise.reject(error));
      });
    }
    const c = await this.#js.consumers.get(this.#options.stream, durable);
    const messages = await c.consume({ max_messages: bufferedMessages, expires: pullExpiresMs });
    return this.#pump(messages, handler, true);
  }

  async broadcast(subject: string, handler: EventHandler, options: { replayMs: number; follower?: string }): Promise<Subscription> {
    // A start sequence, not a start time: nats.js's ordered consumer, recreated after the broker
    // comes back, keeps the start time beside its new start sequence, the server refuses the pair
    // ("deliver by start sequence, but optional start time is also set") and the process died
    // (the same bug as nats.go#1734, fixed there).
    const c = await this.#js.consumers.get(this.#options.stream, {
      filter_subjects: `${this.#prefix}.${subject}`,
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: await this.#firstSequenceSince(new Date(Date.now() - options.replayMs)),
    });
    const messages = await c.consume();
    return this.#pump(messages, handler, false);
  }

  /**
   * The first sequence the stream stored at or after `since`, by binary search over its sequences
   * (about 20 look-ups, once per subscription). A missing message counts as older: the stream only
   * loses messages from its front, by age.
   */
  async #firstSequenceSince(since: Date): Promise<number> {
    const { state } = await this.#jsm.streams.info(this.#options.stream);
    let low = Math.max(1, state.first_seq);
    let high = state.last_seq + 1;
    while (low < high) {
      const middle = Math.floor((low + high) / 2);
      const stored = await this.#jsm.streams.getMessage(this.#options.stream, { seq: middle }).catch(() => null);
      if (stored === null || stored.time < since) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  #pump(messages: ConsumerMessages, handler: EventHandler, explicitAck: boolean): Subscription {
    this.#subscriptions.add(messages);
    const handle = async (m: JsMsg, event: EventEnvelope): Promise<void> => {
      // A handler that runs longer than the ack wait tells the server it is still at it, so the
      // event is not handed to another replica meanwhile (a dead process stops telling it).
      const working = explicitAck ? setInterval(() => m.working(), Math.max(100, Math.floor(this.#ackWaitMs / 3))).unref() : undefined;
      try {
        await handler(event);
        if (explicitAck) m.ack();
      } catch (error) {
        // Short and capped: a failure is most often a dependency away for a moment (the database
        // restarting), and the event must follow within seconds of its return, not 30 s later.
        const delayMs = Math.min(maxRedeliveryDelayMs, 250 * 2 ** Math.min(m.info.deliveryCount, 7));
        this.#options.logger.warn({ err: error, eventId: event.id, subject: event.subject, deliveries: m.info.deliveryCount, delayMs }, 'event handler failed; redelivery scheduled');
        if (explicitAck) m.nak(delayMs);
      } finally {
        clearInterval(working);
      }
    };
    const done = (async () => {
      // The messages buffered are handed to the handler together, in order, without waiting for
      // the one before to finish: a consumer commits them as a group (db/commit-group.ts). An ordered
      // (broadcast) consumer has no acks to wait for: one at a time, as it always was.
      const inFlight = new Set<Promise<void>>();
      const limit = explicitAck ? bufferedMessages : 1;
      for await (const m of messages) {
        let event: EventEnvelope;
        try {
          event = m.json<EventEnvelope>();
          const traceparent = m.headers?.get('traceparent');
          if (traceparent) event = { ...event, traceparent };
        } catch (error) {
          // A message nobody can parse would be redelivered forever; drop it loudly.
          this.#options.logger.error({ err: error, subject: m.subject, seq: m.seq }, 'unparseable event dropped');
          if (explicitAck) m.term();
          continue;
        }
        const handling = handle(m, event);
        inFlight.add(handling);
        void handling.finally(() => inFlight.delete(handling));
        if (inFlight.size >= limit) await Promise.race(inFlight);
      }
      await Promise.all(inFlight);
    })();
    return {
      stop: async () => {
        this.#subscriptions.delete(messages);
        await messages.close();
        await done;
      },
    };
  }

  async ping(): Promise<void> {
    await this.#nc.flush();
    await this.#jsm.streams.info(this.#options.stream);
  }

  /** Deletes the stream (tests only: every test run has its own). */
  async destroyStream(): Promise<void> {
    await this.#jsm.streams.delete(this.#options.stream);
  }

  async close(): Promise<void> {
    // With the server gone, closing a consumer or draining would wait for a reconnection that may
    // never come: each gets a few seconds, then the connection is simply closed.
    const closed = await settlesWithin(Promise.all([...this.#subscriptions].map((messages) => messages.close())), drainTimeoutMs);
    this.#subscriptions.clear();
    const drained = closed && (await settlesWithin(this.#nc.drain(), drainTimeoutMs));
    if (!drained) {
      this.#options.logger.warn({ timeoutMs: drainTimeoutMs }, 'event connection did not drain in time; closing it');
      if (!this.#nc.isClosed()) await this.#nc.close();
    }
  }

}

/** Whether `work` succeeded within `ms` (its failure counts as not: the caller closes harder). */
function settlesWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  return Promise.race([work.then(() => true, () => false), late]).finally(() => clearTimeout(timer));
}
