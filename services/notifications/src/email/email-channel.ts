// Email deliveries: the address is looked up at the users service when sending (recipient-lookup.ts:
// notifications keeps no copy of it, so an address change or an erasure applies to messages still queued). A
// link bound to an address (verification, reset) goes to that address only, and only while it is
// still one of the account's (current, or waiting for its confirmation).
import type { AttemptResult, ChannelSender, ClaimedDelivery } from '../delivery/channel-sender.ts';
import { notificationType } from '../messages/notification-types.ts';
import type { Mailer } from './mailer.ts';
import type { RecipientLookup } from './recipient-lookup.ts';

export class EmailChannel implements ChannelSender {
  readonly #mailer: Mailer;
  readonly #recipients: RecipientLookup;

  constructor(mailer: Mailer, recipients: RecipientLookup) {
    this.#mailer = mailer;
    this.#recipients = recipients;
  }

  async send(delivery: ClaimedDelivery): Promise<AttemptResult> {
    const content = delivery.payload as { subject: string; text: string; html: string; to?: string } | null;
    if (content === null) return { outcome: { kind: 'failed', error: 'the message was erased' } };
    let recipient;
    try {
      recipient = await this.#recipients.find(delivery.recipient_id);
    } catch (error) {
      return { outcome: { kind: 'retry', error: (error as Error).message } };
    }
    if (recipient === undefined) return { outcome: { kind: 'canceled', error: 'recipient not found (deleted)' } };
    const { status, email_verified: verified } = recipient;
    // A link made for one mailbox (the account events name it) goes there only; any other message
    // to the account's current address, never to one still waiting for its confirmation.
    const bound = content.to;
    if (bound !== undefined && ![recipient.email, recipient.pending_email].some((own) => typeof own === 'string' && sameAddress(own, bound))) {
      // The owner moved away from it since: its link is void at users, and the mailbox is no
      // longer theirs to write to.
      return { outcome: { kind: 'canceled', error: 'the address this link was made for is no longer the account\'s' } };
    }
    const email = bound ?? recipient.email;
    if (email === null || email === '') return { outcome: { kind: 'failed', error: 'recipient has no email address' } };
    // Not failures (nothing to fix, nothing to alert on): these messages are simply not for email.
    if (status === 'disabled' && !notificationType(delivery.type).locked) return { outcome: { kind: 'canceled', error: 'recipient is disabled' } };
    // An address nobody has confirmed may be a typo, that is someone else's mailbox: it gets only
    // the messages that confirm or secure it, never a receipt.
    if (verified === false && !notificationType(delivery.type).locked) return { outcome: { kind: 'canceled', error: 'recipient email address is not verified' } };
    const outcome = await this.#mailer.send({ id: delivery.id, to: email, subject: content.subject, text: content.text, html: content.html });
    return { outcome };
  }

  close(): Promise<void> {
    return this.#mailer.close();
  }
}

/** Users keeps the domain lower case and compares local parts without case: so does this. */
function sameAddress(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}
