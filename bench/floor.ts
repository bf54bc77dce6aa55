/**
 * The baselines a JWT decision is measured against.
 * - The node:crypto floor: the least any verifier must do per token. Split, base64url-decode and JSON.parse the
 *   header and payload, verify the signature with a KeyObject imported once, check `exp`. No claim mapping, no
 *   policy, no logging: nothing can be faster without skipping the signature.
 * - jose `jwtVerify` with a key imported once (a CryptoKey: jose 6 verifies through WebCrypto).
 * - aws-jwt-verify 5 `JwtVerifier` with its JWKS pre-loaded by `cacheJwks` (no fetch); it has no HS256.
 */
import { JwtVerifier } from 'aws-jwt-verify';
import { importJWK, jwtVerify } from 'jose';
import { type KeyObject, createHmac, timingSafeEqual, verify } from 'node:crypto';
import type { Alg, SigningKey } from './keys';

export type SyncVerify = (token: string) => unknown;
export type AsyncVerify = (token: string) => Promise<unknown>;

function decode(segment: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(segment, 'base64url').toString('utf8')) as Record<string, unknown>;
}

/** The node:crypto floor for one algorithm; throws on a bad signature or an expired token. */
export function floorVerifier(key: SigningKey): SyncVerify {
  const check = signatureCheck(key.alg, key.verifying);
  return (token) => {
    const first = token.indexOf('.');
    const second = token.indexOf('.', first + 1);
    const header = decode(token.slice(0, first));
    const payload = decode(token.slice(first + 1, second));
    if (header.alg !== key.alg) throw new Error('alg');
    const signature = Buffer.from(token.slice(second + 1), 'base64url');
    if (!check(Buffer.from(token.slice(0, second)), signature)) throw new Error('signature');
    if (typeof payload.exp !== 'number' || payload.exp * 1000 <= Date.now()) throw new Error('exp');
    return payload;
  };
}

function signatureCheck(alg: Alg, key: KeyObject): (data: Buffer, signature: Buffer) => boolean {
  switch (alg) {
    case 'HS256':
      return (data, signature) => {
        const mac = createHmac('sha256', key).update(data).digest();
        return mac.length === signature.length && timingSafeEqual(mac, signature);
      };
    case 'RS256':
      return (data, signature) => verify('sha256', data, key, signature);
    case 'ES256':
      return (data, signature) => verify('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, signature);
    case 'EdDSA':
      return (data, signature) => verify(null, data, key, signature);
  }
}

/** jose `jwtVerify` with the key imported once, checking issuer, audience and the pinned algorithm. */
export async function joseVerifier(key: SigningKey, issuer: string, audience: string): Promise<AsyncVerify> {
  const imported =
    key.alg === 'HS256'
      ? await importJWK({ kty: 'oct', k: key.verifying.export().toString('base64url') }, 'HS256')
      : await importJWK(key.publicJwk as Parameters<typeof importJWK>[0], key.alg);
  const options = { issuer, audience, algorithms: [key.alg] };
  return (token) => jwtVerify(token, imported, options);
}

/** aws-jwt-verify with the issuer's JWKS pre-loaded (so no fetch), checking issuer and audience. */
export function awsJwtVerifier(key: SigningKey, issuer: string, audience: string): AsyncVerify {
  const verifier = JwtVerifier.create({ issuer, audience, jwksUri: `${issuer}.well-known/jwks.json` });
  verifier.cacheJwks({ keys: [key.publicJwk as never] });
  return (token) => verifier.verify(token);
}
