/**
 * Token-crafting helpers for the security suites: hostile JWTs are built by hand, as raw JSON text signed with
 * node:crypto, so a test can put in a token exactly what an attacker would (duplicate members, `__proto__`,
 * non-canonical base64url, DER signatures) rather than what a JWT library is willing to produce.
 */
import { KeyObject, createHmac, createPublicKey, sign, type webcrypto } from 'node:crypto';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayAuthorizerResult } from 'aws-lambda';
import { type PolicyDocument, evaluatePolicy } from '../../lambdas/authorizer/policy';
import { API_ARN_PREFIX, type Fixture, authorizerEvent } from '../support/fixture';
import type { TestKey } from '../support/jwt';
import type { AnswerFormat } from '../../lambdas/authorizer/request';
import { v2EventLike } from '../lambdas/v2-event';

export type Status = 200 | 401 | 403 | 500;
export type Authorize = ReturnType<Fixture['authorizer']>;

/** API Gateway's answer for one request through the real handler: 401, 403, 500, or 200 with the result. */
export async function decide(
  authorize: Authorize,
  token: string,
  opts: { readonly method?: string; readonly path?: string; readonly scheme?: string; readonly format?: AnswerFormat } = {},
): Promise<{ status: Status; result?: APIGatewayAuthorizerResult }> {
  const method = opts.method ?? 'GET';
  const path = opts.path ?? '/v1/me';
  try {
    const rest = authorizerEvent({ Authorization: `${opts.scheme ?? 'Bearer'} ${token}` }, method, path);
    // `format: 'http-2.0'`: the same request as an HTTP API hands it over (payload 2.0), on the same route ARN.
    const result = await authorize(opts.format === 'http-2.0' ? v2EventLike(rest) : rest);
    const verdict = evaluatePolicy(result.policyDocument as PolicyDocument, `${API_ARN_PREFIX}/${method}${path}`);
    return { status: verdict === 'Allow' ? 200 : 403, result };
  } catch (err) {
    return { status: (err as Error).message === 'Unauthorized' ? 401 : 500 };
  }
}

export const b64u = (data: string | Uint8Array): string => Buffer.from(data).toString('base64url');
export const json = (value: unknown): string => JSON.stringify(value);

/** Something that signs a JWS signing input (`<header>.<payload>` as ASCII) and returns the raw signature. */
export type Signer = (signingInput: string) => Buffer;

export const hs256 =
  (secret: string | Uint8Array): Signer =>
  (input) =>
    createHmac('sha256', secret).update(input).digest();

/** ES256 as JWS wants it (raw r||s, RFC 7518 3.4), or DER as most other ECDSA consumers do. */
export const es256 =
  (key: KeyObject, dsaEncoding: 'ieee-p1363' | 'der' = 'ieee-p1363'): Signer =>
  (input) =>
    sign('sha256', Buffer.from(input), { key, dsaEncoding });

export const rs256 =
  (key: KeyObject): Signer =>
  (input) =>
    sign('sha256', Buffer.from(input), key);

/** The node:crypto private key behind a test key (jose hands out WebCrypto keys). */
export function privateKeyObject(key: TestKey): KeyObject {
  // The global CryptoKey type and node:crypto's webcrypto.CryptoKey are the same object at run time.
  return KeyObject.from(key.privateKey as unknown as webcrypto.CryptoKey);
}

/** A public key of a test key, as node:crypto sees it. */
export function publicKeyObject(key: TestKey): KeyObject {
  return createPublicKey({ key: key.publicJwk as never, format: 'jwk' });
}

/**
 * A compact JWS from header and payload as raw JSON text (or any text): nothing is normalised, so duplicate
 * members, `__proto__` keys and odd spellings reach the verifier exactly as written.
 */
export function rawJws(headerText: string | Uint8Array, payloadText: string | Uint8Array, signer: Signer | Buffer): string {
  return jwsFromSegments(b64u(headerText), b64u(payloadText), signer);
}

/** A compact JWS over segments given as they will be sent (possibly non-canonical), signed over exactly them. */
export function jwsFromSegments(header: string, payload: string, signer: Signer | Buffer): string {
  const signature = Buffer.isBuffer(signer) ? signer : signer(`${header}.${payload}`);
  return `${header}.${payload}.${b64u(signature)}`;
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/**
 * The same bytes spelled differently: the last character of a base64url segment with its unused low bits set.
 * Only segments whose length is not a multiple of 4 have such bits.
 */
export function withUnusedBitsSet(segment: string): string {
  if (segment.length % 4 === 0) throw new Error('a segment of 4n characters has no unused bits');
  const last = ALPHABET.indexOf(segment.at(-1)!);
  const variant = segment.slice(0, -1) + ALPHABET[last ^ 1]!;
  if (!Buffer.from(variant, 'base64url').equals(Buffer.from(segment, 'base64url'))) throw new Error('changed a used bit');
  return variant;
}

/** Pads a JSON object's text with a filler member until its base64url spelling has unused bits. */
export function withUnusedBits(claims: Record<string, unknown>): string {
  for (let n = 0; n < 3; n++) {
    const text = json({ ...claims, pad: 'x'.repeat(n) });
    if (Buffer.byteLength(text) % 3 !== 0) return text;
  }
  throw new Error('unreachable');
}

/** A loopback HTTP server that only counts requests: the target of a `jku` or `x5u` that must never be fetched. */
export interface CountingServer {
  readonly url: string;
  readonly requests: () => number;
  close(): Promise<void>;
}

export async function startCountingServer(body: string): Promise<CountingServer> {
  let count = 0;
  const server: Server = createServer((_req, res) => {
    count++;
    res.writeHead(200, { 'content-type': 'application/json' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    requests: () => count,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The order of the P-256 group (FIPS 186-4 D.1.2.3). */
export const P256_N = Buffer.from('ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551', 'hex');
