// Messages to users, fanned out in the caller's transaction: each message's inbox notification and
// one delivery record per email, device and webhook endpoint it goes to. The delivery worker sends
// them after the commit, so a message is either recorded for every channel or for none. A group
// of messages (a group of events, consumeInGroups) costs the same few statements as one: the
// recipients' locks, one read of everything that decides the fan-out, then one insert per table.
import { queryRows, sql, type Db } from '@paymesh/platform/db/open-database';
import { currentRequestId } from '@paymesh/platform/request-context';
import { currentTraceparent } from '@paymesh/platform/tracing/trace-context';
import { renderEmail } from '../email/render-email.ts';
import type { InboxMetrics } from '../inbox/inbox-metrics.ts';
import { insertNotifications, type NotificationRow } from '../inbox/notification.ts';
import { lockRecipients } from '../messages/erased-recipients.ts';
import { newId } from '../messages/new-id.ts';
import { isCatalogued, notificationType, type NotificationType } from '../messages/notification-types.ts';
import { enabledChannels, type PreferenceRow } from '../preferences/enabled-channels.ts';

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

/** The request id and trace a message was sent in: its notification's announcement and its deliveries carry them. */
export interface SentFrom {
  readonly requestId: string | undefined;
  readonly traceparent: string | undefined;
}

/** The request id and trace of the code running now. */
export const currentlySentFrom = (): SentFrom => ({ requestId: currentRequestId(), traceparent: currentTraceparent() });

export async function dispatchMessage(tx: Db, message: OutgoingMessage, fanout: Fanout): Promise<Dispatched> {
  return (await dispatchMessages(tx, [{ ...message, ...currentlySentFrom() }], fanout))[0]!;
}

/** What decides where a group's messages go, read in one statement once their recipients are locked. */
interface Audience {
  readonly erased: string[];
  readonly preferences: PreferenceRow[];
  readonly devices: { id: string; user_id: string; platform: string }[];
  readonly endpoints: { id: string; owner_id: string; all_users: boolean; event_types: string[] }[];
}

interface Delivery {
  readonly message: number;
  readonly channel: string;
  readonly targetId: string | null;
  readonly payload: unknown;
}

/** Messages in the order given, each dispatched as `dispatchMessage` does one; their results in that order. */
export async function dispatchMessages(tx: Db, given: readonly (OutgoingMessage & SentFrom)[], fanout: Fanout): Promise<Dispatched[]> {
  if (given.length === 0) return [];
  // Recipients are matched as text below: one spelling per user id ("007" is 7).
  const messages = given.map((m) => ({ ...m, recipientId: canonicalId(m.recipientId) }));
  const recipients = JSON.stringify([...new Set(messages.map((m) => m.recipientId))]);
  // A user's erasure waits for these writes, or these see it (erased-recipients.ts).
  await lockRecipients(tx, messages.map((m) => m.recipientId));
  const [audience] = await queryRows<Audience>(tx, sql`
    with recipients as (select r::bigint as id from jsonb_array_elements_text(${recipients}::jsonb) as r)
    select
      (select coalesce(json_agg(user_id::text), '[]') from erased_recipients where user_id in (select id from recipients)) as erased,
      (select coalesce(json_agg(json_build_object('user_id', user_id::text, 'type', type, 'channel', channel, 'enabled', enabled)), '[]')
        from preferences where user_id in (select id from recipients)) as preferences,
      ${fanout.pushPlatforms.size === 0 ? sql`'[]'::json` : sql`(select coalesce(json_agg(json_build_object('id', id, 'user_id', user_id::text, 'platform', platform) order by created_at), '[]')
        from devices where user_id in (select id from recipients))`} as devices,
      (select coalesce(json_agg(json_build_object('id', id, 'owner_id', owner_id::text, 'all_users', all_users, 'event_types', event_types) order by id), '[]')
        from webhook_endpoints where not disabled and (owner_id in (select id from recipients) or all_users)) as endpoints`);
  const erased = new Set(audience!.erased);

  const live = messages.map((message, i) => ({ message, i, type: notificationType(message.type) })).filter(({ message }) => !erased.has(message.recipientId));
  const channels = live.map(({ message, type }) => enabledChannels(audience!.preferences, message.recipientId, type));
  const inApp = live.filter((_, k) => channels[k]!.has('in_app'));
  const rows = await insertNotifications(tx, inApp.map(({ message }) => ({ recipientId: message.recipientId, type: message.type, title: message.title, message: message.message, data: message.data, requestId: message.requestId, traceparent: message.traceparent })));
  const notifications = new Map(inApp.map(({ i }, k) => [i, rows[k]!]));
  for (const row of rows) fanout.inboxMetrics.recordCreated(row.type);

  const deliveries: Delivery[] = [];
  const count = new Map<number, number>();
  const add = (delivery: Delivery) => {
    deliveries.push(delivery);
    count.set(delivery.message, (count.get(delivery.message) ?? 0) + 1);
  };
  live.forEach(({ message, i, type }, k) => {
    const enabled = channels[k]!;
    const notification = notifications.get(i);
    if (enabled.has('email')) add({ message: i, channel: 'email', targetId: null, payload: emailOf(message, type) });
    if (enabled.has('push') && fanout.pushPlatforms.size > 0) {
      const push = pushOf(message, notification);
      for (const device of audience!.devices) {
        if (device.user_id === message.recipientId && fanout.pushPlatforms.has(device.platform)) add({ message: i, channel: 'push', targetId: device.id, payload: push });
      }
    }
    if (!type.secret) {
      // Endpoints subscribe to catalogued types; a custom type sent by an admin reaches `message` ones.
      const webhookType = isCatalogued(message.type) ? message.type : 'message';
      const endpoints = audience!.endpoints.filter((e) => (e.owner_id === message.recipientId || e.all_users) && (e.event_types.includes(webhookType) || e.event_types.includes('*')));
      if (endpoints.length > 0) {
        const body = webhookBodyOf(message, notification);
        for (const endpoint of endpoints) add({ message: i, channel: 'webhook', targetId: endpoint.id, payload: { body } });
      }
    }
  });

  if (deliveries.length > 0) {
    // The worker sends later, out of this async context: the trace goes with the row.
    const records = JSON.stringify(deliveries.map((d) => {
      const message = messages[d.message]!;
      return { id: newId('dlv'), recipient_id: message.recipientId, notification_id: notifications.get(d.message)?.id ?? null, type: message.type, channel: d.channel, target_id: d.targetId, payload: d.payload, traceparent: message.traceparent ?? null };
    }));
    await tx.execute(sql`insert into deliveries (id, recipient_id, notification_id, type, channel, target_id, payload, traceparent)
      select id, recipient_id, notification_id, type, channel, target_id, payload, traceparent
      from jsonb_to_recordset(${records}::jsonb) as x(id text, recipient_id bigint, notification_id bigint, type text, channel text, target_id text, payload jsonb, traceparent text)`);
  }
  return messages.map((_, i) => erased.has(messages[i]!.recipientId)
    ? { notification: undefined, deliveries: 0, erased: true }
    : { notification: notifications.get(i), deliveries: count.get(i) ?? 0, erased: false });
}

/** A user id as PostgreSQL prints a bigint; anything else is refused as the database would. */
function canonicalId(id: string): string {
  if (!/^\s*[+-]?[0-9]+\s*$/.test(id)) throw new Error(`not a user id: ${JSON.stringify(id)}`);
  return BigInt(id.trim()).toString();
}

function emailOf(message: OutgoingMessage, type: NotificationType): unknown {
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
  return message.emailTo === undefined ? email : { ...email, to: message.emailTo };
}

function pushOf(message: OutgoingMessage, notification: NotificationRow | undefined): unknown {
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
  return { title, body, data };
}

function webhookBodyOf(message: OutgoingMessage, notification: NotificationRow | undefined): string {
  // One event, the same id at every endpoint: receivers drop duplicates by it.
  const own = { user_id: Number(message.recipientId), notification_id: notification === undefined ? null : Number(notification.id), title: message.title, message: message.message };
  return JSON.stringify({
    id: newId('evt'),
    object: 'event',
    type: message.type,
    created: Math.floor(Date.now() / 1000),
    // The caller's data goes beside these fields and never overrides them (a user_id in it
    // would otherwise tell the receiver the event is about someone else).
    data: { ...own, ...message.data, ...own },
  });
}
