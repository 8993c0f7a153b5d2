// The notifications service: the in-app inbox, fed by events from the other services, and its
// live streams.
import { resolve } from 'node:path';
import type { Subscription } from '@paymesh/platform/events/event';
import { createServiceServer } from '@paymesh/platform/runtime';
import { defineService } from '@paymesh/platform/service-host';
import { serviceConfigSpec } from '@paymesh/platform/service-config';
import { inboxRoutes } from './inbox/inbox-routes.ts';
import { InboxHub } from './live/inbox-hub.ts';
import { streamRoutes } from './live/stream-routes.ts';
import { notifyPaymentEvents } from './producers/notify-payment-events.ts';

export const notificationsService = defineService({
  name: 'notifications',
  configSpec: serviceConfigSpec('notifications'),
  migrationsDir: resolve(import.meta.dirname, '../migrations'),
  async build(runtime) {
    const app = createServiceServer(runtime);
    const hub = new InboxHub(runtime.database.db, runtime.logger);
    inboxRoutes(app, runtime);
    streamRoutes(app, runtime, hub);
    // Streams never finish by themselves: end them as soon as the service starts to stop, so that
    // it does not wait for them (clients reconnect, with Last-Event-ID, to another replica).
    app.addHook('preClose', async () => hub.close());
    const subscriptions: Subscription[] = [];
    return { app, extra: { hub, subscriptions }, close: async () => void (await Promise.all(subscriptions.map((s) => s.stop()))) };
  },
  async onStart(runtime, _config, { hub, subscriptions }) {
    subscriptions.push(...(await notifyPaymentEvents(runtime)));
    await hub.follow(runtime.transport);
  },
});
