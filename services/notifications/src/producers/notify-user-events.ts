// Events from the users service and auth: account messages (verify your email, reset your
// password, your password changed, a new sign-in) and the erasure of everything kept about a
// deleted user.
import { UserNewLogin } from '@paymesh/auth/events';
import { queryRows, sql } from '@paymesh/platform/db/open-database';
import { consume, type EventConsumer } from '@paymesh/platform/events/consume';
import type { EventData } from '@paymesh/platform/events/define-event';
import type { Runtime } from '@paymesh/platform/runtime';
import { UserDeleted, UserDisabled, UserEmailVerificationRequested, UserPasswordChanged, UserPasswordResetRequested, UserRegistrationAttempted, UserUpdated } from '@paymesh/users/events';
import type { Mailer } from '../email/mailer.ts';
import { dispatchMessage, type Fanout } from '../dispatch/dispatch-message.ts';
import { markErased } from '../messages/erased-recipients.ts';

type AccountEvent = typeof UserEmailVerificationRequested | typeof UserPasswordResetRequested | typeof UserRegistrationAttempted | typeof UserPasswordChanged | typeof UserNewLogin;

interface Template<C extends AccountEvent> {
  readonly type: string;
  readonly title: string;
  readonly message: (event: EventData<C>) => string;
  readonly actionLabel?: string;
  /** Its link acts through one mailbox: sent only to the address the event names, never without one. */
  readonly boundToAddress?: boolean;
}

const until = (expiresAt: string | undefined) => (expiresAt === undefined ? '' : ` It expires at ${new Date(expiresAt).toUTCString()}.`);

export function userConsumers(logger: Runtime['logger'], fanout: Fanout, mailer: Pick<Mailer, 'forget'>): EventConsumer[] {
  /** The message an account event becomes, to the account's holder. */
  const toHolder = <C extends AccountEvent>(contract: C, template: Template<C>) => consume(contract, async (tx, event) => {
    const e: EventData<AccountEvent> = event.data;
    const subject = contract.subject;
    const actionUrl = 'action_url' in e ? e.action_url : undefined;
    const email = 'email' in e ? e.email : undefined;
    if (actionUrl !== undefined && !['http:', 'https:'].includes(URL.parse(actionUrl)?.protocol ?? '')) {
      // Retrying cannot fix it, and an email without its link is useless: logged loudly, skipped.
      logger.error({ event: event.id, subject }, 'account event with an action_url that is not an http(s) URL: no email sent');
      return;
    }
    if (template.boundToAddress === true && (typeof email !== 'string' || email === '')) {
      // An event from before links named their address: sending it to whatever address the
      // account has now could deliver it to a mailbox it was not made for. The user asks again.
      logger.error({ event: event.id, subject }, 'account link event without the address it was made for: no email sent');
      return;
    }
    await dispatchMessage(tx, {
      recipientId: String(e.user_id),
      type: template.type,
      title: template.title,
      message: template.message(event.data),
      data: actionUrl === undefined ? {} : { action_url: actionUrl, action_label: template.actionLabel ?? 'Open' },
      emailTo: template.boundToAddress === true ? email : undefined,
    }, fanout);
  });
  const consumers: EventConsumer[] = [
    toHolder(UserEmailVerificationRequested, {
      type: 'account.verify_email',
      title: 'Confirm your email address',
      message: (e) => `Confirm that this is your email address to finish setting up your Paymesh account.${until(e.expires_at)} If you did not sign up, ignore this email.`,
      actionLabel: 'Confirm email address',
      boundToAddress: true,
    }),
    toHolder(UserPasswordResetRequested, {
      type: 'account.password_reset',
      title: 'Reset your password',
      message: (e) => `Someone asked to reset the password of your Paymesh account. If it was you, choose a new password with the link below.${until(e.expires_at)} If not, ignore this email: your password stays as it is.`,
      actionLabel: 'Choose a new password',
      boundToAddress: true,
    }),
    toHolder(UserRegistrationAttempted, {
      type: 'account.registration_attempt',
      title: 'Someone tried to register with your email address',
      message: () => 'Someone just tried to create a Paymesh account with this email address, which already has one. If it was you, log in with your username; if you forgot your password, reset it with the link below. If not, ignore this email: nothing changed.',
      actionLabel: 'Reset my password',
    }),
    toHolder(UserPasswordChanged, {
      type: 'security.password_changed',
      title: 'Your password was changed',
      message: () => 'The password of your Paymesh account was just changed, and every session was signed out. If this was not you, reset your password now and contact support.',
    }),
    toHolder(UserNewLogin, {
      type: 'security.new_login',
      title: 'New sign-in to your account',
      message: (e) => `Your Paymesh account was just signed in to${e.user_agent === undefined ? '' : ` from ${e.user_agent.slice(0, 100)}`}${e.ip === undefined ? '' : ` (${e.ip})`}. If this was not you, reset your password.`,
    }),
  // An admin's endpoint for every user's events is an admin's privilege: it stops when they stop
  // being one (demoted or disabled), until an admin enables it again.
  consume(UserDisabled, async (tx, event) => {
    await tx.execute(sql`update webhook_endpoints set disabled = true where owner_id = ${String(event.data.user_id)} and all_users`);
  }),
  consume(UserUpdated, async (tx, event) => {
    const { changes, role } = event.data;
    if (changes.includes('role') && role !== 'admin') {
      await tx.execute(sql`update webhook_endpoints set disabled = true where owner_id = ${String(event.data.user_id)} and all_users`);
    }
  }),
  // Erasure: the inbox, preferences, devices and endpoints go; queued deliveries are canceled.
  // Delivery records stay (without content) as the log of what was sent. The far end's words go
  // too: an SMTP refusal typically quotes the address ("550 <ana@example.com>: unknown user")
  // and a webhook response can say anything.
  consume(UserDeleted, async (tx, event) => {
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
  // A message makes deliveries: the delivery worker is woken once they commit.
  return consumers.map((c) => ({ ...c, afterCommit: fanout.afterCommit }));
}

