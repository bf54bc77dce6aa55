import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type JWK, type JWTPayload, SignJWT, exportJWK, generateKeyPair } from 'jose';

/** An asymmetric signing key generated for this run (none is ever committed), with its public JWK. */
export interface TestKey {
  readonly alg: 'RS256' | 'ES256' | 'EdDSA' | 'PS256' | 'ES384';
  readonly kid: string;
  readonly privateKey: Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
  readonly publicJwk: JWK;
}

let kidCounter = 0;

export async function makeKey(alg: TestKey['alg'], kid = `test-${alg.toLowerCase()}-${++kidCounter}`): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, alg === 'EdDSA' ? { crv: 'Ed25519', extractable: true } : { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { alg, kid, privateKey, publicJwk };
}

/** Signs claims with an asymmetric test key; header fields may be overridden to build hostile tokens. */
export async function signWith(key: TestKey, claims: JWTPayload, header: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT', ...header }).sign(key.privateKey);
}

/** Signs claims with an HS256 secret (a Supabase legacy secret, say). */
export async function signHs256(secret: string | Uint8Array, claims: JWTPayload, header: Record<string, unknown> = {}): Promise<string> {
  const key = typeof secret === 'string' ? new TextEncoder().encode(secret) : secret;
  return new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'JWT', ...header }).sign(key);
}

export const nowSeconds = () => Math.floor(Date.now() / 1000);

/**
 * A JWKS endpoint on loopback. Counts fetches, and can be told to fail, hang or serve garbage, so tests exercise
 * the real remote key set (lambdas/authorizer/jwks.ts) over HTTP rather than a stub.
 */
export interface JwksServer {
  readonly url: string;
  readonly fetches: () => number;
  setKeys(keys: JWK[]): void;
  setMode(mode: 'ok' | 'error' | 'garbage' | 'hang'): void;
  close(): Promise<void>;
}

export async function startJwksServer(keys: JWK[], path = '/.well-known/jwks.json'): Promise<JwksServer> {
  let current = keys;
  let mode: 'ok' | 'error' | 'garbage' | 'hang' = 'ok';
  let count = 0;
  const server: Server = createServer((req, res) => {
    if (req.url !== path) {
      res.writeHead(404).end();
      return;
    }
    count++;
    if (mode === 'hang') return; // never answers; the client's timeout must end it
    if (mode === 'error') {
      res.writeHead(503).end('unavailable');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(mode === 'garbage' ? '{"keys": "nope"' : JSON.stringify({ keys: current }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${path}`,
    fetches: () => count,
    setKeys: (k) => {
      current = k;
    },
    setMode: (m) => {
      mode = m;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
