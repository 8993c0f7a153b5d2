// notifications: the inbox and its live streams, deliveries by channel and outcome, the webhook
// retries and dead letters, and how far behind the event consumers and the outboxes are.
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { paymeshDashboard } from './paymesh-dashboard.ts';
import { query, timeseries } from './panels.ts';
import { quantileOf, rateOf, series } from './promql.ts';

export function notifications(): Dashboard {
  return paymeshDashboard({
    uid: 'paymesh-notifications',
    title: 'Paymesh / Notifications',
    description: 'Inbox writes and live streams, deliveries by channel and outcome, webhook retries and dead letters, event consumer lag and the outbox backlog.',
    rows: {
      Inbox: [
        timeseries({
          title: 'Inbox notifications created',
          description: 'Notifications written to users\' inboxes per second.',
          unit: 'ops',
          queries: [query(`sum by (service) (${rateOf('inbox_notifications_created_total')})`, '{{service}}')],
        }),
        timeseries({
          title: 'Open inbox streams',
          description: 'Live inbox streams (server-sent events) held open by each instance.',
          unit: 'short',
          queries: [query(`sum by (instance) (${series('inbox_stream_connections')})`, '{{instance}}')],
        }),
        timeseries({
          title: 'Live streams held by each gateway',
          description: 'The same streams at the edge: each gateway replica holds at most MAX_STREAMS (10,000 by default) and answers 503 streams_full beyond (ADR 28); GatewayPoolFull warns when refusals go on.',
          unit: 'short',
          queries: [query(`sum by (instance) (${series('gateway_open_streams')})`, '{{instance}}')],
          width: 24,
        }),
      ],
      Deliveries: [
        timeseries({
          title: 'Delivery attempts by channel and outcome',
          description: 'Every delivery attempt per second: delivered, retry (a later attempt is scheduled), failed, invalid_target.',
          unit: 'ops',
          queries: [query(`sum by (channel, outcome) (${rateOf('notification_delivery_attempts_total')})`, '{{channel}} {{outcome}}')],
        }),
        timeseries({
          title: 'Delivery latency p95 by channel',
          description: 'From the message being recorded to its delivery, retries included.',
          unit: 's',
          queries: [query(quantileOf(0.95, 'notification_delivery_latency_seconds', ['channel']), '{{channel}}')],
        }),
        timeseries({
          title: 'Webhook attempts by outcome',
          description: 'Webhook delivery attempts per second; "retry" is an endpoint that failed and will be tried again.',
          unit: 'ops',
          queries: [query(`sum by (outcome) (${rateOf('notification_delivery_attempts_total', 'channel="webhook"')})`, '{{outcome}}')],
        }),
        timeseries({
          title: 'Webhook deliveries waiting and dead',
          description: 'Webhook deliveries pending a (re)try, and dead ones given up after every retry. A rising dead count fires WebhookDeadLetters (runbook webhook-dead-letters).',
          unit: 'short',
          queries: [query(`sum by (status) (${series('notification_deliveries', 'channel="webhook"')})`, '{{status}}')],
        }),
      ],
      Events: [
        timeseries({
          title: 'Consumer lag p95 by consumer and subject',
          description: 'From an event\'s outbox write to its consumer committing the effect: relay, broker and handler together. ConsumerLagHigh fires above 30 s for 10 minutes.',
          unit: 's',
          queries: [query(quantileOf(0.95, 'events_consume_lag_seconds', ['consumer', 'subject']), '{{consumer}} {{subject}}')],
          redFrom: 30,
          width: 24,
        }),
        timeseries({
          title: 'Outbox backlog by service',
          description: 'Events written to each service\'s outbox and not yet published. OutboxBacklogGrowing warns above 1000 and growing.',
          unit: 'short',
          queries: [query(`sum by (service) (${series('outbox_backlog_events')})`, '{{service}}')],
        }),
        timeseries({
          title: 'Oldest unpublished event age by service',
          description: 'Age of the oldest event waiting in each outbox; 0 when none waits. OutboxEventsStuck pages above 5 minutes.',
          unit: 's',
          queries: [query(`max by (service) (${series('outbox_oldest_unpublished_age_seconds')})`, '{{service}}')],
          redFrom: 300,
        }),
      ],
    },
  });
}
