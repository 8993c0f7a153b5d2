// One message to one user, fanned out in the caller's transaction: the inbox notification and one
// delivery record per email, device and webhook endpoint it goes to. The delivery worker sends
// them after the commit, so a message is either recorded for every channel or for none.
import { queryRows, sql, type Db } from '@paymesh/platform/db/open-database';
import { currentTraceparent } from '@paymesh/platform/tracing/trace-context';
import { renderEmail } from '../email/render-email.ts';
import type { InboxMetrics } from '../inbox/inbox-metrics.ts';
import { insertNotification, type NotificationRow } from '../inbox/notification.ts';
import { enabledChannels } from '../preferences/enabled-channels.ts';
import { isErased } from '../messages/erased-recipients.ts';
import { newId } from '../messages/new-id.ts';
import { isCatalogued, notificationType } from '../messages/notification-types.ts';

export interface OutgoingMessage {
  readonly recipientId: string;
  readonly type: string;
  readonly title: string | undefined;
  readonly message: string;
  /** Shown in the inbox and sent to webhooks; `action_url` becomes the email's button. */
  readonly data: Record<string, unknown>;
  /**
   * The one address the email may go to (a link that confirms or resets through that mailbox):
   * kept in the delivery's payload, which is erased with it. Without it the email goes to the
   * recipient's current address, looked up when sending.
   */
  readonly emailTo?: string;
}

export interface Fanout {
  /** Device platforms whose push provider is configured: other devices get no delivery. */
  readonly pushPlatforms: ReadonlySet<string>;
  /** Call after the transaction commits: wakes the delivery worker (the transaction itself wakes the outbox relay). */
  readonly afterCommit: () => void;
  /** Counts the inbox notifications written (once their transaction commits). */
  readonly inboxMetrics: InboxMetrics;
}

export interface Dispatched {
  readonly notification: NotificationRow | undefined;
  readonly deliveries: number;
  /** The recipient was deleted: nothing was recorded. */
  readonly erased: boolean;
}

export async function dispatchMessage(tx: Db, message: OutgoingMessage, fanout: Fanout): Promise<Dispatched> {
  if (await isErased(tx, message.recipientId)) return { notification: undefined, deliveries: 0, erased: true };
  const type = notificationType(message.type);
  const channels = await enabledChannels(tx, message.recipientId, type);
  const notification = channels.has('in_app')
    ? await insertNotification(tx, { recipientId: message.recipientId, type: message.type, title: message.title, message: message.message, data: message.data })
    : undefined;
  if (notification !== undefined) fanout.inboxMetrics.recordCreated(message.type);
  const deliveries: { channel: string; targetId: string | null; payload: unknown }[] = [];

  if (channels.has('email')) {
    const actionUrl = typeof message.data.action_url === 'string' ? message.data.action_url : undefined;
    const subject = message.title ?? (message.message.length > 80 ? `${message.message.slice(0, 79)}…` : message.message);
    const email = renderEmail({
      subject,
      heading: subject,
      paragraphs: [message.message],
      action: actionUrl === undefined ? undefined : { label: typeof message.data.action_label === 'string' ? message.data.action_label : 'Open', url: actionUrl },
      footer: type.locked
        ? 'This is a security message about your account; it is always sent.'
        : `You get this email because ${type.description[0]!.toLowerCase()}${type.description.slice(1)} Choose what you receive in your notification preferences.`,
    });
    deliveries.push({ channel: 'email', targetId: null, payload: message.emailTo === undefined ? email : { ...email, to: message.emailTo } });
  }

  if (channels.has('push') && fanout.pushPlatforms.size > 0) {
    const devices = await queryRows<{ id: string; platform: string }>(tx, sql`select id, platform from devices where user_id = ${message.recipientId}`);
    // Providers cap a push at about 4 KB and FCM refuses some data keys: the caller's data goes
    // only if it fits and its keys are allowed.
    const extra = Object.entries(message.data)
      .filter(([k]) => !/^(from|message_type|collapse_key|notification|google\..*|gcm\..*)$/.test(k))
      .map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)] as const);
    const data: Record<string, string> = JSON.stringify(extra).length <= 2048 ? Object.fromEntries(extra) : {};
    // Set after the caller's data, which must not be able to relabel the message.
    data.type = message.type;
    if (notification !== undefined) data.notification_id = String(notification.id);
    else delete data.notification_id;
    const body = message.message.length > 500 ? `${message.message.slice(0, 499)}…` : message.message;
    const title = (message.title ?? 'Paymesh').slice(0, 200);
    for (const device of devices) {
      if (fanout.pushPlatforms.has(device.platform)) deliveries.push({ channel: 'push', targetId: device.id, payload: { title, body, data } });
    }
  }

  if (!type.secret) {
    // Endpoints subscribe to catalogued types; a custom type sent by an admin reaches `message` ones.
    const webhookType = isCatalogued(message.type) ? message.type : 'message';
    const endpoints = await queryRows<{ id: string }>(tx, sql`
      select id from webhook_endpoints
      where not disabled and (owner_id = ${message.recipientId} or all_users)
        and (${webhookType} = any(event_types) or '*' = any(event_types))`);
    if (endpoints.length > 0) {
      // One event, the same id at every endpoint: receivers drop duplicates by it.
      const own = { user_id: Number(message.recipientId), notification_id: notification === undefined ? null : Number(notification.id), title: message.title, message: message.message };
      const body = JSON.stringify({
        id: newId('evt'),
        object: 'event',
        type: message.type,
        created: Math.floor(Date.now() / 1000),
        // The caller's data goes beside these fields and never overrides them (a user_id in it
        // would otherwise tell the receiver the event is about someone else).
        data: { ...own, ...message.data, ...own },
      });
      for (const endpoint of endpoints) deliveries.push({ channel: 'webhook', targetId: endpoint.id, payload: { body } });
    }
  }

  // The worker sends later, out of this async context: the trace goes with the row.
  const traceparent = currentTraceparent() ?? null;
  for (const d of deliveries) {
    await tx.execute(sql`insert into deliveries (id, recipient_id, notification_id, type, channel, target_id, payload, traceparent)
      values (${newId('dlv')}, ${message.recipientId}, ${notification?.id ?? null}, ${message.type}, ${d.channel}, ${d.targetId}, ${JSON.stringify(d.payload)}::jsonb, ${traceparent})`);
  }
  return { notification, deliveries: deliveries.length, erased: false };
}
