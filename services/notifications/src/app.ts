// The notifications service: the in-app inbox and its live streams, fed by events from the other
// services, and the same messages by email, push and signed webhooks, as each user chose.
import { resolve } from 'node:path';
import type { Subscription } from '@paymesh/platform/events/event';
import { createServiceServer } from '@paymesh/platform/runtime';
import { defineService } from '@paymesh/platform/service-host';
import { serviceAudience } from '@paymesh/platform/service-config';
import { ClientCredentialsTokenSource, ServiceClient } from '@paymesh/platform/service-client';
import { notificationsConfigSpec } from './config.ts';
import { sendMessageRoutes } from './dispatch/send-message-routes.ts';
import { DeliveryMetrics } from './delivery/delivery-metrics.ts';
import { deliveryRoutes } from './delivery/delivery-routes.ts';
import { DeliveryWorker } from './delivery/delivery-worker.ts';
import { deviceRoutes } from './devices/device-routes.ts';
import { EmailChannel } from './email/email-channel.ts';
import { createMailer } from './email/mailer.ts';
import { inboxRoutes } from './inbox/inbox-routes.ts';
import { InboxHub } from './live/inbox-hub.ts';
import { streamRoutes } from './live/stream-routes.ts';
import type { Fanout } from './dispatch/dispatch-message.ts';
import { preferenceRoutes } from './preferences/preference-routes.ts';
import { notifyPaymentEvents } from './producers/notify-payment-events.ts';
import { notifyUserEvents } from './producers/notify-user-events.ts';
import { pushProviders } from './push/push-providers.ts';
import { PushChannel } from './push/push-channel.ts';
import { checkWebhookTarget, TargetRefusedError } from './webhooks/target-guard.ts';
import { WebhookChannel } from './webhooks/webhook-channel.ts';
import { webhookRoutes } from './webhooks/webhook-routes.ts';

export const notificationsService = defineService({
  name: 'notifications',
  configSpec: notificationsConfigSpec,
  migrationsDir: resolve(import.meta.dirname, '../migrations'),
  async build(runtime, config) {
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
      senders: { email: new EmailChannel(mailer, users), push, webhook: new WebhookChannel(db, { timeoutMs: config.deliveryTimeoutMs, allowPrivate }) },
      retryDelaysMs: config.retryDelaysMs,
      attemptTimeoutMs: config.deliveryTimeoutMs,
      concurrency: config.deliveryConcurrency,
      logger: runtime.logger,
      metrics: new DeliveryMetrics(runtime.metrics.registry, db),
      databaseAvailable: () => runtime.database.available,
    });
    const fanout: Fanout = { pushPlatforms: push.platforms, afterCommit: () => (runtime.relay.kick(), worker.kick()) };
    runtime.logger.info({ email: mailer.description, push: [...push.platforms] }, 'notification channels');
    if (config.smtpUrl === undefined && config.databaseUrl !== undefined) {
      // A deployment (it has its own PostgreSQL) that would mark every email delivered into a folder.
      runtime.logger.warn({ outboxDir: config.emailOutboxDir }, 'SMTP_URL is not set: emails are written to files, not sent; set SMTP_URL in production');
    }

    const app = createServiceServer(runtime);
    const hub = new InboxHub(db, runtime.logger, runtime.revocations);
    inboxRoutes(app, runtime);
    sendMessageRoutes(app, runtime, fanout);
    streamRoutes(app, runtime, hub);
    preferenceRoutes(app, runtime);
    deviceRoutes(app, runtime, async (url) => void (await checkPushEndpoint(url)));
    webhookRoutes(app, runtime, checkTarget);
    deliveryRoutes(app, runtime, () => worker.kick());
    // Streams never finish by themselves: end them as soon as the service starts to stop, so that
    // it does not wait for them (clients reconnect, with Last-Event-ID, to another replica).
    app.addHook('preClose', async () => hub.close());
    const subscriptions: Subscription[] = [];
    return {
      app,
      extra: { hub, subscriptions, worker, fanout, mailer },
      close: async () => {
        await Promise.all(subscriptions.map((s) => s.stop()));
        await worker.stop();
        await Promise.all([mailer.close(), push.close()]);
      },
    };
  },
  async onStart(runtime, _config, { hub, subscriptions, worker, fanout, mailer }) {
    subscriptions.push(...(await notifyPaymentEvents(runtime, fanout)), ...(await notifyUserEvents(runtime, fanout, mailer)));
    await hub.follow(runtime.transport, runtime.metrics);
    worker.start();
  },
});
