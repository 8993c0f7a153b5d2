// The links the platform emails, as a person finds them in their mailbox: the platform sends over
// SMTP to an in-process sink (app/testing/smtp-sink.ts) and tests wait for the message.
import assert from 'node:assert/strict';
import { parseMail, startSmtpSink, type SmtpSink } from '@paymesh/app/testing/smtp-sink';
import { eventually } from '@paymesh/app/testing';

export const verifySubject = 'Confirm your email address';
export const resetSubject = 'Reset your password';

export interface Mailbox {
  /** The sink's address, for the platform's SMTP_URL. */
  readonly smtpUrl: string;
  /** The link under `label` ("Confirm email address: <url>") in the `nth` message with this subject to `address`. */
  link(address: string, subject: string, label: string, nth?: number): Promise<string>;
  close(): Promise<void>;
}

/** Starts the sink; a platform started with `SMTP_URL: mailbox.smtpUrl` sends to it. */
export async function openMailbox(): Promise<Mailbox> {
  const sink: SmtpSink = await startSmtpSink();
  return {
    smtpUrl: sink.url,
    async link(address, subject, label, nth = 1) {
      const mail = await eventually(async () => {
        const found = sink.received.filter((m) => m.rcptTo.includes(address.toLowerCase())).map((m) => parseMail(m.raw)).filter((m) => m.subject === subject);
        return found[nth - 1];
      }, { timeoutMs: 10_000 });
      const labelled = new RegExp(`${label}: (https?://\\S+)`).exec(mail.text);
      assert.ok(labelled !== null, `"${label}: <url>" in "${subject}"`);
      return labelled[1]!;
    },
    async close() {
      await sink.close();
    },
  };
}
