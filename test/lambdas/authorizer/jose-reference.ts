/*
 * The JWT verifier as it was before it moved to node:crypto (git history: lambdas/authorizer/jwt.ts before issue #8),
 * kept verbatim as the reference of test/lambdas/authorizer/jws-differential.test.ts: the same prechecks, then jose's
 * `jwtVerify` with the issuer's pinned algorithms, its key (a Uint8Array secret, or jose's createLocalJWKSet) and
 * jose's claim checks, and jose's errors mapped to reason codes as they were. Test code only: the authorizer does
 * not import jose.
 */
import { type JWTPayload, type JWTVerifyGetKey, createLocalJWKSet, jwtVerify } from 'jose';
import { claimSegments } from '../../../contract/claim-path';
import { AuthError, type ReasonCode } from '../../../lambdas/authorizer/errors';
import type { IssuerSpec } from '../../../lambdas/authorizer/issuers';
import { MIN_HS256_SECRET_BYTES, type UserPrincipal } from '../../../lambdas/authorizer/jwt';
import { compileClaimRules, userPrincipal } from '../../../lambdas/authorizer/jwt-principal';
import { type SecretStore } from '../../../lambdas/authorizer/secrets';
import { isWeakSecret } from '../../../contract/secret-strength';

/** The options the verifier handed jwtVerify for an issuer (algorithms apart). */
export function joseOptions(spec: IssuerSpec, nowMs: number) {
  return {
    issuer: spec.issuer,
    ...(spec.audience !== undefined ? { audience: spec.audience } : {}),
    clockTolerance: spec.clockToleranceSeconds,
    ...(spec.maxTokenAgeSeconds > 0 ? { maxTokenAge: spec.maxTokenAgeSeconds } : {}),
    // jose's requiredClaims are top-level names; nested ones are the claim rules' (jwt-principal.ts).
    requiredClaims: spec.requiredClaims.map(claimSegments).filter((at) => at.length === 1).map((at) => at[0]!),
    currentDate: new Date(nowMs),
  };
}

/** jose's local key set over an issuer's static JWKS, as `remoteJwks` built it for `keys.jwks`. */
export const staticJoseJwks = (spec: IssuerSpec): JWTVerifyGetKey => createLocalJWKSet(spec.keys.jwks as never);

// Headers that carry or point at keys: a verifier that honoured them would let the token choose its own key.
const FORBIDDEN_HEADERS = ['jwk', 'jku', 'x5u', 'x5c'];

interface Issuer {
  readonly spec: IssuerSpec;
  readonly jwks?: JWTVerifyGetKey;
  readonly asymmetric: readonly string[];
}

/**
 * Verifies user JWTs: the issuer is chosen by exact `iss`, and the token is checked only with that issuer's own
 * key source and pinned algorithms, so a key or `kid` of one issuer can never vouch for another.
 */
export class JoseJwtVerifier {
  private readonly issuers = new Map<string, Issuer>();

  constructor(
    specs: readonly IssuerSpec[],
    private readonly deps: {
      readonly jwks: (spec: IssuerSpec) => JWTVerifyGetKey;
      readonly secrets: Pick<SecretStore, 'get'>;
      readonly now: () => number;
      readonly maxStaleSeconds: number;
    },
  ) {
    for (const spec of specs) {
      const asymmetric = spec.algorithms.filter((a) => a !== 'HS256');
      this.issuers.set(spec.issuer, { spec, asymmetric, ...(asymmetric.length ? { jwks: deps.jwks(spec) } : {}) });
    }
  }

  async verify(token: string): Promise<UserPrincipal> {
    return (await this.verifyClaims(token)).principal;
  }

  /** The pipeline as it was, returning jose's payload beside the principal. */
  async verifyClaims(token: string): Promise<{ issuer: IssuerSpec; claims: JWTPayload; principal: UserPrincipal }> {
    const [h, p, sig] = token.split('.');
    const header = decodeSegment(h!);
    const unverified = decodeSegment(p!);
    // The signature too must have one spelling: base64url's unused bits could otherwise give one token four.
    if (Buffer.from(sig!, 'base64url').toString('base64url') !== sig) throw new AuthError('JWT_MALFORMED', { part: 'signature' });
    for (const name of FORBIDDEN_HEADERS) {
      if (Object.prototype.hasOwnProperty.call(header, name)) throw new AuthError('JWT_HEADER_FORBIDDEN', { header: name });
    }
    // RFC 7797 `b64` changes what is signed; jose honours it only when it is listed in `crit`. A token that says
    // its payload is not base64url is not a JWT we read, critical or not.
    if (Object.prototype.hasOwnProperty.call(header, 'b64')) throw new AuthError('JWT_MALFORMED', { part: 'b64' });
    const iss = unverified.iss;
    const issuer = typeof iss === 'string' ? this.issuers.get(iss) : undefined;
    if (!issuer) throw new AuthError('JWT_ISSUER_UNKNOWN');
    const { spec } = issuer;
    const alg = header.alg;
    if (typeof alg !== 'string' || !spec.algorithms.includes(alg as never)) {
      throw new AuthError('JWT_ALG_NOT_ALLOWED', { issuer: spec.id, alg: typeof alg === 'string' ? alg.slice(0, 16) : typeof alg });
    }

    const options = joseOptions(spec, this.deps.now());
    let payload: JWTPayload;
    try {
      if (alg === 'HS256') {
        // Pinned to HS256 with this issuer's own secret: a public key can never be used as an HMAC secret.
        const secret = await this.hs256Secret(spec);
        ({ payload } = await jwtVerify(token, secret, { ...options, algorithms: ['HS256'] }));
      } else {
        ({ payload } = await jwtVerify(token, issuer.jwks!, { ...options, algorithms: [...issuer.asymmetric] }));
      }
    } catch (err) {
      throw mapJoseError(err, spec);
    }
    return { issuer: spec, claims: payload, principal: this.principal(spec, payload) };
  }

  private async hs256Secret(spec: IssuerSpec): Promise<Uint8Array> {
    let secret: Buffer | undefined;
    try {
      ({ current: secret } = await this.deps.secrets.get(spec.keys.hs256SecretId!, {
        ttlSeconds: spec.secretCacheTtlSeconds,
        maxStaleSeconds: this.deps.maxStaleSeconds,
        stages: 'current',
      }));
    } catch (err) {
      throw new AuthError('JWT_SECRET_UNAVAILABLE', { issuer: spec.id }, { cause: err });
    }
    if (!secret || isWeakSecret(secret, MIN_HS256_SECRET_BYTES)) {
      // A short secret can be brute-forced offline from any one token: refuse to verify with it at all.
      throw new AuthError('JWT_SECRET_UNAVAILABLE', { issuer: spec.id, weak: true });
    }
    return secret;
  }

  /**
   * The claims mapping is the product's own (jwt-principal.ts, with its unit tests): what this reference checks is
   * the JWS and time checks around it. The lifetime rule is written here as its documentation states it.
   */
  private principal(spec: IssuerSpec, payload: JWTPayload): UserPrincipal {
    lifetimeRule(spec, payload);
    return userPrincipal(spec, compileClaimRules(spec), payload);
  }
}

/** The lifetime rule, after jose's checks: with the age cap on, `exp - iat` above it is JWT_LIFETIME_TOO_LONG. */
export function lifetimeRule(spec: IssuerSpec, payload: JWTPayload): void {
  const { iat, exp } = payload;
  if (spec.maxTokenAgeSeconds > 0 && typeof iat === 'number' && typeof exp === 'number' && exp - iat > spec.maxTokenAgeSeconds) {
    throw new AuthError('JWT_LIFETIME_TOO_LONG', { issuer: spec.id });
  }
}

/**
 * Decodes one base64url segment into a JSON object, strictly: a segment that does not re-encode to itself
 * (padding, `+`/`/`, non-zero unused bits) is refused, so one token has exactly one spelling.
 */
function decodeSegment(seg: string): Record<string, unknown> {
  const bytes = Buffer.from(seg, 'base64url');
  if (bytes.toString('base64url') !== seg) throw new AuthError('JWT_MALFORMED', { part: 'encoding' });
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new AuthError('JWT_MALFORMED', { part: 'json' });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new AuthError('JWT_MALFORMED', { part: 'json' });
  return value as Record<string, unknown>;
}

const CLAIM_REASONS: Record<string, ReasonCode> = {
  aud: 'JWT_AUDIENCE_MISMATCH',
  nbf: 'JWT_NOT_YET_VALID',
  // A failed iat check here is an iat in the future (too old comes as ERR_JWT_EXPIRED on iat, above).
  iat: 'JWT_NOT_YET_VALID',
};

/** jose errors carry a stable `code` (not a class hierarchy we can rely on: JWTExpired is not a claim error). */
export function mapJoseError(err: unknown, spec: IssuerSpec): AuthError {
  if (err instanceof AuthError) return err;
  const e = err as { code?: string; claim?: string; reason?: string };
  const detail = { issuer: spec.id };
  switch (e.code) {
    case 'ERR_JWT_EXPIRED':
      // jose reports a token older than maxTokenAge as "expired" on the iat claim.
      return new AuthError(e.claim === 'iat' ? 'JWT_TOO_OLD' : 'JWT_EXPIRED', detail);
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      if (e.reason === 'missing') return new AuthError('JWT_CLAIM_MISSING', { ...detail, claim: String(e.claim) });
      return new AuthError(CLAIM_REASONS[e.claim ?? ''] && e.reason === 'check_failed' ? CLAIM_REASONS[e.claim!]! : 'JWT_CLAIM_INVALID', {
        ...detail,
        claim: String(e.claim),
      });
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return new AuthError('JWT_SIGNATURE_INVALID', detail);
    case 'ERR_JWKS_NO_MATCHING_KEY':
    case 'ERR_JWKS_MULTIPLE_MATCHING_KEYS':
      return new AuthError('JWT_KID_UNKNOWN', detail);
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
      return new AuthError('JWT_ALG_NOT_ALLOWED', detail);
    case 'ERR_JWS_INVALID':
    case 'ERR_JWT_INVALID':
    case 'ERR_JOSE_NOT_SUPPORTED':
      return new AuthError('JWT_MALFORMED', detail);
    case 'ERR_JWKS_TIMEOUT':
    case 'ERR_JWKS_INVALID':
    case 'ERR_JOSE_GENERIC':
      return new AuthError('JWT_KEYS_UNAVAILABLE', detail, { cause: err });
    default:
      // A JWKS fetch that failed at the network level (TypeError from fetch), or a key jose could not import.
      if (err instanceof TypeError) return new AuthError('JWT_KEYS_UNAVAILABLE', detail, { cause: err });
      return new AuthError('JWT_MALFORMED', detail);
  }
}
