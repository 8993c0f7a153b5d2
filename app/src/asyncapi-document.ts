// The event catalogue as an AsyncAPI 3 document: every subject a service publishes, the payload
// schema its contract validates (the same TypeBox schema enqueue() type-checks and consumers check
// at the door), who sends it and who receives it. Built from the contracts in each service's
// src/events.ts and from what a running platform subscribes to, so that it cannot drift from the
// code; `npm run api:documents` writes it to docs/api/asyncapi.json.
import type { EventContract } from '@paymesh/platform/events/define-event';
import { apiVersion } from '@paymesh/platform/openapi/use-open-api';

/** A service that takes a subject: as a durable consumer (once per event), or as a broadcast follower (every replica). */
export interface Consumer {
  readonly service: string;
  readonly broadcast: boolean;
}

/** Subject → who takes it. */
export type Consumers = ReadonlyMap<string, readonly Consumer[]>;

export function asyncApiDocument(contracts: readonly EventContract[], consumers: Consumers): Record<string, unknown> {
  const sorted = [...contracts].sort((a, b) => a.subject.localeCompare(b.subject));
  const channels: Record<string, unknown> = {};
  const operations: Record<string, unknown> = {};
  const messages: Record<string, unknown> = {};
  for (const contract of sorted) {
    const id = camel(contract.subject);
    messages[id] = {
      name: contract.subject,
      title: contract.subject,
      summary: contract.description,
      contentType: 'application/json',
      headers: {
        type: 'object',
        properties: {
          'Nats-Msg-Id': { type: 'string', description: 'The event id: JetStream drops a republished duplicate within its window.' },
          traceparent: { type: 'string', description: 'W3C trace context of the publishing span, when tracing is on.' },
        },
      },
      payload: envelope(contract),
    };
    channels[id] = {
      address: `{stream}.${contract.subject}`,
      description: `${contract.description} Published by ${contract.producer}.`,
      parameters: { stream: { description: 'The lower-case JetStream stream name (NATS_STREAM, `paymesh` by default).', default: 'paymesh' } },
      messages: { [id]: { $ref: `#/components/messages/${id}` } },
    };
    const message = [{ $ref: `#/channels/${id}/messages/${id}` }];
    operations[`${contract.producer}Sends${pascal(id)}`] = { action: 'send', channel: { $ref: `#/channels/${id}` }, messages: message, summary: `${contract.producer} publishes ${contract.subject} (from its outbox, after the transaction that caused it commits).` };
    const takers = (consumers.get(contract.subject) ?? []).map(({ service, broadcast }) => ({ service, broadcast, operation: `${service}${broadcast ? 'Follows' : 'Receives'}${pascal(id)}` }));
    for (const { service, broadcast, operation } of takers.sort((a, b) => a.operation.localeCompare(b.operation))) {
      operations[operation] = {
        action: 'receive',
        channel: { $ref: `#/channels/${id}` },
        messages: message,
        summary: broadcast
          ? `Every replica of ${service} hears ${contract.subject} (a broadcast, replayed for a while to a replica that starts).`
          : `${service} consumes ${contract.subject} (a durable consumer: each event handled once, idempotently).`,
      };
    }
  }
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'Paymesh events',
      version: apiVersion,
      description: 'The events the services exchange through the transactional outbox: NATS JetStream in distributed mode (one stream, every subject under its lower-case name), in process in embedded mode. Each message is the envelope below; `data` is the contract\'s payload, checked by the consumer (a payload that does not match, or a newer major version, is dead-lettered).',
    },
    defaultContentType: 'application/json',
    servers: {
      nats: { host: 'localhost:4222', protocol: 'nats', description: 'NATS with JetStream (NATS_URL), in distributed mode.' },
    },
    channels,
    operations,
    components: { messages },
  };
}

/** What travels: the envelope (platform/events/event.ts) around the contract's payload. */
function envelope(contract: EventContract): Record<string, unknown> {
  return {
    type: 'object',
    required: ['id', 'subject', 'occurredAt', 'data'],
    properties: {
      id: { type: 'string', format: 'uuid', description: 'Unique per event: the dedupe key of every consumer.' },
      subject: { type: 'string', const: contract.subject },
      version: { type: 'integer', const: contract.version, description: 'The payload\'s major version (absent on events written before versions were carried: 1).' },
      occurredAt: { type: 'string', format: 'date-time', description: 'When the producing transaction wrote it.' },
      requestId: { type: 'string', description: 'The request that caused it, for the logs.' },
      // TypeBox schemas are JSON Schema; the round trip drops TypeBox's symbol keys.
      data: JSON.parse(JSON.stringify(contract.schema)) as unknown,
    },
  };
}

function camel(subject: string): string {
  return subject.split(/[._]/).map((word, i) => (i === 0 ? word : word[0]!.toUpperCase() + word.slice(1))).join('');
}

function pascal(id: string): string {
  return id[0]!.toUpperCase() + id.slice(1);
}
