import { type JWK, SignJWT, importJWK } from 'jose';
import type { DevToken } from './request';
import type { StandInSigning } from './stand-in';

/**
 * Signs a development token as local mode's stand-in issuer: with the run's RSA key (`secret` is its private JWK as
 * JSON) for RS256 and PS256, or with the issuer's local HS256 secret. The header carries the RSA key's `kid`, which
 * the gateway serves in the stand-in's JWKS.
 */
export async function signDevToken(token: DevToken, signing: StandInSigning, secret: string): Promise<string> {
  const typ = token.typ ? { typ: token.typ } : {};
  if (signing.alg === 'HS256') return new SignJWT(token.claims).setProtectedHeader({ alg: 'HS256', ...typ }).sign(new TextEncoder().encode(secret));
  const jwk = JSON.parse(secret) as JWK;
  const kid = signing.kid ?? jwk.kid;
  return new SignJWT(token.claims).setProtectedHeader({ ...(kid ? { kid } : {}), alg: signing.alg, ...typ }).sign(await importJWK(jwk, signing.alg));
}
