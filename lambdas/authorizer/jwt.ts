import { isUtf8 } from 'node:buffer';
import { createHash } from 'node:crypto';
import { IDENTIFIER, claimAt, stringList } from './claims';
import { AuthError, type ReasonCode } from './errors';
import type { IssuerSpec } from './issuers';
import { type KeyGetter, type KeyQuery, createJwksGetter, staticKeyGetter } from './jwks';
import { type SignatureAlgorithm, type VerificationKey, hmacKey, verifySignature } from './jws';
import { type SecretStore, isWeakSecret } from './secrets';

/** A verified user, before tenant and route checks. */
export interface UserPrincipal {
  readonly kind: 'user';
  readonly issuerId: string;
  readonly subject: string;
  readonly tenantId?: string;
  readonly scopes: readonly string[];
  readonly roles: readonly string[];
  readonly email?: string;
  readonly sessionId?: string;
  readonly tenantRequired: boolean;
}

/** The claims of a verified JWT, as JSON.parse made them. */
export type JwtClaims = Record<string, unknown>;

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

/** RFC 7518 3.2: an HS256 key must be at least as long as the hash output. */
export const MIN_HS256_SECRET_BYTES = 32;

/** Verified tokens kept by default (about 1 KB each at most with typical claims: a few MB). */
export const DEFAULT_TOKEN_CACHE_ENTRIES = 10_000;

// Headers that carry or point at keys: a verifier that honoured them would let the token choose its own key.
const FORBIDDEN_HEADERS = ['jwk', 'jku', 'x5u', 'x5c'];

interface Issuer {
  readonly spec: IssuerSpec;
  readonly jwks?: KeyGetter;
  /** Claims that must be present, in the order jose checks them (the first one missing is the one reported). */
  readonly presence: readonly string[];
  readonly audience?: readonly string[];
  /** Seconds; undefined when the age cap is off. */
  readonly maxTokenAge?: number;
}

/** The time claims of a verified token: what a cached verification must re-check on every use. */
interface Times {
  readonly iat: number | undefined;
  readonly nbf: number | undefined;
  readonly exp: number | undefined;
}

/** One verified token in the cache. */
interface Verified extends Times {
  readonly issuer: Issuer;
  readonly alg: SignatureAlgorithm;
  readonly kid: unknown;
  /** The key that verified it: the entry stands only while the issuer's key source still hands out this very key. */
  readonly key: VerificationKey;
  readonly principal: UserPrincipal;
  /** Second-chance bit of the clock eviction. */
  used: boolean;
}

/** Everything the full check established about one token. */
interface Checked extends Times {
  readonly issuer: Issuer;
  readonly alg: SignatureAlgorithm;
  readonly kid: unknown;
  readonly key: VerificationKey;
  readonly claims: JwtClaims;
}

export interface JwtVerifierDeps {
  readonly jwks: JwksGetterFactory;
  readonly secrets: Pick<SecretStore, 'get'>;
  readonly now: () => number;
  readonly maxStaleSeconds: number;
  /** Verified tokens kept for repeated use (default {@link DEFAULT_TOKEN_CACHE_ENTRIES}; 0: none). */
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
  private readonly hsKeys = new Map<string, { secret: Buffer; key: VerificationKey }>();
  private readonly cache: TokenCache | undefined;
  private hits = 0;
  private misses = 0;

  constructor(
    specs: readonly IssuerSpec[],
    private readonly deps: JwtVerifierDeps,
  ) {
    for (const spec of specs) {
      const asymmetric = spec.algorithms.some((a) => a !== 'HS256');
      const maxTokenAge = spec.maxTokenAgeSeconds > 0 ? spec.maxTokenAgeSeconds : undefined;
      // jose's order: required claims, then iat (age cap), aud (audience), iss; reversed, first occurrence kept.
      const presence = [...spec.requiredClaims, ...(maxTokenAge !== undefined ? ['iat'] : []), ...(spec.audience !== undefined ? ['aud'] : []), 'iss'];
      this.issuers.set(spec.issuer, {
        spec,
        presence: [...new Set(presence.reverse())],
        ...(spec.audience !== undefined ? { audience: typeof spec.audience === 'string' ? [spec.audience] : [...spec.audience] } : {}),
        ...(maxTokenAge !== undefined ? { maxTokenAge } : {}),
        ...(asymmetric ? { jwks: deps.jwks(spec, { maxStaleSeconds: deps.maxStaleSeconds, now: deps.now }) } : {}),
      });
    }
    const entries = deps.tokenCacheEntries ?? DEFAULT_TOKEN_CACHE_ENTRIES;
    this.cache = entries > 0 ? new TokenCache(entries) : undefined;
  }

  async verify(token: string): Promise<UserPrincipal> {
    // Keyed by the SHA-256 of the token's UTF-8 bytes: small and fixed-size whatever the token's length, and no token
    // text is held. Only a verified token (ASCII: canonical base64url) ever makes an entry, and no other string has
    // the same UTF-8 bytes as an ASCII one.
    const cacheKey = this.cache ? createHash('sha256').update(token).digest('binary') : undefined;
    if (cacheKey !== undefined) {
      const hit = this.cache!.get(cacheKey);
      if (hit !== undefined && !(await this.keyStands(hit))) this.cache!.delete(cacheKey);
      else if (hit !== undefined) {
        try {
          const now = this.nowSeconds();
          checkNotBefore(hit.issuer, hit.nbf, now);
          checkExpiry(hit.issuer, hit, now);
        } catch (err) {
          this.cache!.delete(cacheKey);
          throw err;
        }
        this.hits++;
        return hit.principal;
      }
    }
    this.misses++;
    const checked = await this.check(token);
    const principal = this.principal(checked.issuer.spec, checked.claims);
    if (cacheKey !== undefined) {
      const { issuer, alg, kid, key, iat, nbf, exp } = checked;
      this.cache!.set(cacheKey, { issuer, alg, kid, key, iat, nbf, exp, principal, used: false });
    }
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
  private async keyStands(v: Verified): Promise<boolean> {
    if (v.alg === 'HS256') return (await this.hs256Key(v.issuer.spec)) === v.key;
    return v.issuer.jwks!.current(v.alg, v.kid) === v.key;
  }

  private async check(token: string): Promise<Checked> {
    const dot1 = token.indexOf('.');
    const dot2 = dot1 < 0 ? -1 : token.indexOf('.', dot1 + 1);
    // Three segments, as classify.ts guarantees for the handler; anything else is refused here too.
    if (dot2 < 0 || token.indexOf('.', dot2 + 1) >= 0) throw new AuthError('JWT_MALFORMED', { part: 'segments' });
    const headerBytes = canonicalBytes(token.slice(0, dot1));
    const header = jsonObject(headerBytes);
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
    if (!issuer) throw new AuthError('JWT_ISSUER_UNKNOWN');
    const { spec } = issuer;
    const alg = header.alg;
    if (typeof alg !== 'string' || !spec.algorithms.includes(alg as never)) {
      throw new AuthError('JWT_ALG_NOT_ALLOWED', { issuer: spec.id, alg: typeof alg === 'string' ? alg.slice(0, 16) : typeof alg });
    }
    const pinned = alg as SignatureAlgorithm;
    const detail = { issuer: spec.id };

    // From here on, jose's order and jose's verdicts (the reason codes of its errors, as jwt.ts mapped them).
    // Pinned to HS256 with this issuer's own secret: a public key can never be used as an HMAC secret.
    let key = pinned === 'HS256' ? await this.hs256Key(spec) : undefined;
    // The header as jose reads it: strict UTF-8 (the lenient read above chose the issuer; a byte it would have
    // replaced is refused here, never read two ways).
    if (!isUtf8(headerBytes)) throw new AuthError('JWT_MALFORMED', detail);
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
    if (!verifySignature(pinned, key.key, Buffer.from(token.slice(0, dot2), 'latin1'), signature)) {
      throw new AuthError('JWT_SIGNATURE_INVALID', detail);
    }
    if (!isUtf8(payloadBytes)) throw new AuthError('JWT_MALFORMED', detail);
    const claims = unverified;

    for (const claim of issuer.presence) {
      if (!Object.prototype.hasOwnProperty.call(claims, claim)) throw new AuthError('JWT_CLAIM_MISSING', { ...detail, claim });
    }
    if (claims.iss !== spec.issuer) throw new AuthError('JWT_CLAIM_INVALID', { ...detail, claim: 'iss' });
    if (issuer.audience !== undefined && !audiencePresent(claims.aud, issuer.audience)) {
      throw new AuthError('JWT_AUDIENCE_MISMATCH', { ...detail, claim: 'aud' });
    }
    const iat = numericDate(spec, claims, 'iat');
    const nbf = numericDate(spec, claims, 'nbf');
    const now = this.nowSeconds();
    checkNotBefore(issuer, nbf, now);
    const exp = numericDate(spec, claims, 'exp');
    const times = { iat, nbf, exp };
    checkExpiry(issuer, times, now);
    return { issuer, alg: pinned, kid: header.kid, key, claims, ...times };
  }

  /** The clock in whole seconds, as jose reads a Date; a clock that reads no time refuses everything. */
  private nowSeconds(): number {
    const ms = new Date(this.deps.now()).getTime();
    if (!Number.isFinite(ms)) throw new Error('the clock reads no valid time');
    return Math.floor(ms / 1000);
  }

  /**
   * The issuer's HS256 key: its secret as Secrets Manager holds it now (through the SecretStore's cache), imported
   * once. A re-read that finds the same bytes keeps the same key (cached verifications stand); a rotation makes a
   * new one (they do not).
   */
  private async hs256Key(spec: IssuerSpec): Promise<VerificationKey> {
    const id = spec.keys.hs256SecretId!;
    let secret: Buffer | undefined;
    try {
      ({ current: secret } = await this.deps.secrets.get(id, {
        ttlSeconds: spec.secretCacheTtlSeconds,
        maxStaleSeconds: this.deps.maxStaleSeconds,
        stages: 'current',
      }));
    } catch (err) {
      throw new AuthError('JWT_SECRET_UNAVAILABLE', { issuer: spec.id }, { cause: err });
    }
    const known = this.hsKeys.get(id);
    if (known !== undefined && secret !== undefined && known.secret === secret) return known.key;
    if (!secret || isWeakSecret(secret, MIN_HS256_SECRET_BYTES)) {
      // A short secret can be brute-forced offline from any one token: refuse to verify with it at all.
      throw new AuthError('JWT_SECRET_UNAVAILABLE', { issuer: spec.id, weak: true });
    }
    // Two copies of the authorizer's own secret, not attacker input: an ordinary comparison is fine.
    if (known !== undefined && known.secret.equals(secret)) {
      known.secret = secret;
      return known.key;
    }
    const key = hmacKey(secret);
    this.hsKeys.set(id, { secret, key });
    return key;
  }

  private principal(spec: IssuerSpec, payload: JwtClaims): UserPrincipal {
    for (const [path, expected] of Object.entries(spec.requiredClaimValues)) {
      if (claimAt(payload, path) !== expected) {
        throw new AuthError(path === 'role' ? 'JWT_ROLE_NOT_ALLOWED' : 'JWT_CLAIM_INVALID', { issuer: spec.id, claim: path });
      }
    }
    if (spec.anonymous && claimAt(payload, spec.anonymous.claim) === true && !spec.anonymous.allow) {
      throw new AuthError('JWT_ANONYMOUS_NOT_ALLOWED', { issuer: spec.id });
    }
    const subject = identifier(spec, payload, spec.claims.subject);
    if (subject === undefined) throw new AuthError('JWT_CLAIM_MISSING', { issuer: spec.id, claim: spec.claims.subject });
    const tenantId = spec.claims.tenant ? identifier(spec, payload, spec.claims.tenant) : undefined;
    const email = spec.claims.email ? identifier(spec, payload, spec.claims.email, true) : undefined;
    const sessionId = spec.claims.session ? identifier(spec, payload, spec.claims.session, true) : undefined;
    // Frozen: a cached principal is handed out again and again.
    return Object.freeze({
      kind: 'user',
      issuerId: spec.id,
      subject,
      ...(tenantId !== undefined ? { tenantId } : {}),
      scopes: Object.freeze(list(spec, payload, spec.claims.scopes)),
      roles: Object.freeze(list(spec, payload, spec.claims.roles)),
      ...(email !== undefined ? { email } : {}),
      ...(sessionId !== undefined ? { sessionId } : {}),
      tenantRequired: spec.tenantRequired,
    });
  }
}

function identifier(spec: IssuerSpec, payload: JwtClaims, path: string, optional = false): string | undefined {
  const v = claimAt(payload, path);
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string' && IDENTIFIER.test(v)) return v;
  if (optional) return undefined;
  throw new AuthError('JWT_CLAIM_INVALID', { issuer: spec.id, claim: path });
}

function list(spec: IssuerSpec, payload: JwtClaims, path: string | undefined): string[] {
  if (!path) return [];
  const v = stringList(claimAt(payload, path));
  if (v === null) throw new AuthError('JWT_CLAIM_INVALID', { issuer: spec.id, claim: path });
  return v ?? [];
}

/**
 * Decodes one base64url segment, strictly: a segment that does not re-encode to itself (padding, `+`/`/`, non-zero
 * unused bits, a dangling character) is refused, so one token has exactly one spelling.
 */
function canonicalBytes(seg: string): Buffer {
  const bytes = Buffer.from(seg, 'base64url');
  if (bytes.toString('base64url') !== seg) throw new AuthError('JWT_MALFORMED', { part: 'encoding' });
  return bytes;
}

/** A segment's bytes as a JSON object (read leniently as UTF-8; the strict reading comes later, where jose's did). */
function jsonObject(bytes: Buffer): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new AuthError('JWT_MALFORMED', { part: 'json' });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new AuthError('JWT_MALFORMED', { part: 'json' });
  return value as Record<string, unknown>;
}

/** jose's audience rule: a string aud must be one of ours; an array must contain one of ours. */
function audiencePresent(aud: unknown, audience: readonly string[]): boolean {
  if (typeof aud === 'string') return audience.includes(aud);
  if (Array.isArray(aud)) return audience.some((a) => aud.includes(a));
  return false;
}

/** A NumericDate claim: absent, or a number (1e400 parses as Infinity and is one); anything else is invalid. */
function numericDate(spec: IssuerSpec, claims: JwtClaims, claim: 'iat' | 'nbf' | 'exp'): number | undefined {
  const v = claims[claim];
  if (v === undefined) return undefined;
  if (typeof v !== 'number') throw new AuthError('JWT_CLAIM_INVALID', { issuer: spec.id, claim });
  return v;
}

/** nbf with the clock tolerance. */
function checkNotBefore(issuer: Issuer, nbf: number | undefined, now: number): void {
  if (nbf !== undefined && nbf > now + issuer.spec.clockToleranceSeconds) {
    throw new AuthError('JWT_NOT_YET_VALID', { issuer: issuer.spec.id, claim: 'nbf' });
  }
}

/** exp, then the age cap on iat (too old; or issued in the future), all with the clock tolerance. */
function checkExpiry(issuer: Issuer, t: Times, now: number): void {
  const tolerance = issuer.spec.clockToleranceSeconds;
  if (t.exp !== undefined && t.exp <= now - tolerance) throw new AuthError('JWT_EXPIRED', { issuer: issuer.spec.id });
  if (issuer.maxTokenAge !== undefined) {
    const age = now - t.iat!;
    if (age - tolerance > issuer.maxTokenAge) throw new AuthError('JWT_TOO_OLD', { issuer: issuer.spec.id });
    if (age < -tolerance) throw new AuthError('JWT_NOT_YET_VALID', { issuer: issuer.spec.id, claim: 'iat' });
  }
}

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

/**
 * A bounded map of verified tokens with CLOCK (second-chance) eviction: a hit only sets a bit, and an insert into a
 * full cache evicts the oldest entry not used since it was last passed over. Map insertion order is the clock.
 */
class TokenCache {
  private readonly map = new Map<string, Verified>();

  constructor(private readonly maxEntries: number) {}

  get size(): number {
    return this.map.size;
  }

  get(key: string): Verified | undefined {
    const v = this.map.get(key);
    if (v !== undefined) v.used = true;
    return v;
  }

  set(key: string, value: Verified): void {
    if (!this.map.has(key)) {
      while (this.map.size >= this.maxEntries) {
        const [oldest, entry] = this.map.entries().next().value as [string, Verified];
        this.map.delete(oldest);
        if (!entry.used) break;
        entry.used = false;
        this.map.set(oldest, entry);
      }
    }
    this.map.set(key, value);
  }

  delete(key: string): void {
    this.map.delete(key);
  }
}
