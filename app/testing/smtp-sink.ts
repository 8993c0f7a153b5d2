// Test helpers for email: a real SMTP server on loopback that keeps what it receives (and can refuse
// or hold a recipient, or ask for credentials), and a small RFC 5322 / MIME reader that is enough to
// check the headers and the text and HTML alternatives of what the platform sends.
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';

// --- the SMTP sink ---------------------------------------------------------------------------

export interface ReceivedMail {
  /** The envelope sender ('' for a null sender). */
  readonly mailFrom: string;
  /** The envelope recipients, lower-cased. */
  readonly rcptTo: readonly string[];
  /** The message as it came over DATA. */
  readonly raw: string;
  /** The Subject header, unfolded ('' when there is none). */
  readonly subject: string;
  /** Who logged in, when the sink asks for credentials. */
  readonly user: unknown;
}

/** What the sink answers a recipient: a refusal code and/or a delay before answering. */
export interface RecipientBehaviour { readonly code?: number; readonly delayMs?: number }

export interface SmtpSinkOptions {
  /** Per recipient address (lower-case), what to answer from the start; `behaviour` can change it later. */
  readonly behaviour?: Readonly<Record<string, RecipientBehaviour>>;
  /** When given, the sink offers AUTH PLAIN and LOGIN (without TLS) and takes only these credentials. */
  readonly credentials?: { readonly user: string; readonly pass: string };
  /** The text of a recipient's refusal; by default "Mailbox unavailable" (5xx) or "Mailbox busy, try again later" (4xx). */
  readonly refusalText?: (address: string, code: number) => string;
}

export interface SmtpSink {
  /** smtp://127.0.0.1:<port>, without credentials. */
  readonly url: string;
  readonly port: number;
  readonly received: ReceivedMail[];
  /** Per recipient address (lower-case); an address not in the map is accepted at once. */
  readonly behaviour: Map<string, RecipientBehaviour>;
  close(): Promise<void>;
}

const defaultRefusalText = (_address: string, code: number) => (code >= 500 ? 'Mailbox unavailable' : 'Mailbox busy, try again later');

/** Like Postfix: a permanent refusal quotes the address. */
export const postfixRefusalText = (address: string, code: number) =>
  code >= 500 ? `<${address}>: Recipient address rejected: Mailbox unavailable` : 'Mailbox busy, try again later';

function subjectOf(raw: string): string {
  const normalized = raw.replace(/\r\n/g, '\n');
  const headers = normalized.slice(0, normalized.indexOf('\n\n')).replace(/\n[ \t]+/g, ' ');
  return /^subject: (.*)$/im.exec(headers)?.[1] ?? '';
}

/** Starts an SMTP server on 127.0.0.1 and a free port; each message is answered "Message queued as Q<n>". */
export async function startSmtpSink(options: SmtpSinkOptions = {}): Promise<SmtpSink> {
  const received: ReceivedMail[] = [];
  const behaviour = new Map<string, RecipientBehaviour>(Object.entries(options.behaviour ?? {}));
  const refusalText = options.refusalText ?? defaultRefusalText;
  const credentials = options.credentials;
  const auth: Partial<SMTPServerOptions> =
    credentials === undefined
      ? { authOptional: true, disabledCommands: ['STARTTLS', 'AUTH'] }
      : {
          authMethods: ['PLAIN', 'LOGIN'],
          allowInsecureAuth: true,
          disabledCommands: ['STARTTLS'],
          onAuth(login, _session, callback) {
            if (login.username === credentials.user && login.password === credentials.pass) {
              callback(null, { user: login.username });
            } else {
              callback(Object.assign(new Error('Authentication credentials invalid'), { responseCode: 535 }));
            }
          },
        };
  const server = new SMTPServer({
    ...auth,
    logger: false,
    onRcptTo(address, _session, callback) {
      const wanted = behaviour.get(address.address.toLowerCase());
      const answer = () => {
        if (wanted?.code === undefined) return callback();
        callback(Object.assign(new Error(refusalText(address.address, wanted.code)), { responseCode: wanted.code }));
      };
      if (wanted?.delayMs === undefined) answer();
      else setTimeout(answer, wanted.delayMs);
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        received.push({
          mailFrom: session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address,
          rcptTo: session.envelope.rcptTo.map((r) => r.address.toLowerCase()),
          raw,
          subject: subjectOf(raw),
          user: session.user,
        });
        callback(null, `Message queued as Q${received.length}`);
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  return {
    url: `smtp://127.0.0.1:${port}`,
    port,
    received,
    behaviour,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

// --- a small MIME reader: headers, and the text and HTML alternatives -------------------------

export interface Mail { readonly headers: Map<string, string>; readonly subject: string; readonly text: string; readonly html: string }

/** A message's (or a part's) header block, names lower-cased and folded lines joined, and its body; line ends become LF. */
export function splitHeaders(raw: string): { headers: Map<string, string>; body: string } {
  const normalized = raw.replace(/\r\n/g, '\n');
  const split = normalized.indexOf('\n\n');
  assert.ok(split > 0, 'a message has a header block and a body');
  const headers = new Map<string, string>();
  for (const line of normalized.slice(0, split).replace(/\n[ \t]+/g, ' ').split('\n')) {
    const colon = line.indexOf(':');
    assert.ok(colon > 0, `header line ${JSON.stringify(line)} has a name`);
    headers.set(line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim());
  }
  return { headers, body: normalized.slice(split + 2) };
}

/** A part's body decoded by its Content-Transfer-Encoding (base64, quoted-printable, or as it is). */
function decodeBody(encoding: string | undefined, body: string): string {
  if (encoding === 'base64') return Buffer.from(body, 'base64').toString('utf8');
  if (encoding === 'quoted-printable') {
    const bytes: number[] = [];
    const text = body.replace(/=\n/g, '');
    for (let i = 0; i < text.length; i++) {
      const hex = text[i] === '=' ? /^[0-9A-F]{2}/.exec(text.slice(i + 1, i + 3)) : null;
      if (hex !== null) {
        bytes.push(parseInt(hex[0], 16));
        i += 2;
      } else {
        bytes.push(...Buffer.from(text[i]!, 'utf8'));
      }
    }
    return Buffer.from(bytes).toString('utf8');
  }
  return body;
}

/** A multipart/alternative message: its headers and its decoded text and HTML parts (asserted present). */
export function parseMail(raw: string): Mail {
  const { headers, body } = splitHeaders(raw);
  const contentType = headers.get('content-type') ?? '';
  assert.match(contentType, /^multipart\/alternative/, 'a text and an HTML alternative');
  const boundary = /boundary="?([^";]+)"?/.exec(contentType)?.[1];
  assert.ok(boundary !== undefined);
  // The line break before a delimiter belongs to the delimiter (RFC 2046), not to the part.
  const parts = `\n${body}`.split(`\n--${boundary}`).slice(1, -1).map((chunk) => splitHeaders(chunk.replace(/^\n/, '')));
  const part = (type: string) => {
    const found = parts.find((p) => (p.headers.get('content-type') ?? '').startsWith(type));
    assert.ok(found !== undefined, `a ${type} part`);
    return decodeBody(found.headers.get('content-transfer-encoding')?.toLowerCase(), found.body);
  };
  return { headers, subject: headers.get('subject') ?? '', text: part('text/plain'), html: part('text/html') };
}
