// Push devices: the caller's own only (another user's device id is 404). A token registered again
// starts a new device: if it belonged to someone else, their queued pushes find no device rather
// than reaching the new holder of the phone.
import { Type } from '@fastify/type-provider-typebox';
import { localUserId } from '@paymesh/platform/auth/caller';
import { protectedRoutes } from '@paymesh/platform/auth/authenticate';
import { queryRows, sql } from '@paymesh/platform/db/open-database';
import { platformErrors } from '@paymesh/platform/errors';
import type { HttpServer } from '@paymesh/platform/http-server';
import type { Runtime } from '@paymesh/platform/runtime';
import { notificationsErrors } from '../errors.ts';
import { isErased } from '../messages/erased-recipients.ts';
import { newId } from '../messages/new-id.ts';
import { objectIdParams } from '@paymesh/platform/ids';
import { listOf } from '@paymesh/platform/pagination';

const maxDevicesPerUser = 20;

interface DeviceRow { id: string; platform: string; token: string; created_at: string | Date }

const publicDevice = (row: DeviceRow) => ({
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
          platform: Type.Union([Type.Literal('ios'), Type.Literal('android'), Type.Literal('web')]),
          device_token: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_:.-]+$', minLength: 8, maxLength: 1024 })),
          subscription: Type.Optional(Type.Object({
            endpoint: Type.String({ minLength: 8, maxLength: 2048 }),
            keys: Type.Object({ p256dh: base64url, auth: base64url }, { additionalProperties: false }),
            expirationTime: Type.Optional(Type.Union([Type.Null(), Type.Number()])),
          }, { additionalProperties: false })),
        }, { additionalProperties: false }),
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
      const device = await db.transaction(async (tx) => {
        // A deleted user's token may live a few more seconds: nothing new is kept about them.
        if (await isErased(tx, userId)) throw notificationsErrors.recipientNotFound();
        // Serialises one user's registrations, so the cap holds under concurrency.
        await tx.execute(sql`select pg_advisory_xact_lock(hashtext('devices'), hashtext(${userId}))`);
        // And the token's registrations, so that two users taking one token at once cannot both
        // insert it (the second would hit devices_token and answer 500). Always user lock first,
        // then token lock: no two registrations wait on each other in a cycle.
        await tx.execute(sql`select pg_advisory_xact_lock(hashtext('device-token'), hashtext(${`${body.platform}:${token}`}))`);
        const [existing] = await queryRows<DeviceRow & { user_id: string }>(tx, sql`select * from devices where platform = ${body.platform} and token = ${token} for update`);
        if (existing !== undefined && String(existing.user_id) === userId) {
          // A browser that subscribed again may bring new keys for the same endpoint: pushes must
          // be encrypted for the keys it holds now.
          if (keys !== null) await tx.execute(sql`update devices set keys = ${JSON.stringify(keys)}::jsonb where id = ${existing.id}`);
          return { row: existing, created: false };
        }
        if (existing !== undefined) await tx.execute(sql`delete from devices where id = ${existing.id}`);
        const [count] = await queryRows<{ n: number }>(tx, sql`select count(*)::int as n from devices where user_id = ${userId}`);
        if (count!.n >= maxDevicesPerUser) throw notificationsErrors.tooManyDevices(maxDevicesPerUser);
        const [row] = await queryRows<DeviceRow>(tx, sql`insert into devices (id, user_id, platform, token, keys)
          values (${newId('dev')}, ${userId}, ${body.platform}, ${token}, ${keys === null ? null : JSON.stringify(keys)}::jsonb) returning *`);
        return { row: row!, created: true };
      });
      return reply.code(device.created ? 201 : 200).send(publicDevice(device.row));
    });

    scope.get('/notifications/devices', { config: { scope: 'notifications:read' } }, async (request) => {
      const rows = await queryRows<DeviceRow>(db, sql`select * from devices where user_id = ${localUserId(request.caller)} order by created_at desc`);
      return listOf(rows.map(publicDevice), false);
    });

    scope.delete('/notifications/devices/:id', { config: { scope: 'notifications:write' }, schema: { params: objectIdParams } }, async (request, reply) => {
      const rows = await queryRows(db, sql`delete from devices where id = ${request.params.id} and user_id = ${localUserId(request.caller)} returning id`);
      if (rows.length === 0) throw notificationsErrors.deviceNotFound();
      return reply.code(204).send();
    });
  });
}
