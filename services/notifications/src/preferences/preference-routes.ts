// Per user, per notification type and channel. Only what a user changed is stored; everything
// else follows the catalogue (a custom type sent by an admin follows `message`). Security messages
// are locked on: switching one off is refused.
import { Type } from '@fastify/type-provider-typebox';
import { localUserId } from '@paymesh/platform/auth/caller';
import { protectedRoutes } from '@paymesh/platform/auth/authenticate';
import type { Db } from '@paymesh/platform/db/open-database';
import type { HttpServer } from '@paymesh/platform/http-server';
import type { Runtime } from '@paymesh/platform/runtime';
import { notificationsErrors } from '../errors.ts';
import { channels, isCatalogued, notificationType, notificationTypes, notificationTypeSchema, type Channel } from '../messages/notification-types.ts';
import { savePreferences, storedPreferences, type PreferenceChoice } from './preference-store.ts';

async function preferencesOf(db: Db, userId: string) {
  const stored = await storedPreferences(db, userId);
  return {
    object: 'notification_preferences',
    types: notificationTypes.map((t) => ({
      type: t.type,
      description: t.description,
      locked: t.locked,
      channels: Object.fromEntries(t.channels.map((c) => [c, t.locked || (stored.get(`${t.type}/${c}`) ?? true)])),
    })),
  };
}

export function preferenceRoutes(app: HttpServer, runtime: Runtime): void {
  const { db } = runtime.database;
  protectedRoutes(app, runtime.verify, (scope) => {
    scope.get('/notifications/preferences', { config: { scope: 'notifications:read' } }, async (request) => {
      return preferencesOf(db, localUserId(request.caller));
    });

    // { "payment.succeeded": { "email": false, "push": true }, … }
    scope.patch('/notifications/preferences', {
      config: { scope: 'notifications:write' },
      schema: {
        body: Type.Record(
          notificationTypeSchema,
          Type.Object(Object.fromEntries(channels.map((c) => [c, Type.Optional(Type.Boolean())])), { additionalProperties: false, minProperties: 1 }),
          // TypeBox's Record is only `patternProperties`: without this, a key outside the pattern
          // is not validated at all (any value, any length, stored as a type; null crashed the handler).
          { minProperties: 1, maxProperties: 50, additionalProperties: false },
        ),
      },
    }, async (request) => {
      const userId = localUserId(request.caller);
      const changes: PreferenceChoice[] = [];
      for (const [name, choice] of Object.entries(request.body)) {
        // Only the catalogue's types: a custom type follows `message`, so the table stays bounded.
        if (!isCatalogued(name)) throw notificationsErrors.unknownType(name);
        const type = notificationType(name);
        for (const [channel, enabled] of Object.entries(choice) as [Channel, boolean | undefined][]) {
          if (enabled === undefined) continue;
          if (!type.channels.includes(channel)) throw notificationsErrors.channelNotOffered(name, channel);
          if (type.locked && !enabled) throw notificationsErrors.preferenceLocked(name);
          changes.push({ type: name, channel, enabled });
        }
      }
      await savePreferences(db, userId, changes);
      return preferencesOf(db, userId);
    });
  });
}
