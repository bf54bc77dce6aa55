/**
 * Signing keys generated for this run (none is committed), tokens signed with node:crypto (thousands are
 * pre-generated, so signing must be cheap), and JWKS endpoints on loopback that count their fetches.
 */
import { type KeyObject, createHmac, createSecretKey, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export const ASYMMETRIC = ['RS256', 'ES256', 'EdDSA'] as const;
export const ALGORITHMS = ['HS256', ...ASYMMETRIC] as const;
export type Alg = (typeof ALGORITHMS)[number];
export type AsymmetricAlg = (typeof ASYMMETRIC)[number];

export interface Jwk {
  readonly [field: string]: unknown;
  readonly kid: string;
}

/** An asymmetric key pair with its public JWK, or an HS256 secret. */
export interface SigningKey {
  readonly alg: Alg;
  readonly kid?: string;
  /** Private key (asymmetric) or the HMAC secret (HS256). */
  readonly signing: KeyObject;
  /** What verifiers import: the public key, or the same secret. */
  readonly verifying: KeyObject;
  readonly publicJwk?: Jwk;
}

export function asymmetricKey(alg: AsymmetricAlg, kid: string): SigningKey {
  const pair =
    alg === 'RS256'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : alg === 'ES256'
        ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
        : generateKeyPairSync('ed25519');
  const publicJwk = { ...pair.publicKey.export({ format: 'jwk' }), kid, alg, use: 'sig' } as Jwk;
  return { alg, kid, signing: pair.privateKey, verifying: pair.publicKey, publicJwk };
}

/** An HS256 key from a secret string as Secrets Manager holds it (the key is its UTF-8 bytes, as Supabase's). */
export function hs256Key(secret: string): SigningKey {
  const key = createSecretKey(Buffer.from(secret, 'utf8'));
  return { alg: 'HS256', signing: key, verifying: key };
}

const b64 = (v: string | Buffer) => Buffer.from(v).toString('base64url');

export function signJwt(key: SigningKey, claims: Record<string, unknown>, header: Record<string, unknown> = {}): string {
  const head = `${b64(JSON.stringify({ alg: key.alg, typ: 'JWT', ...(key.kid ? { kid: key.kid } : {}), ...header }))}.${b64(JSON.stringify(claims))}`;
  const data = Buffer.from(head);
  let sig: Buffer;
  switch (key.alg) {
    case 'HS256':
      sig = createHmac('sha256', key.signing).update(data).digest();
      break;
    case 'RS256':
      sig = sign('sha256', data, key.signing);
      break;
    case 'ES256':
      sig = sign('sha256', data, { key: key.signing, dsaEncoding: 'ieee-p1363' });
      break;
    case 'EdDSA':
      sig = sign(null, data, key.signing);
      break;
  }
  return `${head}.${b64(sig)}`;
}

/** The same token with its signature changed (still valid base64url of the right length). */
export function tamper(token: string): string {
  const dot = token.lastIndexOf('.');
  const sig = Buffer.from(token.slice(dot + 1), 'base64url');
  sig[sig.length >> 1]! ^= 0x5a;
  return `${token.slice(0, dot)}.${sig.toString('base64url')}`;
}

export const nowSeconds = () => Math.floor(Date.now() / 1000);

/** A random string that is neither a JWT nor an API key. */
export const garbage = () => randomBytes(24).toString('base64url');

export interface JwksServer {
  readonly url: string;
  /** Fetches of the key set so far. */
  fetches(): number;
  close(): Promise<void>;
}

/** Serves `{ keys }` at `path` on 127.0.0.1 and counts the fetches, as the tests' JWKS servers do. */
export async function startJwksServer(keys: readonly Jwk[], path = '/.well-known/jwks.json'): Promise<JwksServer> {
  let count = 0;
  const body = JSON.stringify({ keys });
  const server: Server = createServer((req, res) => {
    if (req.url !== path) {
      res.writeHead(404).end();
      return;
    }
    count++;
    res.writeHead(200, { 'content-type': 'application/json' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${path}`,
    fetches: () => count,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
