// GET /notifications/stream: the caller's inbox, live, as Server-Sent Events. Each new
// notification is an `event: notification` whose `id` is the notification's id, followed by an
// `event: unread_count`; a reconnect sending `Last-Event-ID` first gets what it missed.
import { localUserId } from '@paymesh/platform/auth/caller';
import { protectedRoutes } from '@paymesh/platform/auth/authenticate';
import { platformErrors } from '@paymesh/platform/errors';
import type { HttpServer } from '@paymesh/platform/http-server';
import type { Runtime } from '@paymesh/platform/runtime';
import { notificationsErrors } from '../errors.ts';
import type { InboxHub } from './inbox-hub.ts';
import { isNumericId } from '@paymesh/platform/ids';

export function streamRoutes(app: HttpServer, runtime: Runtime, hub: InboxHub): void {
  protectedRoutes(app, runtime.verify, (scope) => {
    scope.get('/notifications/stream', { config: { scope: 'notifications:read' } }, async (request, reply) => {
      const recipient = localUserId(request.caller);
      const header = request.headers['last-event-id'];
      if (header !== undefined && (Array.isArray(header) || (header !== '0' && !isNumericId(header)))) throw platformErrors.invalidParameter('last-event-id', 'Last-Event-ID is the id of a notification this stream sent.');
      if (!hub.hasRoom(recipient)) throw notificationsErrors.tooManyStreams();
      // The response is ours from here: Fastify neither serialises nor ends it.
      reply.hijack();
      reply.raw.setHeader('x-request-id', request.id);
      hub.open(recipient, request.caller, reply.raw, header === undefined ? undefined : BigInt(header));
    });
  });
}
