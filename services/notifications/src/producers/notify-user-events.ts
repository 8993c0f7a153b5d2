// Events from the users service: account messages (verify your email, reset your password, your
// password changed, a new sign-in) and the erasure of everything kept about a deleted user.
import { queryRows, sql, type Db } from '@paymesh/platform/db/open-database';
import type { EventEnvelope } from '@paymesh/platform/events/event';
import type { Runtime } from '@paymesh/platform/runtime';
import type { Consumer } from '@paymesh/platform/service-declaration';
import type { Mailer } from '../email/mailer.ts';
import { dispatchMessage, type Fanout } from '../messages/dispatch-message.ts';
import { markErased } from '../messages/erased-recipients.ts';

/** What account events carry. `action_url` holds a single-use token: it only ever goes by email. */
export interface AccountEvent {
  readonly user_id: number;
  /** The address a link was made for (verification, reset): its email goes there and nowhere else. */
  readonly email?: string;
  readonly action_url?: string;
  readonly expires_at?: string;
  readonly ip?: string;
  readonly user_agent?: string;
}

interface Template {
  readonly type: string;
  readonly title: string;
  readonly message: (event: AccountEvent) => string;
  readonly actionLabel?: string;
  /** Its link acts through one mailbox: sent only to the address the event names, never without one. */
  readonly boundToAddress?: boolean;
}

const until = (e: AccountEvent) => (e.expires_at === undefined ? '' : ` It expires at ${new Date(e.expires_at).toUTCString()}.`);

export const accountTemplates: Record<string, Template> = {
  'user.email_verification_requested': {
    type: 'account.verify_email',
    title: 'Confirm your email address',
    message: (e) => `Confirm that this is your email address to finish setting up your Paymesh account.${until(e)} If you did not sign up, ignore this email.`,
    actionLabel: 'Confirm email address',
    boundToAddress: true,
  },
  'user.password_reset_requested': {
    type: 'account.password_reset',
    title: 'Reset your password',
    message: (e) => `Someone asked to reset the password of your Paymesh account. If it was you, choose a new password with the link below.${until(e)} If not, ignore this email: your password stays as it is.`,
    actionLabel: 'Choose a new password',
    boundToAddress: true,
  },
  'user.registration_attempted': {
    type: 'account.registration_attempt',
    title: 'Someone tried to register with your email address',
    message: () => 'Someone just tried to create a Paymesh account with this email address, which already has one. If it was you, log in with your username; if you forgot your password, reset it with the link below. If not, ignore this email: nothing changed.',
    actionLabel: 'Reset my password',
  },
  'user.password_changed': {
    type: 'security.password_changed',
    title: 'Your password was changed',
    message: () => 'The password of your Paymesh account was just changed, and every session was signed out. If this was not you, reset your password now and contact support.',
  },
  'user.new_login': {
    type: 'security.new_login',
    title: 'New sign-in to your account',
    message: (e) => `Your Paymesh account was just signed in to${e.user_agent === undefined ? '' : ` from ${e.user_agent.slice(0, 100)}`}${e.ip === undefined ? '' : ` (${e.ip})`}. If this was not you, reset your password.`,
  },
};

/** What these consumers use of the service's context. */
interface UserEventsContext {
  readonly runtime: Runtime;
  readonly fanout: Fanout;
  readonly mailer: Pick<Mailer, 'forget'>;
}

const consume = (subject: string, handle: (tx: Db, event: EventEnvelope<AccountEvent>, ctx: UserEventsContext) => Promise<void>): Consumer<UserEventsContext, AccountEvent> => ({
  subject,
  handle,
  afterCommit: (ctx) => ctx.fanout.afterCommit(),
});

/** The account messages, and the erasure of a deleted user. */
export const userEventConsumers: Consumer<UserEventsContext, AccountEvent>[] = [
  ...Object.entries(accountTemplates).map(([subject, template]) => consume(subject, async (tx, event, { runtime, fanout }) => {
    const e = event.data;
    if (e.action_url !== undefined && !['http:', 'https:'].includes(URL.parse(e.action_url)?.protocol ?? '')) {
      // Retrying cannot fix it, and an email without its link is useless: logged loudly, skipped.
      runtime.logger.error({ event: event.id, subject }, 'account event with an action_url that is not an http(s) URL: no email sent');
      return;
    }
    if (template.boundToAddress === true && (typeof e.email !== 'string' || e.email === '')) {
      // An event from before links named their address: sending it to whatever address the
      // account has now could deliver it to a mailbox it was not made for. The user asks again.
      runtime.logger.error({ event: event.id, subject }, 'account link event without the address it was made for: no email sent');
      return;
    }
    await dispatchMessage(tx, {
      recipientId: String(e.user_id),
      type: template.type,
      title: template.title,
      message: template.message(e),
      data: e.action_url === undefined ? {} : { action_url: e.action_url, action_label: template.actionLabel ?? 'Open' },
      emailTo: template.boundToAddress === true ? e.email : undefined,
    }, fanout);
  })),
  // An admin's endpoint for every user's events is an admin's privilege: it stops when they stop
  // being one (demoted or disabled), until an admin enables it again.
  consume('user.disabled', async (tx, event) => {
    await tx.execute(sql`update webhook_endpoints set disabled = true where owner_id = ${String(event.data.user_id)} and all_users`);
  }),
  consume('user.updated', async (tx, event) => {
    const { changes, role } = event.data as AccountEvent & { changes?: string[]; role?: string };
    if (changes?.includes('role') === true && role !== 'admin') {
      await tx.execute(sql`update webhook_endpoints set disabled = true where owner_id = ${String(event.data.user_id)} and all_users`);
    }
  }),
  // Erasure: the inbox, preferences, devices and endpoints go; queued deliveries are canceled.
  // Delivery records stay (without content) as the log of what was sent. The far end's words go
  // too: an SMTP refusal typically quotes the address ("550 <ana@example.com>: unknown user")
  // and a webhook response can say anything.
  consume('user.deleted', async (tx, event, { mailer }) => {
    const id = String(event.data.user_id);
    await markErased(tx, id);
    // Files are not rolled back with the transaction; removing them twice is harmless.
    const emails = await queryRows<{ id: string }>(tx, sql`select id from deliveries where recipient_id = ${id} and channel = 'email'`);
    await mailer.forget(emails.map((e) => e.id));
    await tx.execute(sql`delete from notifications where recipient_id = ${id}`);
    await tx.execute(sql`delete from inbox_heads where recipient_id = ${id}`);
    await tx.execute(sql`delete from preferences where user_id = ${id}`);
    await tx.execute(sql`delete from devices where user_id = ${id}`);
    await tx.execute(sql`delete from webhook_endpoints where owner_id = ${id}`);
    await tx.execute(sql`update delivery_attempts set error = null, response = null
      where delivery_id in (select id from deliveries where recipient_id = ${id}) and (error is not null or response is not null)`);
    await tx.execute(sql`update deliveries set payload = null, last_error = null where recipient_id = ${id} and (payload is not null or last_error is not null)`);
    await tx.execute(sql`update deliveries set status = 'canceled', last_error = 'recipient deleted' where recipient_id = ${id} and status = 'pending'`);
  }),
];
