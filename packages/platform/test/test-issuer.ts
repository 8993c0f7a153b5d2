// An access-token issuer independent of the auth service: its own ES256 keys, a JWKS served on a
// loopback port, and a signer whose every claim and header can be bent to build hostile tokens.
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';

export const audience = 'urn:paymesh:api';

export interface SigningKey {
  readonly kid: string;
  readonly privateKey: CryptoKey;
  readonly publicKey: CryptoKey;
  readonly publicJwk: JWK;
}

export async function newSigningKey(kid: string): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' };
  return { kid, privateKey, publicKey, publicJwk };
}

/** How the JWKS endpoint behaves: answer, fail with a status, or drop the connection. */
export type JwksMode = 'serve' | 'status500' | 'hang-up';

export interface TokenOptions {
  /** Overrides the default claims; a claim set to undefined is left out. */
  readonly claims?: Record<string, unknown>;
  /** Overrides the default protected header; a parameter set to undefined is left out. */
  readonly header?: Record<string, unknown>;
  readonly key?: SigningKey;
}

export class TestIssuer {
  readonly issuer: string;
  readonly jwksUrl: string;
  readonly key: SigningKey;
  /** Keys published in the JWKS; tests may add (rotation) or remove them. */
  readonly published: JWK[];
  mode: JwksMode = 'serve';
  jwksRequests = 0;
  readonly #server: Server;

  private constructor(server: Server, baseUrl: string, key: SigningKey) {
    this.#server = server;
    this.issuer = `${baseUrl}/issuer`;
    this.jwksUrl = `${baseUrl}/jwks`;
    this.key = key;
    this.published = [key.publicJwk];
  }

  static async start(kid = 'test-key-1'): Promise<TestIssuer> {
    const key = await newSigningKey(kid);
    let issuer: TestIssuer | undefined;
    const server = createServer((req, res) => {
      if (issuer === undefined || req.url !== '/jwks') {
        res.writeHead(404).end();
        return;
      }
      issuer.jwksRequests++;
      if (issuer.mode === 'hang-up') {
        req.socket.destroy();
        return;
      }
      if (issuer.mode === 'status500') {
        res.writeHead(500, { 'content-type': 'text/plain' }).end('issuer is down');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/jwk-set+json' }).end(JSON.stringify({ keys: issuer.published }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    issuer = new TestIssuer(server, `http://127.0.0.1:${port}`, key);
    return issuer;
  }

  /** A valid user access token unless the options bend it. */
  async token(options: TokenOptions = {}): Promise<string> {
    const key = options.key ?? this.key;
    const nowSec = Math.floor(Date.now() / 1000);
    const claims = dropUndefined({
      iss: this.issuer,
      aud: audience,
      sub: 'user-42',
      jti: randomUUID(),
      iat: nowSec,
      exp: nowSec + 300,
      client_id: 'web-app',
      scope: 'payments:read payments:write',
      role: 'user',
      ...options.claims,
    });
    const header = dropUndefined({ alg: 'ES256', kid: key.kid, typ: 'at+jwt', ...options.header });
    return new SignJWT(claims).setProtectedHeader(header as { alg: string }).sign(key.privateKey);
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}

function dropUndefined(record: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined));
}
