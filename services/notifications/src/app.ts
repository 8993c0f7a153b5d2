// The notifications service: the in-app inbox, fed by events from the other services.
import { resolve } from 'node:path';
import type { Subscription } from '@paymesh/platform/events/event';
import { createServiceServer } from '@paymesh/platform/runtime';
import { defineService } from '@paymesh/platform/service-host';
import { serviceConfigSpec } from '@paymesh/platform/service-config';
import { inboxRoutes } from './inbox/inbox-routes.ts';
import { notifyPaymentEvents } from './producers/notify-payment-events.ts';

export const notificationsService = defineService({
  name: 'notifications',
  configSpec: serviceConfigSpec('notifications'),
  migrationsDir: resolve(import.meta.dirname, '../migrations'),
  async build(runtime) {
    const app = createServiceServer(runtime);
    inboxRoutes(app, runtime);
    const subscriptions: Subscription[] = [];
    return { app, extra: subscriptions, close: async () => void (await Promise.all(subscriptions.map((s) => s.stop()))) };
  },
  async onStart(runtime, _config, subscriptions) {
    subscriptions.push(...(await notifyPaymentEvents(runtime)));
  },
});
