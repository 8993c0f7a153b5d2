// Push devices: the caller's own only (another user's device id is 404). Registering checks the
// token or Web Push subscription; register-device.ts decides whose device it is.
import { Type, type Static } from '@fastify/type-provider-typebox';
import { localUserId } from '@paymesh/platform/auth/caller';
import { protectedRoutes } from '@paymesh/platform/auth/authenticate';
import { platformErrors } from '@paymesh/platform/errors';
import type { HttpServer } from '@paymesh/platform/http-server';
import type { Runtime } from '@paymesh/platform/runtime';
import { notificationsErrors } from '../errors.ts';
import { noContent } from '@paymesh/platform/openapi/no-content';
import { deleteDevice, devicesOf, type DeviceRow } from './device-store.ts';
import { registerDevice } from './register-device.ts';
import { objectIdParams } from '@paymesh/platform/ids';
import { errorAnswer } from '@paymesh/platform/openapi/use-open-api';
import { listOf, listSchema } from '@paymesh/platform/pagination';

const platformSchema = Type.Union([Type.Literal('ios'), Type.Literal('android'), Type.Literal('web')]);

/** A push device as the API shows it (publicDevice): never its whole token. */
const deviceSchema = Type.Object({
  id: Type.String({ description: 'The device\'s id (`dev_…`).' }),
  object: Type.Literal('device'),
  platform: platformSchema,
  token_suffix: Type.String({ description: 'The last 8 characters of the device token or Web Push endpoint, to recognise it.' }),
  created_at: Type.String({ format: 'date-time' }),
}, { description: 'A push device: a mobile push token or a Web Push subscription.' });

const publicDevice = (row: DeviceRow): Static<typeof deviceSchema> => ({
  id: row.id,
  object: 'device',
  platform: row.platform,
  // Enough to recognise it; the whole token is a credential to message the phone.
  token_suffix: row.token.slice(-8),
  created_at: new Date(row.created_at).toISOString(),
});

const base64url = Type.String({ pattern: '^[A-Za-z0-9_-]+={0,2}$', minLength: 16, maxLength: 200 });

export function deviceRoutes(app: HttpServer, runtime: Runtime, checkWebPushEndpoint: (url: string) => Promise<void>): void {
  const { db } = runtime.database;
  protectedRoutes(app, runtime.verify, (scope) => {
    scope.post('/notifications/devices', {
      config: { scope: 'notifications:write' },
      schema: {
        // One object, not a union of the two shapes: ajv reports a union's errors against its first
        // branch, so a web registration with a bad key was answered "missing device_token".
        body: Type.Object({
          platform: platformSchema,
          device_token: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_:.-]+$', minLength: 8, maxLength: 1024 })),
          subscription: Type.Optional(Type.Object({
            endpoint: Type.String({ minLength: 8, maxLength: 2048 }),
            keys: Type.Object({ p256dh: base64url, auth: base64url }, { additionalProperties: false }),
            expirationTime: Type.Optional(Type.Union([Type.Null(), Type.Number()])),
          }, { additionalProperties: false })),
        }, { additionalProperties: false }),
        response: {
          200: Type.Object(deviceSchema.properties, { description: 'This user had registered the token already: the same device (a Web Push subscription\'s keys are updated).' }),
          201: Type.Object(deviceSchema.properties, { description: 'The device is registered.' }),
          400: errorAnswer('A parameter is missing, unknown or not valid (parameter_missing, parameter_unknown, parameter_invalid), the Web Push subscription is not valid or not allowed (subscription_invalid), or the user has as many devices as allowed (too_many_devices).'),
          404: errorAnswer('The caller was deleted (recipient_not_found).'),
        },
      },
    }, async (request, reply) => {
      const userId = localUserId(request.caller);
      const body = request.body;
      let token: string;
      let keys: unknown = null;
      if (body.platform === 'web') {
        if (body.device_token !== undefined) throw platformErrors.unknownParameter('device_token');
        if (body.subscription === undefined) throw platformErrors.missingParameter('subscription');
        token = body.subscription.endpoint;
        keys = body.subscription.keys;
        if (URL.parse(token)?.protocol !== 'https:' && URL.parse(token)?.protocol !== 'http:') throw notificationsErrors.invalidSubscription('subscription.endpoint must be an https URL.');
        // Keys of the wrong size can never encrypt a push: refuse them now, not at every send.
        const p256dh = Buffer.from(body.subscription.keys.p256dh, 'base64url');
        if (p256dh.length !== 65 || p256dh[0] !== 0x04) throw notificationsErrors.invalidSubscription('subscription.keys.p256dh must be an uncompressed P-256 public key (65 bytes, base64url).');
        if (Buffer.from(body.subscription.keys.auth, 'base64url').length !== 16) throw notificationsErrors.invalidSubscription('subscription.keys.auth must be 16 bytes, base64url.');
        try {
          await checkWebPushEndpoint(token);
        } catch (error) {
          // The reason only: the guard's message names the addresses a host resolves to, and this
          // service's resolver is not a lookup service for users.
          throw notificationsErrors.invalidSubscription(`subscription.endpoint is not allowed (${(error as { reason?: string }).reason ?? 'unchecked'}): it must be a public https push service.`);
        }
      } else {
        if (body.subscription !== undefined) throw platformErrors.unknownParameter('subscription');
        if (body.device_token === undefined) throw platformErrors.missingParameter('device_token');
        token = body.device_token;
      }
      const device = await registerDevice(db, userId, { platform: body.platform, token, keys });
      return reply.code(device.created ? 201 : 200).send(publicDevice(device.row));
    });

    scope.get('/notifications/devices', {
      config: { scope: 'notifications:read' },
      schema: { response: { 200: listSchema(deviceSchema, 'The caller\'s devices, all of them in one page (`has_more` is always false).') } },
    }, async (request) => {
      const rows = await devicesOf(db, localUserId(request.caller));
      return listOf(rows.map(publicDevice), false);
    });

    scope.delete('/notifications/devices/:id', {
      config: { scope: 'notifications:write' },
      schema: { params: objectIdParams, response: { 204: noContent('Removed: the device gets no more pushes.'), 404: errorAnswer('No such device of the caller\'s (device_not_found).') } },
    }, async (request, reply) => {
      if (!(await deleteDevice(db, localUserId(request.caller), request.params.id))) throw notificationsErrors.deviceNotFound();
      return reply.code(204).send();
    });
  });
}
