import { isUtf8 } from 'node:buffer';
import { claimAt, claimSegments } from '../../contract/claim-path';
import * as nodeCrypto from 'node:crypto';
import { AuthError, type ReasonCode } from './errors';
import { Hs256Keys } from './hs256-keys';
import type { IssuerSpec } from './issuers';
import type { KeyGetter, KeyQuery } from './jwks';
import { type SignatureAlgorithm, type VerificationKey, verifySignature } from './jws';
import { canonicalBytes, jsonObject, parsedHeader } from './jwt-parse';
import { type ClaimRules, type JwtClaims, type UserPrincipal, compileClaimRules, userPrincipal } from './jwt-principal';
import { type JwtTimes, checkExpiry, checkLifetime, checkNotBefore, clockSeconds, numericDate } from './jwt-time';
import { TtlLru } from './lru';
import type { JwksGetterFactory } from './remote-jwks';
import type { SecretStore } from './secrets';

// The verifier's API as it was when this file also held the claims mapping, the JWKS factory and the HS256 keys.
export { MIN_HS256_SECRET_BYTES } from './hs256-keys';
export type { JwtClaims, UserPrincipal } from './jwt-principal';
export { type JwksGetterContext, type JwksGetterFactory, remoteJwks } from './remote-jwks';

/** Verified tokens kept by default (about 1 KB each at most with typical claims: a few MB). */
export const DEFAULT_TOKEN_CACHE_ENTRIES = 10_000;

/**
 * The verified-token cache is a TtlLru (lru.ts) whose entries have no time to live of their own: a hit re-checks the
 * token's time claims and its key instead (JwtVerifier), so the cache needs no clock and evicts only by use, least
 * recently used first, in O(1) whatever its size.
 */
const NO_TTL = Number.POSITIVE_INFINITY;
const NO_CLOCK = (): number => 0;

// Headers that carry or point at keys: a verifier that honoured them would let the token choose its own key.
const FORBIDDEN_HEADERS = ['jwk', 'jku', 'x5u', 'x5c'];

/** An issuer as the verifier uses it: its spec with everything per-token work needs built in advance. */
interface Issuer {
  readonly spec: IssuerSpec;
  readonly rules: ClaimRules;
  readonly jwks?: KeyGetter;
  /** Claims that must be present, in the order jose checks them (the first one missing is the one reported). */
  readonly presence: readonly string[];
  readonly audience?: readonly string[];
  /** Seconds; undefined when the age cap is off. */
  readonly maxTokenAge?: number;
}

/** One verified token in the cache. */
interface Verified extends JwtTimes {
  readonly issuer: Issuer;
  readonly alg: SignatureAlgorithm;
  readonly kid: unknown;
  /** The key that verified it: the entry stands only while the issuer's key source still hands out this very key. */
  readonly key: VerificationKey;
  readonly principal: UserPrincipal;
}

/** Everything the full check established about one token. */
interface Checked extends JwtTimes {
  readonly issuer: Issuer;
  readonly alg: SignatureAlgorithm;
  readonly kid: unknown;
  readonly key: VerificationKey;
  readonly claims: JwtClaims;
}

/** What a {@link JwtVerifier} reads keys and the time with. */
export interface JwtVerifierDeps {
  readonly jwks: JwksGetterFactory;
  readonly secrets: Pick<SecretStore, 'get'>;
  readonly now: () => number;
  readonly maxStaleSeconds: number;
  /** Verified tokens kept for repeated use: an integer (default {@link DEFAULT_TOKEN_CACHE_ENTRIES}; 0: none). */
  readonly tokenCacheEntries?: number;
}

/**
 * Verifies user JWTs: the issuer is chosen by exact `iss`, and the token is checked only with that issuer's own
 * key source and pinned algorithms, so a key or `kid` of one issuer can never vouch for another.
 *
 * Signatures are checked with node:crypto on KeyObjects imported once (jws.ts); the checks around them are those of
 * jose's `jwtVerify`, which verified tokens here before and remains the reference of the differential tests.
 *
 * Repeated tokens: a verified token is kept (by the SHA-256 of its text, never the text) with its principal, its
 * time claims and the key that verified it. A later use re-checks the time claims against the clock, exactly as a
 * full check would, and stands only while the issuer's key source still hands out that same key for the token's
 * `alg` and `kid` without I/O: a JWKS refetch that drops or changes the key, a JWKS past its max age (which needs a
 * refetch first), a rotated or unreadable HS256 secret, each sends the token through the full check again, which
 * then decides with the keys of the moment. Only successes are kept, so no token's entry can be made by another.
 */
export class JwtVerifier {
  private readonly issuers = new Map<string, Issuer>();
  /** The `iss` of a trusted provider's tokens of a kind not accepted (Entra v1.0), with the issuer's id. */
  private readonly otherKinds = new Map<string, string>();
  private readonly hsKeys: Hs256Keys;
  private readonly cache: TtlLru<string, Verified> | undefined;
  private hits = 0;
  private misses = 0;

  constructor(
    specs: readonly IssuerSpec[],
    private readonly deps: JwtVerifierDeps,
  ) {
    this.hsKeys = new Hs256Keys(deps);
    for (const spec of specs) {
      const asymmetric = spec.algorithms.some((a) => a !== 'HS256');
      const maxTokenAge = spec.maxTokenAgeSeconds > 0 ? spec.maxTokenAgeSeconds : undefined;
      // jose's order: required claims, then iat (age cap), aud (audience), iss; reversed, first occurrence kept.
      // Top-level names only: nested required claims are the claim rules' (jwt-principal.ts).
      const topLevel = spec.requiredClaims.map(claimSegments).filter((at) => at.length === 1).map((at) => at[0]!);
      const presence = [...topLevel, ...(maxTokenAge !== undefined ? ['iat'] : []), ...(spec.audience !== undefined ? ['aud'] : []), 'iss'];
      this.issuers.set(spec.issuer, {
        spec,
        rules: compileClaimRules(spec),
        presence: [...new Set(presence.reverse())],
        ...(spec.audience !== undefined ? { audience: typeof spec.audience === 'string' ? [spec.audience] : [...spec.audience] } : {}),
        ...(maxTokenAge !== undefined ? { maxTokenAge } : {}),
        ...(asymmetric ? { jwks: deps.jwks(spec, { maxStaleSeconds: deps.maxStaleSeconds, now: deps.now }) } : {}),
      });
      for (const other of spec.otherKindIssuers ?? []) this.otherKinds.set(other, spec.id);
    }
    const entries = deps.tokenCacheEntries ?? DEFAULT_TOKEN_CACHE_ENTRIES;
    this.cache = entries > 0 ? new TtlLru(entries, NO_CLOCK) : undefined;
  }

  /**
   * The principal of a user JWT, from the cache while its entry stands, else by the full check. Rejects with an
   * AuthError whose code says why the token was refused (or, for a dependency failure, that no decision was made).
   */
  async verify(token: string): Promise<UserPrincipal> {
    const cache = this.cache;
    if (cache === undefined) {
      this.misses++;
      const checked = await this.check(token);
      return userPrincipal(checked.issuer.spec, checked.issuer.rules, checked.claims);
    }
    const cacheKey = cacheKeyOf(token);
    const hit = cache.get(cacheKey);
    if (hit !== undefined) {
      let stands = this.keyStands(hit);
      if (typeof stands !== 'boolean') stands = await stands;
      if (stands) {
        try {
          const now = clockSeconds(this.deps.now());
          checkNotBefore(hit.issuer, hit.nbf, now);
          checkExpiry(hit.issuer, hit, now);
        } catch (err) {
          cache.delete(cacheKey);
          throw err;
        }
        this.hits++;
        return hit.principal;
      }
      cache.delete(cacheKey);
    }
    this.misses++;
    const checked = await this.check(token);
    const principal = userPrincipal(checked.issuer.spec, checked.issuer.rules, checked.claims);
    const verified: Verified = {
      issuer: checked.issuer,
      alg: checked.alg,
      kid: checked.kid,
      key: checked.key,
      iat: checked.iat,
      nbf: checked.nbf,
      exp: checked.exp,
      principal,
    };
    cache.set(cacheKey, verified, NO_TTL);
    return principal;
  }

  /** The full check without the cache and without the principal: the issuer and the verified claims. */
  async verifyClaims(token: string): Promise<{ readonly issuer: IssuerSpec; readonly claims: JwtClaims }> {
    const { issuer, claims } = await this.check(token);
    return { issuer: issuer.spec, claims };
  }

  /** For tests and diagnostics: the cache's size and its hits and misses so far. */
  cacheStats(): { readonly size: number; readonly hits: number; readonly misses: number } {
    return { size: this.cache?.size ?? 0, hits: this.hits, misses: this.misses };
  }

  /** Whether the key that verified a cached token is still the one its issuer's key source would use now. */
  private keyStands(v: Verified): boolean | Promise<boolean> {
    if (v.alg !== 'HS256') return v.issuer.jwks!.current(v.alg, v.kid) === v.key;
    const fresh = this.hsKeys.fresh(v.issuer.spec);
    if (fresh !== undefined) return fresh === v.key;
    return this.hsKeys.read(v.issuer.spec).then((k) => k === v.key);
  }

  private async check(token: string): Promise<Checked> {
    const dot1 = token.indexOf('.');
    const dot2 = dot1 < 0 ? -1 : token.indexOf('.', dot1 + 1);
    // Three segments, as classify.ts guarantees for the handler; anything else is refused here too.
    if (dot2 < 0 || token.indexOf('.', dot2 + 1) >= 0) throw new AuthError('JWT_MALFORMED', { part: 'segments' });
    const { header, utf8: headerUtf8 } = parsedHeader(token.slice(0, dot1));
    const payloadBytes = canonicalBytes(token.slice(dot1 + 1, dot2));
    const unverified = jsonObject(payloadBytes);
    // The signature too must have one spelling: base64url's unused bits could otherwise give one token four.
    const sig = token.slice(dot2 + 1);
    const signature = Buffer.from(sig, 'base64url');
    if (signature.toString('base64url') !== sig) throw new AuthError('JWT_MALFORMED', { part: 'signature' });
    for (const name of FORBIDDEN_HEADERS) {
      if (Object.prototype.hasOwnProperty.call(header, name)) throw new AuthError('JWT_HEADER_FORBIDDEN', { header: name });
    }
    // RFC 7797 `b64` changes what is signed; jose honours it only when it is listed in `crit`. A token that says
    // its payload is not base64url is not a JWT we read, critical or not.
    if (Object.prototype.hasOwnProperty.call(header, 'b64')) throw new AuthError('JWT_MALFORMED', { part: 'b64' });
    const iss = unverified.iss;
    const issuer = typeof iss === 'string' ? this.issuers.get(iss) : undefined;
    if (!issuer) {
      const kindOf = typeof iss === 'string' ? this.otherKinds.get(iss) : undefined;
      throw kindOf === undefined ? new AuthError('JWT_ISSUER_UNKNOWN') : new AuthError('JWT_TOKEN_TYPE_NOT_ALLOWED', { issuer: kindOf, claim: 'iss' });
    }
    const { spec } = issuer;
    const alg = header.alg;
    if (typeof alg !== 'string' || !spec.algorithms.includes(alg as never)) {
      throw new AuthError('JWT_ALG_NOT_ALLOWED', { issuer: spec.id, alg: typeof alg === 'string' ? alg.slice(0, 16) : typeof alg });
    }
    const pinned = alg as SignatureAlgorithm;
    const detail = { issuer: spec.id };

    // From here on, jose's order and jose's verdicts (the reason codes of its errors, as jwt.ts mapped them).
    // Pinned to HS256 with this issuer's own secret: a public key can never be used as an HMAC secret.
    let key = pinned === 'HS256' ? (this.hsKeys.fresh(spec) ?? (await this.hsKeys.read(spec))) : undefined;
    // The header as jose reads it: strict UTF-8 (the lenient read above chose the issuer; a byte it would have
    // replaced is refused here, never read two ways).
    if (!headerUtf8) throw new AuthError('JWT_MALFORMED', detail);
    // `crit` may name only `b64`, which must then be in the header, and a header with `b64` was refused above: any
    // `crit` at all is an extension this verifier does not understand.
    if (Object.prototype.hasOwnProperty.call(header, 'crit')) throw new AuthError('JWT_MALFORMED', detail);
    if (key === undefined) {
      try {
        key = await issuer.jwks!(header as KeyQuery);
      } catch (err) {
        throw keyError(err, spec);
      }
    }
    if (key.alg !== pinned) throw new AuthError('JWT_KEYS_UNAVAILABLE', detail);
    if (!verifySignature(pinned, key.key, token.slice(0, dot2), signature)) {
      throw new AuthError('JWT_SIGNATURE_INVALID', detail);
    }
    if (!isUtf8(payloadBytes)) throw new AuthError('JWT_MALFORMED', detail);
    const claims = unverified;
    // The token's kind first (IssuerSpec.tokenType): an access token where id tokens are configured has no `aud`, or
    // another one, and is the wrong kind of token rather than one with a missing claim or the wrong audience.
    const kind = issuer.rules.tokenType;
    if (kind !== undefined && claimAt(claims, kind.path.at) !== kind.expected) throw new AuthError('JWT_TOKEN_TYPE_NOT_ALLOWED', { ...detail, claim: kind.path.label });

    for (const claim of issuer.presence) {
      if (!Object.prototype.hasOwnProperty.call(claims, claim)) throw new AuthError('JWT_CLAIM_MISSING', { ...detail, claim });
    }
    // jose's issuer check. The issuer was chosen by this very `iss`, so it cannot fail; kept as a second lock.
    if (claims.iss !== spec.issuer) throw new AuthError('JWT_CLAIM_INVALID', { ...detail, claim: 'iss' });
    if (issuer.audience !== undefined && !audiencePresent(claims.aud, issuer.audience)) {
      throw new AuthError('JWT_AUDIENCE_MISMATCH', { ...detail, claim: 'aud' });
    }
    const iat = numericDate(spec, claims, 'iat');
    const nbf = numericDate(spec, claims, 'nbf');
    const now = clockSeconds(this.deps.now());
    checkNotBefore(issuer, nbf, now);
    const exp = numericDate(spec, claims, 'exp');
    const times = { iat, nbf, exp };
    checkExpiry(issuer, times, now);
    checkLifetime(issuer, times);
    return { issuer, alg: pinned, kid: header.kid, key, claims, ...times };
  }
}

/** jose's audience rule: a string aud must be one of ours; an array must contain one of ours. */
function audiencePresent(aud: unknown, audience: readonly string[]): boolean {
  if (typeof aud === 'string') return audience.includes(aud);
  if (Array.isArray(aud)) return audience.some((a) => aud.includes(a));
  return false;
}

/**
 * The cache key of a token: the SHA-256 of its UTF-8 bytes, as 32 one-byte characters. Small and fixed-size whatever
 * the token's length, and no token text is kept. Only a verified token (ASCII: canonical base64url) ever makes an
 * entry, and no other string has the same UTF-8 bytes as an ASCII one.
 */
const cacheKeyOf: (token: string) => string =
  // crypto.hash (Node 20.12+, 21.7+) skips the Hash object: about 1 us less per token than createHash.
  typeof nodeCrypto.hash === 'function'
    ? (token) => nodeCrypto.hash('sha256', token, 'binary')
    : (token) => nodeCrypto.createHash('sha256').update(token).digest('binary');

const KEY_REASONS: Readonly<Record<string, ReasonCode>> = {
  ERR_JWKS_NO_MATCHING_KEY: 'JWT_KID_UNKNOWN',
  ERR_JWKS_MULTIPLE_MATCHING_KEYS: 'JWT_KID_UNKNOWN',
  ERR_JOSE_NOT_SUPPORTED: 'JWT_MALFORMED',
};

/**
 * A key getter's failure: an unknown kid (or one several keys answer to) is the token's fault (401); anything
 * else (endpoint down, no key set, a key that cannot be used) is a dependency failure (500).
 */
function keyError(err: unknown, spec: IssuerSpec): AuthError {
  if (err instanceof AuthError) return err;
  const code = (err as { code?: unknown } | null)?.code;
  const reason = typeof code === 'string' ? KEY_REASONS[code] : undefined;
  if (reason !== undefined) return new AuthError(reason, { issuer: spec.id });
  return new AuthError('JWT_KEYS_UNAVAILABLE', { issuer: spec.id }, { cause: err });
}
