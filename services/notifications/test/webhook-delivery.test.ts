// Webhook machinery against local receivers: the Paymesh-Signature a receiver checks, the guard
// that keeps requests off private networks, and what one HTTP attempt comes to.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { sendWebhook, type WebhookRequest } from '../src/webhooks/send-webhook.ts';
import { checkWebhookTarget, TargetRefusedError, type Lookup } from '../src/webhooks/target-guard.ts';
import { newWebhookSecret, signWebhook, verifyWebhookSignature } from '../src/webhooks/webhook-signature.ts';

const nowSec = 1_760_000_000;
const body = JSON.stringify({ id: 'evt_1', type: 'payment.succeeded', created: nowSec, data: { payment_id: 'pay_1', amount: '1250', currency: 'eur' } });

describe('webhook signature', () => {
  const secret = newWebhookSecret();

  test('a new secret is whsec_ followed by 32 random bytes in base64url', () => {
    assert.match(secret, /^whsec_[A-Za-z0-9_-]{43}$/);
    assert.notEqual(newWebhookSecret(), secret);
  });

  test('a header verifies against the raw body it was signed over, as a string or as bytes', () => {
    const header = signWebhook(body, [secret], nowSec);
    assert.match(header, /^t=1760000000,v1=[0-9a-f]{64}$/);
    assert.equal(verifyWebhookSignature(header, body, secret, { nowSec }), true);
    assert.equal(verifyWebhookSignature(header, Buffer.from(body), secret, { nowSec }), true);
  });

  test('during rotation a header signed with [new, old] verifies with either secret, and not with an unrelated one', () => {
    const oldSecret = newWebhookSecret();
    const header = signWebhook(body, [secret, oldSecret], nowSec);
    assert.equal(header.split(',').filter((part) => part.startsWith('v1=')).length, 2);
    assert.equal(verifyWebhookSignature(header, body, secret, { nowSec }), true);
    assert.equal(verifyWebhookSignature(header, body, oldSecret, { nowSec }), true);
    assert.equal(verifyWebhookSignature(header, body, newWebhookSecret(), { nowSec }), false);
  });

  test('a tampered body or a re-serialised one is refused', () => {
    const header = signWebhook(body, [secret], nowSec);
    assert.equal(verifyWebhookSignature(header, body.replace('1250', '9250'), secret, { nowSec }), false);
    assert.equal(verifyWebhookSignature(header, JSON.stringify(JSON.parse(body), null, 2), secret, { nowSec }), false);
    assert.equal(verifyWebhookSignature(header, `${body} `, secret, { nowSec }), false);
  });

  test('a tampered timestamp is refused', () => {
    const header = signWebhook(body, [secret], nowSec);
    const moved = header.replace(`t=${nowSec}`, `t=${nowSec + 1}`);
    assert.equal(verifyWebhookSignature(moved, body, secret, { nowSec }), false);
  });

  test('a timestamp further than the tolerance (300 s by default) from now is refused, either way', () => {
    const header = signWebhook(body, [secret], nowSec);
    assert.equal(verifyWebhookSignature(header, body, secret, { nowSec: nowSec + 300 }), true);
    assert.equal(verifyWebhookSignature(header, body, secret, { nowSec: nowSec + 301 }), false);
    assert.equal(verifyWebhookSignature(header, body, secret, { nowSec: nowSec - 301 }), false);
    assert.equal(verifyWebhookSignature(header, body, secret, { nowSec: nowSec + 1000, toleranceSec: 1000 }), true);
    assert.equal(verifyWebhookSignature(header, body, secret), false, 'the real clock is years past the signed time');
  });

  test('a malformed header is refused without throwing', () => {
    const valid = signWebhook(body, [secret], nowSec);
    const v1 = valid.slice(valid.indexOf('v1='));
    const malformed: (string | undefined)[] = [
      undefined,
      '',
      ',',
      '=',
      v1, // no timestamp
      `t=${nowSec}`, // no v1
      `t=${nowSec},v1=`,
      `t=${nowSec},v1=${'zz'.repeat(32)}`, // not hex
      `t=${nowSec},v1=${'ab'.repeat(31)}`, // too short
      `t=${nowSec},v1=${'ab'.repeat(33)}`, // too long
      `t=${nowSec},v0=${v1.slice(3)}`, // another scheme only
      `t=0x${nowSec.toString(16)},${v1}`,
      `t=${nowSec}.5,${v1}`,
      `t=-${nowSec},${v1}`,
      `t=,${v1}`,
      `t=${nowSec},t=${nowSec},${v1}`, // two timestamps
      `t=${nowSec};${v1}`,
      `${valid},${'v1=' + 'a'.repeat(64)},`.repeat(2000), // huge
      `t=${nowSec},${'v1=' + 'a'.repeat(1_000_000)}`,
      `t=${'9'.repeat(400)},${v1}`,
      'garbage',
      '\u0000\uffff',
    ];
    for (const header of malformed) {
      assert.equal(verifyWebhookSignature(header, body, secret, { nowSec }), false, `refused: ${header?.slice(0, 80)}`);
    }
  });
});

describe('private-network guard', () => {
  const refused = [
    // IPv4: loopback, unspecified / this network, private, link-local and cloud metadata, CGNAT
    '127.0.0.1', '127.255.255.254', '0.0.0.0', '0.1.2.3', '10.0.0.1', '10.255.255.255', '172.16.0.1', '172.31.255.255',
    '192.168.0.1', '169.254.169.254', '169.254.0.1', '100.64.0.1', '100.127.255.255',
    // multicast, reserved, broadcast, benchmarking, IETF, documentation (TEST-NET-1/2/3)
    '224.0.0.1', '239.255.255.250', '240.0.0.1', '255.255.255.255', '198.18.0.1', '198.19.255.255', '192.0.0.1',
    '192.0.2.1', '198.51.100.1', '203.0.113.1',
    // other spellings the URL parser turns into 127.0.0.1
    '2130706433', '0x7f.1', '127.1', '0177.0.0.1',
    // IPv6: loopback, unspecified, link-local, site-local, unique-local, multicast, documentation, Teredo
    '[::1]', '[::]', '[fe80::1]', '[febf::1]', '[fec0::1]', '[fc00::1]', '[fd12:3456::1]', '[ff02::1]', '[ff0e::1]',
    '[2001:db8::1]', '[3fff::1]', '[2001::1]', '[0:0:0:0:0:0:0:1]',
    // IPv4-mapped and IPv4-compatible
    '[::ffff:127.0.0.1]', '[::ffff:7f00:1]', '[::ffff:10.0.0.1]', '[::ffff:169.254.169.254]', '[::ffff:0.0.0.0]',
    '[::127.0.0.1]', '[::10.0.0.1]', '[::8.8.8.8]',
    // NAT64 and 6to4 of refused IPv4
    '[64:ff9b::127.0.0.1]', '[64:ff9b::a9fe:a9fe]', '[64:ff9b::10.0.0.1]', '[64:ff9b:1::1]',
    '[2002:7f00:1::1]', '[2002:a9fe:a9fe::]', '[2002:c0a8:101::1]',
  ];
  const allowed = [
    '8.8.8.8', '93.184.216.34', '[2606:4700::1111]', '172.32.0.1', '100.128.0.1', '11.0.0.1', '223.255.255.255',
    // the IPv6 forms of a public IPv4 reach that public address
    '[::ffff:8.8.8.8]', '[64:ff9b::8.8.8.8]', '[2002:808:808::1]',
  ];
  const neverAsked: Lookup = () => Promise.reject(new Error('the guard should not have looked this name up'));

  test('a literal address in any non-public range (IPv4, IPv6, mapped, NAT64, 6to4) is refused', async () => {
    for (const host of refused) {
      await assert.rejects(checkWebhookTarget(`https://${host}:8443/hook`, { allowPrivate: false, lookup: neverAsked }), (error) => {
        assert.ok(error instanceof TargetRefusedError, host);
        assert.equal(error.reason, 'private_address', host);
        return true;
      }, host);
    }
  });

  test('a public literal address is allowed and is the address returned, whatever the port', async () => {
    for (const host of allowed) {
      const target = await checkWebhookTarget(`https://${host}:1/hook`, { allowPrivate: false, lookup: neverAsked });
      // The URL parser's spelling: ::ffff:8.8.8.8 comes back as ::ffff:808:808.
      assert.equal(target.address, new URL(`https://${host}/`).hostname.replace(/^\[|\]$/g, ''), host);
      assert.equal(target.family, host.startsWith('[') ? 6 : 4);
    }
  });

  test('a hostname resolving to one public and one private address is refused', async () => {
    const lookup: Lookup = async () => [{ address: '93.184.216.34', family: 4 }, { address: '10.0.0.7', family: 4 }];
    await assert.rejects(checkWebhookTarget('https://hooks.example.com/x', { allowPrivate: false, lookup }), { name: 'TargetRefusedError', reason: 'private_address' });
    const mapped: Lookup = async () => [{ address: '2606:4700::1111', family: 6 }, { address: '::ffff:169.254.169.254', family: 6 }];
    await assert.rejects(checkWebhookTarget('https://hooks.example.com/x', { allowPrivate: false, lookup: mapped }), { reason: 'private_address' });
  });

  test('a hostname resolving only to public addresses is allowed, pinned to the first answer', async () => {
    const lookup: Lookup = async () => [{ address: '2606:4700::1111', family: 6 }, { address: '93.184.216.34', family: 4 }];
    assert.deepEqual(await checkWebhookTarget('https://hooks.example.com/x', { allowPrivate: false, lookup }), { address: '2606:4700::1111', family: 6 });
  });

  test('localhost names are refused without a lookup', async () => {
    for (const url of ['http://localhost/', 'http://LOCALHOST:3000/', 'http://localhost./', 'https://api.localhost/hook']) {
      await assert.rejects(checkWebhookTarget(url, { allowPrivate: false, lookup: neverAsked }), { reason: 'private_address' }, url);
    }
  });

  test('schemes other than http(s), URLs with credentials and unparseable URLs are refused', async () => {
    for (const url of ['ftp://93.184.216.34/', 'file:///etc/passwd', 'gopher://93.184.216.34/', 'javascript:alert(1)', 'data:text/plain,x']) {
      await assert.rejects(checkWebhookTarget(url, { allowPrivate: true, lookup: neverAsked }), { reason: 'scheme' }, url);
    }
    for (const url of ['http://user:pass@93.184.216.34/', 'https://user@93.184.216.34/', 'https://:pass@93.184.216.34/']) {
      await assert.rejects(checkWebhookTarget(url, { allowPrivate: true, lookup: neverAsked }), { reason: 'credentials' }, url);
    }
    for (const url of ['', 'not a url', 'http://', 'http://[fe80::1%25eth0]/']) {
      await assert.rejects(checkWebhookTarget(url, { allowPrivate: true, lookup: neverAsked }), { reason: 'invalid_url' }, url);
    }
  });

  test('a name that does not resolve is refused as unresolvable; a failing resolver is not a refusal', async () => {
    const notFound: Lookup = async () => { throw Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' }); };
    await assert.rejects(checkWebhookTarget('https://gone.example.com/', { allowPrivate: false, lookup: notFound }), { reason: 'unresolvable' });
    await assert.rejects(checkWebhookTarget('https://empty.example.com/', { allowPrivate: false, lookup: async () => [] }), { reason: 'unresolvable' });
    const down: Lookup = async () => { throw Object.assign(new Error('getaddrinfo EAI_AGAIN'), { code: 'EAI_AGAIN' }); };
    await assert.rejects(checkWebhookTarget('https://flaky.example.com/', { allowPrivate: false, lookup: down }), (error) => !(error instanceof TargetRefusedError));
  });

  test('with allowPrivate, loopback and private targets are allowed (development)', async () => {
    assert.deepEqual(await checkWebhookTarget('http://127.0.0.1:3000/hook', { allowPrivate: true }), { address: '127.0.0.1', family: 4 });
    assert.deepEqual(await checkWebhookTarget('http://[::1]/hook', { allowPrivate: true }), { address: '::1', family: 6 });
    const lookup: Lookup = async () => [{ address: '10.1.2.3', family: 4 }];
    assert.deepEqual(await checkWebhookTarget('http://localhost:3000/hook', { allowPrivate: true, lookup }), { address: '10.1.2.3', family: 4 });
  });
});

describe('sending a webhook', () => {
  interface Received { readonly path: string; readonly headers: IncomingHttpHeaders; readonly body: Buffer; readonly signatureValid: boolean }
  const secret = newWebhookSecret();
  const received: Received[] = [];
  let receiver: Server;
  let redirectTarget: Server;
  let redirectTargetHits = 0;
  let tlsServer: TlsServer;
  const tlsServerNames: string[] = [];
  let receiverPort: number;
  let redirectTargetPort: number;
  let tlsPort: number;
  let closedPort: number;

  before(async () => {
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const raw = Buffer.concat(chunks);
        const signatureValid = verifyWebhookSignature(req.headers['paymesh-signature'] as string | undefined, raw, secret);
        received.push({ path: req.url ?? '', headers: req.headers, body: raw, signatureValid });
        switch (req.url) {
          case '/hook':
            res.writeHead(signatureValid ? 204 : 400).end();
            return;
          case '/fails':
            res.writeHead(500, { 'content-type': 'text/plain' }).end('boom: database unavailable');
            return;
          case '/busy':
            res.writeHead(429, { 'retry-after': '7' }).end();
            return;
          case '/down':
            res.writeHead(503, { 'retry-after': '86400' }).end();
            return;
          case '/moved':
            res.writeHead(301, { location: `http://127.0.0.1:${redirectTargetPort}/landing` }).end();
            return;
          case '/chatty':
            res.writeHead(200, { 'content-type': 'text/plain' });
            res.end('é'.repeat(512 * 1024)); // 1 MiB, two bytes a character
            return;
          case '/silent':
            return; // never answers
          default:
            res.writeHead(404).end();
        }
      });
    });
    redirectTarget = createServer((_req, res) => {
      redirectTargetHits += 1;
      res.writeHead(200).end();
    });
    // No certificate at all: the SNI callback sees the name the client sent, then the handshake fails.
    tlsServer = createTlsServer({
      SNICallback: (servername, callback) => {
        tlsServerNames.push(servername);
        callback(new Error('this test server has no certificate'));
      },
    });
    tlsServer.on('tlsClientError', () => { /* the failed handshake is what the test expects */ });
    const closed = createServer();
    receiverPort = await listen(receiver);
    redirectTargetPort = await listen(redirectTarget);
    tlsPort = await listen(tlsServer);
    closedPort = await listen(closed);
    await new Promise((resolve) => closed.close(resolve));
  });

  after(async () => {
    for (const server of [receiver, redirectTarget, tlsServer]) {
      if ('closeAllConnections' in server) server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  const signed = (url: string, overrides: Partial<WebhookRequest> = {}): WebhookRequest => {
    const eventId = `evt_${randomUUID()}`;
    const eventBody = JSON.stringify({ id: eventId, type: 'payment.succeeded', created: Math.floor(Date.now() / 1000), data: { payment_id: 'pay_1' } });
    return { url, body: eventBody, signature: signWebhook(eventBody, [secret], Math.floor(Date.now() / 1000)), eventId, timeoutMs: 2000, allowPrivate: true, ...overrides };
  };
  const hitsFor = (eventId: string) => received.filter((r) => r.headers['paymesh-event-id'] === eventId);

  test('a delivery reaches a receiver that verifies the signature on the raw body → delivered', async () => {
    const request = signed(`http://127.0.0.1:${receiverPort}/hook`);
    const result = await sendWebhook(request);
    assert.deepEqual(result.outcome, { kind: 'delivered', statusCode: 204 });
    assert.equal(result.responseSnippet, '');
    assert.ok(result.durationMs >= 0 && result.durationMs < 2000);
    const [hit] = hitsFor(request.eventId);
    assert.ok(hit, 'the receiver saw the request with its Paymesh-Event-Id');
    assert.equal(hit.signatureValid, true);
    assert.equal(hit.body.toString(), request.body);
    assert.equal(hit.headers['content-type'], 'application/json');
    assert.equal(hit.headers['user-agent'], 'Paymesh-Webhooks/1.0');
    assert.equal(hit.headers['paymesh-signature'], request.signature);
  });

  test('a target on a private network is failed (never retried) and the receiver sees nothing', async () => {
    const request = signed(`http://127.0.0.1:${receiverPort}/hook`, { allowPrivate: false });
    const result = await sendWebhook(request);
    assert.equal(result.outcome.kind, 'failed');
    assert.match(result.outcome.kind === 'failed' ? result.outcome.error : '', /private_address/);
    assert.equal(result.responseSnippet, undefined);
    assert.equal(hitsFor(request.eventId).length, 0);
  });

  test('a 500 is retried with its status code and the start of the body', async () => {
    const result = await sendWebhook(signed(`http://127.0.0.1:${receiverPort}/fails`));
    assert.deepEqual(result.outcome, { kind: 'retry', error: 'HTTP 500', statusCode: 500 });
    assert.equal(result.responseSnippet, 'boom: database unavailable');
  });

  test('a 429 with Retry-After: 7 is retried after 7000 ms; a 503 Retry-After is capped at one hour', async () => {
    assert.deepEqual((await sendWebhook(signed(`http://127.0.0.1:${receiverPort}/busy`))).outcome, { kind: 'retry', error: 'HTTP 429', statusCode: 429, retryAfterMs: 7000 });
    assert.deepEqual((await sendWebhook(signed(`http://127.0.0.1:${receiverPort}/down`))).outcome, { kind: 'retry', error: 'HTTP 503', statusCode: 503, retryAfterMs: 3_600_000 });
  });

  test('a 404 is retried like any other non-2xx', async () => {
    assert.deepEqual((await sendWebhook(signed(`http://127.0.0.1:${receiverPort}/unknown`))).outcome, { kind: 'retry', error: 'HTTP 404', statusCode: 404 });
  });

  test('a 301 is retried and the redirect is not followed', async () => {
    const result = await sendWebhook(signed(`http://127.0.0.1:${receiverPort}/moved`));
    assert.equal(result.outcome.kind, 'retry');
    assert.equal(result.outcome.statusCode, 301);
    assert.equal(redirectTargetHits, 0, 'the redirect target received nothing');
  });

  test('a receiver that never answers is retried within timeoutMs', async () => {
    const result = await sendWebhook(signed(`http://127.0.0.1:${receiverPort}/silent`, { timeoutMs: 300 }));
    assert.deepEqual(result.outcome, { kind: 'retry', error: 'no response within 300 ms' });
    assert.equal(result.responseSnippet, undefined);
    assert.ok(result.durationMs >= 290 && result.durationMs < 1000, `took ${result.durationMs} ms`);
  });

  test('a lookup that never answers is bounded by timeoutMs too', async () => {
    const hanging: Lookup = () => new Promise(() => {});
    const result = await sendWebhook(signed('https://slow-dns.example.com/hook', { timeoutMs: 200, lookup: hanging }));
    assert.deepEqual(result.outcome, { kind: 'retry', error: 'no response within 200 ms' });
    assert.ok(result.durationMs < 1000, `took ${result.durationMs} ms`);
  });

  test('a refused connection is retried', async () => {
    const result = await sendWebhook(signed(`http://127.0.0.1:${closedPort}/hook`));
    assert.equal(result.outcome.kind, 'retry');
    assert.match(result.outcome.kind === 'retry' ? result.outcome.error : '', /ECONNREFUSED/);
  });

  test('a huge response body is cut at 1 KiB, on a character boundary', async () => {
    const result = await sendWebhook(signed(`http://127.0.0.1:${receiverPort}/chatty`));
    assert.deepEqual(result.outcome, { kind: 'delivered', statusCode: 200 });
    assert.equal(result.responseSnippet, 'é'.repeat(512));
    assert.ok(Buffer.byteLength(result.responseSnippet ?? '') <= 1024);
  });

  test('DNS pinning: the sender connects to the checked address, with one lookup per send', async () => {
    for (let send = 0; send < 2; send += 1) {
      let lookups = 0;
      // The first answer is checked; any later one (a rebinding attack) would point elsewhere.
      const rebinding: Lookup = async () => {
        lookups += 1;
        return [{ address: lookups === 1 ? '127.0.0.1' : '192.0.2.1', family: 4 }];
      };
      const request = signed(`http://hooks.example.test:${receiverPort}/hook`, { lookup: rebinding });
      const result = await sendWebhook(request);
      assert.deepEqual(result.outcome, { kind: 'delivered', statusCode: 204 });
      assert.equal(lookups, 1);
      const [hit] = hitsFor(request.eventId);
      assert.equal(hit?.headers.host, `hooks.example.test:${receiverPort}`, 'the Host header keeps the hostname');
    }
  });

  test('over https the pinned connection keeps the hostname for SNI, and a TLS failure is retried', async () => {
    const lookup: Lookup = async () => [{ address: '127.0.0.1', family: 4 }];
    const result = await sendWebhook(signed(`https://hooks.example.test:${tlsPort}/hook`, { lookup }));
    assert.equal(result.outcome.kind, 'retry');
    assert.equal(result.outcome.statusCode, undefined);
    assert.deepEqual(tlsServerNames, ['hooks.example.test']);
  });
});

async function listen(server: Server | TlsServer): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}
