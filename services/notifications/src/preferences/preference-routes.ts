// Per user, per notification type and channel. Only what a user changed is stored; everything
// else follows the catalogue (a custom type sent by an admin follows `message`). Security messages
// are locked on: switching one off is refused.
import { Type, type Static } from '@fastify/type-provider-typebox';
import { localUserId } from '@paymesh/platform/auth/caller';
import { protectedRoutes } from '@paymesh/platform/auth/authenticate';
import type { Db } from '@paymesh/platform/db/open-database';
import type { HttpServer } from '@paymesh/platform/http-server';
import { errorAnswer } from '@paymesh/platform/openapi/use-open-api';
import type { Runtime } from '@paymesh/platform/runtime';
import { notificationsErrors } from '../errors.ts';
import { channels, isCatalogued, notificationType, notificationTypes, notificationTypeSchema, type Channel } from '../messages/notification-types.ts';
import { savePreferences, storedPreferences, type PreferenceChoice } from './preference-store.ts';

/** What a user receives: every catalogued type, each with its channels on or off. */
const preferencesSchema = Type.Object({
  object: Type.Literal('notification_preferences'),
  types: Type.Array(Type.Object({
    // Unsafe<string>: the catalogue's names are strings to TypeScript, not literals.
    type: Type.Unsafe<string>(Type.Union(notificationTypes.map((t) => Type.Literal(t.type)), { description: 'A catalogued type; custom types follow `message`.' })),
    description: Type.String(),
    locked: Type.Boolean({ description: 'A security message: always sent on all its channels; switching one off is refused.' }),
    channels: Type.Object(
      Object.fromEntries(channels.map((c) => [c, Type.Optional(Type.Boolean())])),
      { description: 'Each channel this type is sent on (only those), and whether it is on for this user.' },
    ),
  }), { description: 'The catalogue, in its order.' }),
}, { description: 'The caller\'s notification preferences.' });

async function preferencesOf(db: Db, userId: string): Promise<Static<typeof preferencesSchema>> {
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
    scope.get('/notifications/preferences', { config: { scope: 'notifications:read' }, schema: { response: { 200: preferencesSchema } } }, async (request) => {
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
        response: {
          200: preferencesSchema,
          400: errorAnswer('A parameter is not valid (parameter_invalid, parameter_unknown), a type is not in the catalogue (type_unknown), a type is never sent on that channel (channel_not_offered), or a security message cannot be switched off (preference_locked); nothing was changed.'),
          404: errorAnswer('The caller was deleted (recipient_not_found).'),
        },
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
