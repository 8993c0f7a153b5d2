import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { parseMail, splitHeaders, startSmtpSink, type SmtpSink } from '@paymesh/app/testing/smtp-sink';
import type { Logger } from '@paymesh/platform/logger';
import { createMailer } from '../src/email/mailer.ts';
import type { EmailMessage, Mailer } from '../src/email/mailer.ts';
import { renderEmail } from '../src/email/render-email.ts';

const from = 'Paymesh <no-reply@paymesh.test>';
const timeoutMs = 500;

const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  // Mailers first: their pooled connections say QUIT, so the servers close without waiting.
  for (const cleanup of cleanups.reverse()) await cleanup();
});

/** A real SMTP server on loopback that keeps what it receives; `refuse` maps a recipient to a reply code. */
async function startSink(options: { refuse?: Record<string, number>; credentials?: { user: string; pass: string } } = {}): Promise<SmtpSink> {
  const behaviour = Object.fromEntries(Object.entries(options.refuse ?? {}).map(([address, code]) => [address, { code }]));
  const sink = await startSmtpSink({ behaviour, credentials: options.credentials });
  cleanups.push(() => sink.close());
  return sink;
}

function logSpy(): { logger: Logger; lines: Array<{ level: string; msg: string }> } {
  const lines: Array<{ level: string; msg: string }> = [];
  const record = (level: string) => (first: unknown, second?: unknown) => {
    lines.push({ level, msg: typeof first === 'string' ? first : String(second) });
  };
  const logger = { info: record('info'), warn: record('warn'), error: record('error'), debug: record('debug') };
  return { logger: logger as unknown as Logger, lines };
}

function mailer(smtpUrl: string | undefined, outboxDir = path.join(tmpdir(), 'paymesh-unused-outbox')): Mailer {
  const created = createMailer({ smtpUrl, from, outboxDir, timeoutMs, logger: logSpy().logger });
  cleanups.push(() => created.close());
  return created;
}

function message(overrides: Partial<EmailMessage> = {}): EmailMessage {
  return {
    id: 'del_01HZX3',
    to: 'ana@example.test',
    subject: 'Your payout is on its way',
    text: 'Hello Ana,\n\n42.00 EUR were sent to your bank.\n',
    html: '<p>Hello Ana,</p><p>42.00 EUR were sent to your bank.</p>',
    ...overrides,
  };
}

async function closedPort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const address = probe.address();
  assert.ok(address !== null && typeof address === 'object');
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return address.port;
}

describe('email over SMTP', () => {
  it('a message is delivered through a real SMTP exchange, with a Message-ID derived from the delivery id', async () => {
    const sink = await startSink();
    const smtp = mailer(`smtp://127.0.0.1:${sink.port}`);

    const outcome = await smtp.send(message());

    assert.deepEqual(outcome, { kind: 'delivered', statusCode: 250, providerId: 'Q1' });
    assert.equal(sink.received.length, 1);
    const [mail] = sink.received;
    assert.ok(mail !== undefined);
    assert.equal(mail.mailFrom, 'no-reply@paymesh.test');
    assert.deepEqual(mail.rcptTo, ['ana@example.test']);
    const { text, html, headers } = parseMail(mail.raw);
    assert.equal(headers.get('subject'), 'Your payout is on its way');
    assert.equal(headers.get('message-id'), '<del_01HZX3@paymesh.test>');
    assert.equal(headers.get('to'), 'ana@example.test');
    assert.match(text, /42\.00 EUR were sent to your bank\./);
    assert.match(html, /<p>42\.00 EUR were sent to your bank\.<\/p>/);
  });

  it('a retried delivery carries the same Message-ID, so the receiver can tell it is the same message', async () => {
    const sink = await startSink();
    const smtp = mailer(`smtp://127.0.0.1:${sink.port}`);

    await smtp.send(message({ id: 'del_retry' }));
    await smtp.send(message({ id: 'del_retry' }));

    const ids = sink.received.map((mail) => splitHeaders(mail.raw).headers.get('message-id'));
    assert.deepEqual(ids, ['<del_retry@paymesh.test>', '<del_retry@paymesh.test>']);
  });

  it('SMTP credentials in the URL are used, and the description never shows the password', async () => {
    const password = 's3cr3t/pa%ss:word';
    const sink = await startSink({ credentials: { user: 'mailer@paymesh.test', pass: password } });
    const url = `smtp://${encodeURIComponent('mailer@paymesh.test')}:${encodeURIComponent(password)}@127.0.0.1:${sink.port}`;
    const smtp = mailer(url);

    assert.equal(smtp.description, `SMTP smtp://127.0.0.1:${sink.port}`);
    assert.ok(!smtp.description.includes(password) && !smtp.description.includes(encodeURIComponent(password)));
    const outcome = await smtp.send(message());

    assert.equal(outcome.kind, 'delivered');
    assert.equal(sink.received[0]?.user, 'mailer@paymesh.test');
  });

  it('wrong SMTP credentials are retried (the message is fine; the configuration is not)', async () => {
    const sink = await startSink({ credentials: { user: 'mailer', pass: 'right' } });
    const smtp = mailer(`smtp://mailer:wrong@127.0.0.1:${sink.port}`);

    const outcome = await smtp.send(message());

    assert.equal(outcome.kind, 'retry');
    assert.match(outcome.kind === 'retry' ? outcome.error : '', /EAUTH/);
    assert.equal(sink.received.length, 0);
  });

  it('a 5xx rejection of the recipient fails the delivery, a 4xx one is retried', async () => {
    const sink = await startSink({ refuse: { 'gone@example.test': 550, 'busy@example.test': 450 } });
    const smtp = mailer(`smtp://127.0.0.1:${sink.port}`);

    const gone = await smtp.send(message({ id: 'del_gone', to: 'gone@example.test' }));
    const busy = await smtp.send(message({ id: 'del_busy', to: 'busy@example.test' }));
    const fine = await smtp.send(message({ id: 'del_fine' }));

    assert.equal(gone.kind, 'failed');
    assert.equal(gone.statusCode, 550);
    assert.match(gone.kind === 'failed' ? gone.error : '', /550 Mailbox unavailable/);
    assert.equal(busy.kind, 'retry');
    assert.equal(busy.statusCode, 450);
    assert.equal(fine.kind, 'delivered', 'the pooled connection is still usable after the refusals');
    assert.deepEqual(
      sink.received.map((mail) => mail.rcptTo),
      [['ana@example.test']],
    );
  });

  it('a recipient field naming two people is refused before anything is sent', async () => {
    const sink = await startSink();
    const smtp = mailer(`smtp://127.0.0.1:${sink.port}`);

    const outcome = await smtp.send(message({ to: 'ana@example.test, eve@example.test' }));

    assert.equal(outcome.kind, 'failed');
    assert.equal(sink.received.length, 0);
  });

  it('a delivery id that is not a plain token is a programmer error', async () => {
    const smtp = mailer('smtp://127.0.0.1:1');
    await assert.rejects(smtp.send(message({ id: '../../etc/passwd' })), /not a plain token/);
    await assert.rejects(smtp.send(message({ id: 'a@b>' })), /not a plain token/);
  });

  it('the server being down is retried, within the timeout', async () => {
    const smtp = mailer(`smtp://127.0.0.1:${await closedPort()}`);

    const startedMs = performance.now();
    const outcome = await smtp.send(message());

    assert.equal(outcome.kind, 'retry');
    assert.ok(performance.now() - startedMs < timeoutMs * 4, 'answered well within the timeout budget');
  });

  it('a server that accepts the connection but never greets is retried after the timeout', async () => {
    // Takes the connection and says nothing: only the client's greeting timeout ends the wait.
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    cleanups.push(async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    });
    const address = silent.address();
    assert.ok(address !== null && typeof address === 'object');
    const smtp = mailer(`smtp://127.0.0.1:${address.port}`);

    const startedMs = performance.now();
    const outcome = await smtp.send(message());
    const elapsedMs = performance.now() - startedMs;

    assert.equal(outcome.kind, 'retry');
    assert.match(outcome.kind === 'retry' ? outcome.error : '', /ETIMEDOUT/);
    assert.ok(elapsedMs >= timeoutMs * 0.8 && elapsedMs < timeoutMs * 4, `took ${Math.round(elapsedMs)} ms`);
  });
});

describe('email as files (no SMTP_URL)', () => {
  it('a message is written as <id>.eml, a retry overwrites it, and the log says where, once', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'paymesh-outbox-'));
    cleanups.push(() => rm(root, { recursive: true, force: true }));
    const outboxDir = path.join(root, 'not', 'yet', 'there');
    const { logger, lines } = logSpy();
    const files = createMailer({ smtpUrl: undefined, from, outboxDir, timeoutMs, logger });
    cleanups.push(() => files.close());

    assert.equal(files.description, `files in ${outboxDir}`);
    const first = await files.send(message({ id: 'del_file', subject: 'First attempt' }));
    const second = await files.send(message({ id: 'del_file', subject: 'Second attempt' }));

    const file = path.join(outboxDir, 'del_file.eml');
    assert.deepEqual(first, { kind: 'delivered', providerId: file });
    assert.deepEqual(second, first);
    assert.deepEqual(await readdir(outboxDir), ['del_file.eml'], 'one file, no temporary leftovers');
    const raw = await readFile(file, 'utf8');
    assert.ok(!/[^\r]\n/.test(raw), 'CRLF line ends, as SMTP carries them');
    const { text, html, headers } = parseMail(raw);
    assert.equal(headers.get('subject'), 'Second attempt');
    assert.equal(headers.get('from'), 'Paymesh <no-reply@paymesh.test>');
    assert.equal(headers.get('to'), 'ana@example.test');
    assert.equal(headers.get('message-id'), '<del_file@paymesh.test>');
    assert.match(text, /42\.00 EUR/);
    assert.match(html, /<p>Hello Ana,<\/p>/);
    assert.deepEqual(lines, [{ level: 'info', msg: `emails are written to ${outboxDir} (no SMTP_URL set)` }]);
  });
});

describe('renderEmail', () => {
  const hostile = `<script>alert("x")</script>&'`;

  it('escapes HTML in every field', () => {
    const { html } = renderEmail(
      {
        subject: `Subject ${hostile}`,
        heading: `Heading ${hostile}`,
        paragraphs: [`Paragraph ${hostile}`, 'Second paragraph'],
        action: { label: `Label ${hostile}`, url: 'https://app.paymesh.test/payouts?q="><script>' },
        footer: `Footer ${hostile}`,
      },
      { productName: `Brand ${hostile}` },
    );

    assert.ok(!html.includes('<script>'), 'no raw <script> anywhere');
    assert.ok(!html.includes(`"x"`) && !html.includes(`&'`));
    for (const field of ['Subject', 'Heading', 'Paragraph', 'Label', 'Footer', 'Brand']) {
      assert.ok(html.includes(`${field} &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;`), `${field} is escaped`);
    }
    assert.match(html, /href="https:\/\/app\.paymesh\.test\/payouts\?q=%22%3E%3Cscript%3E"/);
  });

  it('lays out a self-contained HTML document: lang, a plain-text title, inline styles, the default brand', () => {
    const { html } = renderEmail({ subject: 'Refund <done>', heading: 'Refund issued', paragraphs: ['We refunded 10.00 EUR.'] });

    assert.match(html, /^<!DOCTYPE html>/);
    assert.match(html, /<html lang="en">/);
    assert.match(html, /<title>Refund &lt;done&gt;<\/title>/);
    assert.match(html, />Paymesh</);
    assert.ok(!/<style|<link|<script/i.test(html), 'no style sheet or script: clients strip them');
    assert.ok(!/(src|href)="(?!https?:)/.test(html), 'nothing loaded from a relative or other-scheme URL');
  });

  it('refuses an action URL that is not http(s)', () => {
    for (const url of ['javascript:alert(1)', ' JavaScript:alert(1)', 'data:text/html,<b>x</b>', '/relative/path']) {
      assert.throws(() => renderEmail({ subject: 's', heading: 'h', paragraphs: [], action: { label: 'Go', url } }), /email action URL/, url);
    }
  });

  it('strips CR and LF from the subject, so it cannot start another header', () => {
    const { subject, html } = renderEmail({ subject: 'Hello\r\nBcc: eve@example.test\nX: y', heading: 'h', paragraphs: [] });

    assert.equal(subject, 'Hello Bcc: eve@example.test X: y');
    assert.ok(!/[\r\n]/.test(subject));
    assert.match(html, /<title>Hello Bcc: eve@example\.test X: y<\/title>/);
  });

  it('the text part has the heading, the paragraphs, the action as "Label: URL" and the footer, and no tags', () => {
    const { text } = renderEmail({
      subject: 'Payout sent',
      heading: 'Your payout is on its way',
      paragraphs: ['We sent 42.00 EUR to your bank.', 'It usually arrives within a day.'],
      action: { label: 'View payout', url: 'https://app.paymesh.test/payouts/po_1' },
      footer: 'You get this because payouts are on. Change it in Settings.',
    });

    assert.equal(
      text,
      [
        'Your payout is on its way',
        '',
        'We sent 42.00 EUR to your bank.',
        '',
        'It usually arrives within a day.',
        '',
        'View payout: https://app.paymesh.test/payouts/po_1',
        '',
        '-- ',
        'You get this because payouts are on. Change it in Settings.',
        '',
      ].join('\n'),
    );
    assert.ok(!/<[a-z/!][^>]*>/i.test(text));
  });

  it('a rendered email survives the trip through SMTP intact', async () => {
    const sink = await startSink();
    const smtp = mailer(`smtp://127.0.0.1:${sink.port}`);
    const rendered = renderEmail({
      subject: 'Refund of 12,50 € issued\r\nBcc: eve@example.test',
      heading: 'Refund issued',
      paragraphs: ['Ünïcödé and a very long line '.repeat(8)],
      action: { label: 'View refund', url: 'https://app.paymesh.test/refunds/re_1' },
    });

    assert.equal((await smtp.send({ id: 'del_rendered', to: 'ana@example.test', ...rendered })).kind, 'delivered');
    const [mail] = sink.received;
    assert.ok(mail !== undefined);
    const { text, html, headers } = parseMail(mail.raw);
    assert.ok(!headers.has('bcc'));
    assert.deepEqual(mail.rcptTo, ['ana@example.test']);
    assert.equal(text, rendered.text);
    assert.equal(html, rendered.html);
  });
});
