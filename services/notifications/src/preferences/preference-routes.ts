// Per user, per notification type and channel. Only what a user changed is stored; everything
// else follows the catalogue (a custom type sent by an admin follows `message`). Security messages
// are locked on: switching one off is refused.
import { Type } from '@fastify/type-provider-typebox';
import { localUserId } from '@paymesh/platform/auth/caller';
import { protectedRoutes } from '@paymesh/platform/auth/authenticate';
import { queryRows, sql, type Db } from '@paymesh/platform/db/open-database';
import type { HttpServer } from '@paymesh/platform/http-server';
import type { Runtime } from '@paymesh/platform/runtime';
import { notificationsErrors } from '../errors.ts';
import { isErased } from '../messages/erased-recipients.ts';
import { channels, isCatalogued, notificationType, notificationTypes, notificationTypeSchema, type Channel } from '../messages/notification-types.ts';

async function preferencesOf(db: Db, userId: string) {
  const rows = await queryRows<{ type: string; channel: Channel; enabled: boolean }>(db, sql`
    select type, channel, enabled from preferences where user_id = ${userId}`);
  const stored = new Map(rows.map((r) => [`${r.type}/${r.channel}`, r.enabled]));
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
      const changes: { type: string; channel: Channel; enabled: boolean }[] = [];
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
      await db.transaction(async (tx) => {
        // A deleted user's token may live a few more seconds: nothing new is kept about them.
        if (await isErased(tx, userId)) throw notificationsErrors.recipientNotFound();
        for (const c of changes) {
          await tx.execute(sql`insert into preferences (user_id, type, channel, enabled) values (${userId}, ${c.type}, ${c.channel}, ${c.enabled})
            on conflict (user_id, type, channel) do update set enabled = excluded.enabled, updated_at = now()`);
        }
      });
      return preferencesOf(db, userId);
    });
  });
}
