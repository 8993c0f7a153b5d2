// Sends the email channel's messages: over SMTP when SMTP_URL is set, otherwise as .eml files in
// a folder, so a developer without a mail server still sees every message exactly as sent.

import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createTransport } from 'nodemailer';
import type { NodemailerError, SendMailOptions, SMTPPoolSentMessageInfo } from 'nodemailer';
import addressparser from 'nodemailer/lib/addressparser';
import type { Logger } from '@paymesh/platform/logger';
import type { DeliveryOutcome } from '../delivery/delivery-outcome.ts';

export interface EmailMessage {
  /** The delivery's id: stable across retries. The Message-ID is derived from it (<id@paymesh.local> or the From domain) so a retried message is recognisable as the same one. */
  readonly id: string;
  readonly to: string;
  readonly subject: string;
  readonly text: string;
  readonly html: string;
}

export interface Mailer {
  send(message: EmailMessage): Promise<DeliveryOutcome>;
  /** e.g. "SMTP smtp://127.0.0.1:2525" (password never shown) or "files in /path/to/dir" */
  readonly description: string;
  /** Erasure: removes every copy this mailer kept of these messages (the .eml files; SMTP keeps none). */
  forget(ids: readonly string[]): Promise<void>;
  close(): Promise<void>;
}

export interface MailerOptions {
  readonly smtpUrl: string | undefined;
  readonly from: string;
  readonly outboxDir: string;
  readonly timeoutMs: number;
  /** SMTP connections at most: as many as the deliveries attempted at once, so none waits in a queue. */
  readonly maxConnections?: number;
  readonly logger: Logger;
}

export function createMailer(options: MailerOptions): Mailer {
  return options.smtpUrl === undefined ? createOutboxMailer(options) : createSmtpMailer(options, options.smtpUrl);
}

function createSmtpMailer(options: MailerOptions, smtpUrl: string): Mailer {
  const description = `SMTP ${urlWithoutSecrets(smtpUrl)}`;
  // Keys given next to `url` apply where the URL's own query does not set them.
  const transport = createTransport({
    url: smtpUrl,
    pool: true,
    maxConnections: options.maxConnections ?? 5,
    connectionTimeout: options.timeoutMs,
    greetingTimeout: options.timeoutMs,
    socketTimeout: options.timeoutMs,
    dnsTimeout: options.timeoutMs,
    // The messages are plain strings: nothing should make nodemailer read a file or fetch a URL.
    disableFileAccess: true,
    disableUrlAccess: true,
  });
  // An 'error' event nobody listens to would crash the process; sends report their own errors.
  transport.on('error', (error: Error) => {
    options.logger.error({ err: error, mailer: description }, 'SMTP transport error');
  });
  const inFlight = new Set<Promise<DeliveryOutcome>>();
  const messageIdDomain = domainOf(options.from);

  async function deliver(message: EmailMessage): Promise<DeliveryOutcome> {
    const recipientProblem = singleRecipientProblem(message.to);
    if (recipientProblem !== undefined) return { kind: 'failed', error: recipientProblem };
    let info: SMTPPoolSentMessageInfo;
    try {
      info = await transport.sendMail(mailOptions(message, options.from, messageIdDomain));
    } catch (error) {
      return outcomeOfSmtpError(error);
    }
    return outcomeOfSmtpReply(info);
  }

  return {
    description,
    async send(message) {
      assertUsableId(message.id);
      const sending = deliver(message);
      inFlight.add(sending);
      const forget = () => inFlight.delete(sending);
      sending.then(forget, forget);
      return sending;
    },
    async forget() {
      // Sent mail is the recipient's; nothing stays here.
    },
    async close() {
      // The pool closes idle connections now and the busy ones once their message is through;
      // messages still queued fail with "pool was closed", which classifies as retry.
      transport.close();
      await Promise.allSettled([...inFlight]);
    },
  };
}

function createOutboxMailer(options: MailerOptions): Mailer {
  const outboxDir = path.resolve(options.outboxDir);
  // buffer: the raw message in one piece; CRLF: the bytes SMTP would carry, as RFC 5322 wants.
  const transport = createTransport({
    streamTransport: true,
    buffer: true,
    newline: 'windows',
    disableFileAccess: true,
    disableUrlAccess: true,
  });
  const messageIdDomain = domainOf(options.from);
  let announced = false;

  return {
    description: `files in ${outboxDir}`,
    async send(message) {
      assertUsableId(message.id);
      const recipientProblem = singleRecipientProblem(message.to);
      if (recipientProblem !== undefined) return { kind: 'failed', error: recipientProblem };
      const info = await transport.sendMail(mailOptions(message, options.from, messageIdDomain));
      if (!Buffer.isBuffer(info.message)) throw new Error('nodemailer stream transport returned a stream despite buffer: true');
      const file = path.join(outboxDir, `${message.id}.eml`);
      try {
        await writeFileAtomically(file, info.message);
      } catch (error) {
        // A full or read-only disk can be fixed by an operator; the message is fine as it is.
        return { kind: 'retry', error: `could not write ${file}: ${errorText(error)}` };
      }
      if (!announced) {
        announced = true;
        options.logger.info({ outboxDir }, `emails are written to ${outboxDir} (no SMTP_URL set)`);
      }
      return { kind: 'delivered', providerId: file };
    },
    async forget(ids) {
      for (const id of ids) {
        assertUsableId(id);
        await rm(path.join(outboxDir, `${id}.eml`), { force: true });
      }
    },
    async close() {
      transport.close();
    },
  };
}

function mailOptions(message: EmailMessage, from: string, messageIdDomain: string): SendMailOptions {
  return {
    from,
    to: message.to,
    subject: message.subject,
    text: message.text,
    html: message.html,
    messageId: `<${message.id}@${messageIdDomain}>`,
  };
}

/**
 * The id names the .eml file and is the left half of the Message-ID, so it must be a plain
 * token: a "/" or ".." would write outside the outbox and an "@" or ">" would break the header.
 * Ids are generated by the service, so anything else is a bug.
 */
function assertUsableId(id: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(id) || id.length > 200) {
    throw new Error(`email delivery id ${JSON.stringify(id)} is not a plain token (letters, digits, ".", "_", "-")`);
  }
}

/**
 * The recipient comes from a user's profile. "a@x.test, b@y.test" is valid header syntax for
 * two recipients; one delivery must never reach more than the one person it is for.
 */
function singleRecipientProblem(to: string): string | undefined {
  const mailboxes = addressparser(to, { flatten: true });
  // The address stays out of the error: it is kept in the delivery log, which outlives an erasure.
  if (mailboxes.length !== 1 || mailboxes[0]?.address === '') return `the recipient's address is not exactly one email address (${mailboxes.length} found)`;
  return undefined;
}

function domainOf(from: string): string {
  const address = addressparser(from, { flatten: true })[0]?.address ?? '';
  const at = address.lastIndexOf('@');
  const domain = at === -1 ? '' : address.slice(at + 1);
  return /^[A-Za-z0-9.-]+$/.test(domain) ? domain.toLowerCase() : 'paymesh.local';
}

/**
 * Only called once the server took the message. A refused recipient never gets here: with one
 * recipient and that one refused, nodemailer rejects with EENVELOPE carrying the reply code.
 */
function outcomeOfSmtpReply(info: SMTPPoolSentMessageInfo): DeliveryOutcome {
  return { kind: 'delivered', ...withStatusCode(replyCode(info.response)), providerId: providerIdOf(info) };
}

/** Codes for a recipient or sender refused before any server said so: the message is malformed. */
const malformedMessageCodes = new Set(['EENVELOPE', 'EMAXRECIPIENTS']);
/** The credentials are wrong, not the message: retrying after an operator fixes them delivers it. */
const authenticationCodes = new Set(['EAUTH', 'ENOAUTH', 'EOAUTH2']);

function outcomeOfSmtpError(error: unknown): DeliveryOutcome {
  if (!(error instanceof Error)) throw new Error('nodemailer rejected with a non-Error value', { cause: error });
  const smtpError: NodemailerError = error;
  const message = `${smtpError.code ?? error.name}: ${error.message}`;
  const code = smtpError.code ?? '';
  const statusCode = smtpError.responseCode;
  if (authenticationCodes.has(code)) return { kind: 'retry', error: message, ...withStatusCode(statusCode) };
  if (statusCode !== undefined) {
    // nodemailer sets `permanent` from the reply class: 5xx except 503 (bad sequence of commands).
    const permanent = smtpError.permanent ?? (statusCode >= 500 && statusCode !== 503);
    return { kind: permanent ? 'failed' : 'retry', error: message, statusCode };
  }
  if (malformedMessageCodes.has(code)) return { kind: 'failed', error: message };
  // Connection refused, timeouts, TLS trouble, a closed pool: all about the way there, not the message.
  return { kind: 'retry', error: message };
}

/** The SMTP reply code goes in statusCode (250, 450, 550…): the outcome's only numeric slot for it. */
function withStatusCode(statusCode: number | undefined): { statusCode?: number } {
  return statusCode === undefined ? {} : { statusCode };
}

function replyCode(response: string): number | undefined {
  const match = /^(\d{3})/.exec(response);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

/** What to look the message up by in the server's logs: its id for it when the reply names one. */
function providerIdOf(info: SMTPPoolSentMessageInfo): string {
  if (info.serverMessageId !== undefined) return info.serverMessageId;
  const queueId = /queued as ([A-Za-z0-9._-]+)/i.exec(info.response)?.[1];
  return queueId ?? info.response;
}

async function writeFileAtomically(file: string, content: Buffer): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  // A reader never sees half a message, and a retry replaces the file instead of adding one.
  const temporary = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFile(temporary, content);
    await rename(temporary, file);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

function urlWithoutSecrets(smtpUrl: string): string {
  let url: URL;
  try {
    url = new URL(smtpUrl);
  } catch {
    // Neither the value nor the parser's error (its `input` is the value): it may hold the password.
    throw new Error('SMTP_URL is not a valid URL');
  }
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') throw new Error(`SMTP_URL must be smtp:// or smtps://, got ${url.protocol}`);
  // The query can carry options (tls.*, secure) but nodemailer reads no secret from it; dropped anyway.
  return `${url.protocol}//${url.host}`;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
