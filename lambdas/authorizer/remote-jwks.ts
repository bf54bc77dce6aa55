/**
 * The key getter of an issuer that signs with asymmetric keys: its static JWKS, or its remote one. The verifier
 * (jwt.ts) builds one per issuer at cold start through a {@link JwksGetterFactory}, which tests replace.
 */
import type { IssuerSpec } from './issuers';
import { type KeyGetter, createJwksGetter, staticKeyGetter } from './jwks';

/** What the verifier hands a JWKS getter factory besides the issuer. */
export interface JwksGetterContext {
  /** How long a key set may be used past its max age when it cannot be re-read (`serviceSecrets.maxStaleSeconds`). */
  readonly maxStaleSeconds: number;
  /** The authorizer's clock. */
  readonly now: () => number;
}

/** Builds the key getter for an issuer's JWKS. The default is {@link remoteJwks}. */
export type JwksGetterFactory = (spec: IssuerSpec, context?: JwksGetterContext) => KeyGetter;

/**
 * A static JWKS as given, or the issuer's remote JWKS through `createJwksGetter` (jwks.ts): cache, single-flight
 * fetches, the issuer's timeout, cooldown and max age, and stale-if-error. jose's own remote set throws once a
 * reload fails, so a JWKS outage would refuse every user as soon as the cache passed its max age.
 *
 * Staleness bound: a set that cannot be re-read is used for at most `serviceSecrets.maxStaleSeconds` past
 * `jwksCacheMaxAgeSeconds` (defaults 3600 s past 600 s), then requests fail closed (500). It reuses the bound the
 * HS256 secrets of the same issuers already have rather than adding a setting: one answer to "how long do we
 * trust key material we cannot re-read". It also bounds how long a key the issuer has withdrawn keeps verifying
 * while its JWKS is unreachable. A caller that passes no context gets 3600 s.
 */
export const remoteJwks: JwksGetterFactory = (spec, context) => {
  if (spec.keys.jwks) return staticKeyGetter(spec.keys.jwks);
  if (!spec.keys.jwksUrl) throw new Error(`issuer ${spec.id} has no JWKS`);
  return createJwksGetter({
    url: spec.keys.jwksUrl,
    timeoutMs: spec.jwksTimeoutMs,
    cooldownSeconds: spec.jwksCooldownSeconds,
    cacheMaxAgeSeconds: spec.jwksCacheMaxAgeSeconds,
    maxStaleSeconds: context?.maxStaleSeconds ?? 3600,
    ...(context ? { now: context.now } : {}),
  });
};
