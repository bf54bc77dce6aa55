/**
 * A JWT's time claims (`iat`, `nbf`, `exp`) and jose's rules for them: NumericDates, checked against the clock with the
 * issuer's tolerance and age cap. The full check and every cache hit (jwt.ts) run the same functions, so a cached
 * token is refused at exactly the second an uncached one would be.
 */
import { AuthError } from './errors';
import type { IssuerSpec } from './issuers';
import type { JwtClaims } from './jwt-principal';

/** The time claims of a verified token: what a cached verification must re-check on every use. */
export interface JwtTimes {
  readonly iat: number | undefined;
  readonly nbf: number | undefined;
  readonly exp: number | undefined;
}

/** What the time checks need of an issuer. */
export interface TimeRules {
  readonly spec: Pick<IssuerSpec, 'id' | 'clockToleranceSeconds'>;
  /** Seconds; undefined when the age cap is off. */
  readonly maxTokenAge?: number;
}

/** A clock reading (ms) in whole seconds, as jose reads a Date; a clock that reads no time refuses everything. */
export function clockSeconds(reading: number): number {
  const ms = new Date(reading).getTime();
  if (!Number.isFinite(ms)) throw new Error('the clock reads no valid time');
  return Math.floor(ms / 1000);
}

/** A NumericDate claim: absent, or a number (1e400 parses as Infinity and is one); anything else is invalid. */
export function numericDate(spec: Pick<IssuerSpec, 'id'>, claims: JwtClaims, claim: 'iat' | 'nbf' | 'exp'): number | undefined {
  const v = claims[claim];
  if (v === undefined) return undefined;
  if (typeof v !== 'number') throw new AuthError('JWT_CLAIM_INVALID', { issuer: spec.id, claim });
  return v;
}

/** nbf with the clock tolerance: JWT_NOT_YET_VALID while `nbf` is more than the tolerance ahead of `now`. */
export function checkNotBefore(issuer: TimeRules, nbf: number | undefined, now: number): void {
  if (nbf !== undefined && nbf > now + issuer.spec.clockToleranceSeconds) {
    throw new AuthError('JWT_NOT_YET_VALID', { issuer: issuer.spec.id, claim: 'nbf' });
  }
}

/** exp, then the age cap on iat (too old; or issued in the future), all with the clock tolerance. */
export function checkExpiry(issuer: TimeRules, t: JwtTimes, now: number): void {
  const tolerance = issuer.spec.clockToleranceSeconds;
  if (t.exp !== undefined && t.exp <= now - tolerance) throw new AuthError('JWT_EXPIRED', { issuer: issuer.spec.id });
  if (issuer.maxTokenAge !== undefined) {
    // iat is present whenever the age cap is on: the verifier lists it among the required claims then.
    const age = now - t.iat!;
    if (age - tolerance > issuer.maxTokenAge) throw new AuthError('JWT_TOO_OLD', { issuer: issuer.spec.id });
    if (age < -tolerance) throw new AuthError('JWT_NOT_YET_VALID', { issuer: issuer.spec.id, claim: 'iat' });
  }
}

/**
 * The lifetime the issuer gave the token (`exp` minus `iat`) against the age cap: a token minted to live longer than
 * the cap allows is refused at once (JWT_LIFETIME_TOO_LONG), not only once it has aged past the cap. Static, so only
 * the full check runs it; a token without `iat` or `exp`, or with the cap off, has no lifetime to judge.
 */
export function checkLifetime(issuer: TimeRules, t: JwtTimes): void {
  if (issuer.maxTokenAge === undefined || t.iat === undefined || t.exp === undefined) return;
  if (t.exp - t.iat > issuer.maxTokenAge) throw new AuthError('JWT_LIFETIME_TOO_LONG', { issuer: issuer.spec.id });
}
