// The notifications service: the in-app inbox and its live streams, fed by events from the other
// services, and the same messages by email, push and signed webhooks, as each user chose.
import { resolve } from 'node:path';
import type { ConfigOf } from '@paymesh/platform/config';
import type { Runtime } from '@paymesh/platform/runtime';
import { defineService } from '@paymesh/platform/service-declaration';
import { serviceAudience } from '@paymesh/platform/service-config';
import { ClientCredentialsTokenSource, ServiceClient } from '@paymesh/platform/service-client';
import { hear } from '@paymesh/platform/events/follow-broadcast';
import { notificationsConfigSpec } from './config.ts';
import { InboxChanged } from './events.ts';
import { sendMessageRoutes } from './dispatch/send-message-routes.ts';
import { DeliveryMetrics } from './delivery/delivery-metrics.ts';
import { deliveryRoutes } from './delivery/delivery-routes.ts';
import { DeliveryWorker } from './delivery/delivery-worker.ts';
import { deviceRoutes } from './devices/device-routes.ts';
import { RecipientLookup } from './email/recipient-lookup.ts';
import { EmailChannel } from './email/email-channel.ts';
import { createMailer, type Mailer } from './email/mailer.ts';
import { inboxRoutes } from './inbox/inbox-routes.ts';
import { InboxHub } from './live/inbox-hub.ts';
import { InboxMetrics } from './inbox/inbox-metrics.ts';
import { streamRoutes } from './live/stream-routes.ts';
import type { Fanout } from './dispatch/dispatch-message.ts';
import { preferenceRoutes } from './preferences/preference-routes.ts';
import { paymentConsumers } from './producers/notify-payment-events.ts';
import { userConsumers } from './producers/notify-user-events.ts';
import { pushProviders } from './push/push-providers.ts';
import { PushChannel } from './push/push-channel.ts';
import { checkWebhookTarget, TargetRefusedError } from './webhooks/target-guard.ts';
import { WebhookChannel } from './webhooks/webhook-channel.ts';
import { webhookRoutes } from './webhooks/webhook-routes.ts';
import { webhookDescriptions } from './webhooks/webhook-api.ts';
import { apiExamplesIn } from '@paymesh/platform/openapi/api-examples';
import { numericIdPattern } from '@paymesh/platform/ids';

/** What the notifications routes, consumers and jobs share; built once by `context`. */
export interface NotificationsContext {
  readonly runtime: Runtime;
  readonly config: ConfigOf<typeof notificationsConfigSpec>;
  readonly hub: InboxHub;
  readonly worker: DeliveryWorker;
  readonly fanout: Fanout;
  readonly mailer: Mailer;
  readonly push: PushChannel;
  /** Webhook URLs are chosen by users: refused when they point inside our network. */
  readonly checkTarget: (url: string) => Promise<void>;
  /** The same for Web Push endpoints, which must also be https. */
  readonly checkPushEndpoint: (url: string) => Promise<void>;
}

export const notificationsService = defineService({
  name: 'notifications',
  api: {
    examples: apiExamplesIn(import.meta.dirname),
    title: 'Paymesh notifications',
    description: 'The in-app inbox and its live stream, notification preferences, push devices and signed webhooks.',
    tags: [
      { name: 'Inbox', description: 'A user\'s notifications and their live stream (server-sent events).', prefix: '/notifications' },
      { name: 'Preferences', description: 'Which notifications go to which channel.', prefix: '/notifications/preferences' },
      { name: 'Devices', description: 'Web Push subscriptions and mobile push tokens.', prefix: '/notifications/devices' },
      { name: 'Webhooks', description: 'Signed webhook endpoints.', prefix: '/notifications/webhooks' },
      { name: 'Deliveries', description: 'Each delivery of a notification to a channel, and redelivery.', prefix: '/notifications/deliveries' },
    ],
    operationIds: {
      'GET /notifications/preferences': 'getPreferences',
      'GET /notifications/stream': 'streamNotifications',
      'PUT /notifications/:id': 'markNotificationRead',
      'POST /notifications/mark_all_read': 'markAllNotificationsRead',
    },
    webhooks: webhookDescriptions(),
    documented: {
      'GET /notifications/stream': {
        headers: {
          'last-event-id': { type: 'string', pattern: `^(0|${numericIdPattern.slice(1, -1)})$`, description: 'On a reconnect, the id of the last notification received: the stream first sends what came after it (browsers send it by themselves).' },
        },
        responses: {
          '200': {
            description: 'Server-sent events until the token expires or is revoked: `retry: 3000` first; then for each new notification an `event: notification` (its `id` the notification\'s id, its data the notification as GET /notifications shows it) followed by `event: unread_count` (data `{"unread": n}`); finally `event: end` (data `{"reason": "token_expired" | "token_revoked"}`) before the server closes the stream. Reconnect with a fresh token and Last-Event-ID.',
            content: { 'text/event-stream': { schema: { type: 'string' } } },
          },
          '429': { description: 'Too many streams are open for this user (or, through the gateway, from this address).', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
          '503': { description: 'Through the gateway: it holds as many live streams as it may (streams_full); retry after Retry-After, another replica may have room.', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
        },
      },
    },
  },
  config: notificationsConfigSpec,
  migrations: resolve(import.meta.dirname, '../migrations'),

  async context(runtime, config): Promise<NotificationsContext> {
    const { db } = runtime.database;
    const allowPrivate = config.webhooksAllowPrivateNetworks;
    // Webhook and Web Push URLs are chosen by users: never let them point inside our network.
    const checkTarget = async (url: string) => void (await checkWebhookTarget(url, { allowPrivate }));
    // Push services are always https; plain http only for a local one in development.
    const checkPushEndpoint = async (url: string) => {
      if (!allowPrivate && URL.parse(url)?.protocol !== 'https:') throw new TargetRefusedError('scheme', 'Web Push endpoints must be https URLs');
      return checkWebhookTarget(url, { allowPrivate });
    };
    const tokens = new ClientCredentialsTokenSource({ tokenUrl: `${config.authUrl}/auth/token`, clientId: config.clientId, clientSecret: config.clientSecret, scope: 'users:read', resource: serviceAudience('users') });
    const users = new ServiceClient({ baseUrl: config.usersUrl, tokens });
    const mailer = createMailer({ smtpUrl: config.smtpUrl, from: config.emailFrom, outboxDir: config.emailOutboxDir, timeoutMs: config.deliveryTimeoutMs, maxConnections: config.deliveryConcurrency, logger: runtime.logger });
    const push = new PushChannel(db, pushProviders(config, checkPushEndpoint));
    const worker = new DeliveryWorker({
      db,
      senders: { email: new EmailChannel(mailer, new RecipientLookup(users)), push, webhook: new WebhookChannel(db, { timeoutMs: config.deliveryTimeoutMs, allowPrivate }) },
      retryDelaysMs: config.retryDelaysMs,
      attemptTimeoutMs: config.deliveryTimeoutMs,
      concurrency: config.deliveryConcurrency,
      logger: runtime.logger,
      metrics: new DeliveryMetrics(runtime.metrics.registry, db),
      databaseAvailable: () => runtime.database.available,
    });
    runtime.logger.info({ email: mailer.description, push: [...push.platforms] }, 'notification channels');
    if (config.smtpUrl === undefined && config.databaseUrl !== undefined) {
      // A deployment (it has its own PostgreSQL) that would mark every email delivered into a folder.
      runtime.logger.warn({ outboxDir: config.emailOutboxDir }, 'SMTP_URL is not set: emails are written to files, not sent; set SMTP_URL in production');
    }
    const hub = new InboxHub(db, runtime.logger, runtime.revocations, runtime.clock);
    const inboxMetrics = new InboxMetrics(runtime.metrics.registry, () => hub.openStreams);
    return {
      runtime,
      config,
      hub,
      worker,
      fanout: { pushPlatforms: push.platforms, afterCommit: () => worker.kick(), inboxMetrics },
      mailer,
      push,
      checkTarget,
      checkPushEndpoint: async (url) => void (await checkPushEndpoint(url)),
    };
  },

  routes(app, { runtime, hub, worker, fanout, checkTarget, checkPushEndpoint }) {
    inboxRoutes(app, runtime);
    sendMessageRoutes(app, runtime, fanout);
    streamRoutes(app, runtime, hub);
    preferenceRoutes(app, runtime);
    deviceRoutes(app, runtime, checkPushEndpoint);
    webhookRoutes(app, runtime, checkTarget);
    deliveryRoutes(app, runtime, () => worker.kick());
    // Streams never finish by themselves: end them as soon as the service starts to stop, so that
    // it does not wait for them (clients reconnect, with Last-Event-ID, to another replica).
    app.addHook('preClose', async () => hub.close());
  },

  publishes: [InboxChanged],

  consumes: (ctx) => [
    // payment.succeeded, payment.failed, refund.succeeded: a message to the payer.
    ...paymentConsumers(ctx.fanout),
    // Account messages (verification, reset, password changed, new sign-in), admin webhooks
    // disabled with their owner's privilege, and the erasure of a deleted user.
    ...userConsumers(ctx.runtime.logger, ctx.fanout, ctx.mailer),
    // Every replica refreshes the live streams it holds for the user whose inbox changed.
    // Not awaited: the transport must not wait for slow clients.
    hear(InboxChanged, 0, async (event) => ctx.hub.refresh(event.data.recipient_id)),
  ],

  jobs: [
    // Deliveries recorded by another replica, due for a retry, or left by a crash; a commit that
    // records deliveries wakes the worker at once (fanout.afterCommit).
    { name: 'delivery worker', everyMs: 1_000, atStart: true, run: (ctx) => ctx.worker.pass(), settle: (ctx) => ctx.worker.drain() },
    { name: 'live stream keep-alive', everyMs: 15_000, needsDatabase: false, run: async (ctx) => ctx.hub.keepAlive() },
  ],

  async stop({ worker, mailer, push }) {
    await worker.stop();
    await Promise.all([mailer.close(), push.close()]);
  },
});
