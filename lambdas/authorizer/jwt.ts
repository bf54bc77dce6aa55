import { isUtf8 } from 'node:buffer';
import * as nodeCrypto from 'node:crypto';
import { stringList } from './claims';
import { AuthError, type ReasonCode } from './errors';
import type { IssuerSpec } from './issuers';
import { type KeyGetter, type KeyQuery, createJwksGetter, staticKeyGetter } from './jwks';
import { type SignatureAlgorithm, type VerificationKey, hmacKey, verifySignature } from './jws';
import { isWeakSecret } from '../../contract/secret-strength';
import type { SecretStore, SecretVersions } from './secrets';
import { IDENTIFIER_PATTERN } from '../../contract/patterns';

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

/** A claim path split once (claims.ts `claimAt` splits it on every call). */
type Path = readonly string[];

/** An issuer's claim rules with their paths split, built once. */
interface Rules {
  readonly values: readonly (readonly [path: string, at: Path, expected: string | number | boolean])[];
  readonly anonymous?: { readonly at: Path; readonly allow: boolean };
  readonly subject: Path;
  readonly tenant?: Path;
  readonly email?: Path;
  readonly session?: Path;
  readonly scopes?: Path;
  readonly roles?: Path;
}

interface Issuer {
  readonly spec: IssuerSpec;
  readonly rules: Rules;
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

/** An HS256 secret as last read, and its key. */
interface HsKey {
  secret: Buffer;
  readonly key: VerificationKey;
  /** When the SecretStore read the secret (its `loadedAt`). */
  loadedAt: number;
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
  private readonly hsKeys = new Map<string, HsKey>();
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
        rules: compileRules(spec),
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
    const cache = this.cache;
    if (cache === undefined) {
      this.misses++;
      const checked = await this.check(token);
      return this.principal(checked.issuer, checked.claims);
    }
    const cacheKey = cacheKeyOf(token);
    const hit = cache.get(cacheKey);
    if (hit !== undefined) {
      let stands = this.keyStands(hit);
      if (typeof stands !== 'boolean') stands = await stands;
      if (stands) {
        try {
          const now = this.nowSeconds();
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
    const principal = this.principal(checked.issuer, checked.claims);
    cache.set(cacheKey, {
      issuer: checked.issuer,
      alg: checked.alg,
      kid: checked.kid,
      key: checked.key,
      iat: checked.iat,
      nbf: checked.nbf,
      exp: checked.exp,
      principal,
      used: false,
    });
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
    const fresh = this.freshHs256Key(v.issuer.spec);
    if (fresh !== undefined) return fresh === v.key;
    return this.hs256Key(v.issuer.spec).then((k) => k === v.key);
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
    let key = pinned === 'HS256' ? (this.freshHs256Key(spec) ?? (await this.hs256Key(spec))) : undefined;
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
   * The issuer's HS256 key without asking the SecretStore, while the copy it last handed out is within the issuer's
   * secret TTL: exactly when the store itself would answer from that copy (fresh while now - loadedAt < TTL).
   */
  private freshHs256Key(spec: IssuerSpec): VerificationKey | undefined {
    const known = this.hsKeys.get(spec.keys.hs256SecretId!);
    return known !== undefined && this.deps.now() - known.loadedAt < spec.secretCacheTtlSeconds * 1000 ? known.key : undefined;
  }

  /**
   * The issuer's HS256 key: its secret as Secrets Manager holds it now (through the SecretStore's cache), imported
   * once. A re-read that finds the same bytes keeps the same key (cached verifications stand); a rotation makes a
   * new one (they do not).
   */
  private async hs256Key(spec: IssuerSpec): Promise<VerificationKey> {
    const id = spec.keys.hs256SecretId!;
    let versions: SecretVersions;
    try {
      versions = await this.deps.secrets.get(id, {
        ttlSeconds: spec.secretCacheTtlSeconds,
        maxStaleSeconds: this.deps.maxStaleSeconds,
        stages: 'current',
      });
    } catch (err) {
      throw new AuthError('JWT_SECRET_UNAVAILABLE', { issuer: spec.id }, { cause: err });
    }
    const secret = versions.current;
    const known = this.hsKeys.get(id);
    if (known !== undefined && secret !== undefined && known.secret === secret) {
      known.loadedAt = versions.loadedAt;
      return known.key;
    }
    if (!secret || isWeakSecret(secret, MIN_HS256_SECRET_BYTES)) {
      // A short secret can be brute-forced offline from any one token: refuse to verify with it at all.
      throw new AuthError('JWT_SECRET_UNAVAILABLE', { issuer: spec.id, weak: true });
    }
    // Two copies of the authorizer's own secret, not attacker input: an ordinary comparison is fine.
    if (known !== undefined && known.secret.equals(secret)) {
      known.secret = secret;
      known.loadedAt = versions.loadedAt;
      return known.key;
    }
    const key = hmacKey(secret);
    this.hsKeys.set(id, { secret, key, loadedAt: versions.loadedAt });
    return key;
  }

  private principal(issuer: Issuer, payload: JwtClaims): UserPrincipal {
    const { spec, rules } = issuer;
    for (const [path, at, expected] of rules.values) {
      if (claimAt(payload, at) !== expected) {
        throw new AuthError(path === 'role' ? 'JWT_ROLE_NOT_ALLOWED' : 'JWT_CLAIM_INVALID', { issuer: spec.id, claim: path });
      }
    }
    if (rules.anonymous && claimAt(payload, rules.anonymous.at) === true && !rules.anonymous.allow) {
      throw new AuthError('JWT_ANONYMOUS_NOT_ALLOWED', { issuer: spec.id });
    }
    const subject = identifier(spec, payload, rules.subject);
    if (subject === undefined) throw new AuthError('JWT_CLAIM_MISSING', { issuer: spec.id, claim: spec.claims.subject });
    const tenantId = rules.tenant ? identifier(spec, payload, rules.tenant) : undefined;
    const email = rules.email ? identifier(spec, payload, rules.email, true) : undefined;
    const sessionId = rules.session ? identifier(spec, payload, rules.session, true) : undefined;
    const p: { -readonly [K in keyof UserPrincipal]: UserPrincipal[K] } = {
      kind: 'user',
      issuerId: spec.id,
      subject,
      scopes: list(spec, payload, rules.scopes),
      roles: list(spec, payload, rules.roles),
      tenantRequired: spec.tenantRequired,
    };
    if (tenantId !== undefined) p.tenantId = tenantId;
    if (email !== undefined) p.email = email;
    if (sessionId !== undefined) p.sessionId = sessionId;
    // Frozen: a cached principal is handed out again and again.
    Object.freeze(p.scopes);
    Object.freeze(p.roles);
    return Object.freeze(p);
  }
}

function compileRules(spec: IssuerSpec): Rules {
  const c = spec.claims;
  return {
    values: Object.entries(spec.requiredClaimValues).map(([path, expected]) => [path, path.split('.'), expected] as const),
    ...(spec.anonymous ? { anonymous: { at: spec.anonymous.claim.split('.'), allow: spec.anonymous.allow } } : {}),
    subject: c.subject.split('.'),
    ...(c.tenant ? { tenant: c.tenant.split('.') } : {}),
    ...(c.email ? { email: c.email.split('.') } : {}),
    ...(c.session ? { session: c.session.split('.') } : {}),
    ...(c.scopes ? { scopes: c.scopes.split('.') } : {}),
    ...(c.roles ? { roles: c.roles.split('.') } : {}),
  };
}

/**
 * claims.ts `claimAt` over a path split in advance: own properties only, so `__proto__`, `constructor` and friends in
 * a payload are plain data and never reach the prototype chain.
 */
function claimAt(claims: unknown, path: Path): unknown {
  let cur: unknown = claims;
  for (let i = 0; i < path.length; i++) {
    if (cur === null || typeof cur !== 'object' || Array.isArray(cur)) return undefined;
    const name = path[i]!;
    if (!Object.prototype.hasOwnProperty.call(cur, name)) return undefined;
    cur = (cur as Record<string, unknown>)[name];
  }
  return cur;
}

function identifier(spec: IssuerSpec, payload: JwtClaims, path: Path, optional = false): string | undefined {
  const v = claimAt(payload, path);
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string' && IDENTIFIER_PATTERN.test(v)) return v;
  if (optional) return undefined;
  throw new AuthError('JWT_CLAIM_INVALID', { issuer: spec.id, claim: path.join('.') });
}

function list(spec: IssuerSpec, payload: JwtClaims, path: Path | undefined): string[] {
  if (!path) return [];
  const v = stringList(claimAt(payload, path));
  if (v === null) throw new AuthError('JWT_CLAIM_INVALID', { issuer: spec.id, claim: path.join('.') });
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

/** A protected header as read: the object, and whether its bytes are valid UTF-8. */
interface Header {
  readonly header: Readonly<Record<string, unknown>>;
  readonly utf8: boolean;
}

/**
 * Headers read so far, by their segment: a handful of spellings (one per issuer, algorithm and kid) serve nearly every
 * token, and reading one is a base64url round trip, a UTF-8 check and a JSON.parse. Only headers that read as a JSON
 * object are kept, frozen; what a header says is checked afresh for every token. Bounded: cleared when full.
 */
const HEADERS = new Map<string, Header>();
const HEADERS_MAX = 256;
const HEADER_MAX_CHARS = 512;

function parsedHeader(seg: string): Header {
  const known = HEADERS.get(seg);
  if (known !== undefined) return known;
  const bytes = canonicalBytes(seg);
  const read: Header = { header: Object.freeze(jsonObject(bytes)), utf8: isUtf8(bytes) };
  if (seg.length <= HEADER_MAX_CHARS) {
    if (HEADERS.size >= HEADERS_MAX) HEADERS.clear();
    HEADERS.set(seg, read);
  }
  return read;
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

/**
 * A bounded map of verified tokens with CLOCK (second-chance) eviction: a hit only sets a bit; an insert into a full
 * cache advances a hand round a ring of slots, clearing set bits, and takes the first slot whose bit was clear.
 *
 * Not a Map used as a queue (delete the first key, append the new one): V8 leaves deleted entries in place until the
 * table is rebuilt, and `keys().next()` walks over all of them from the front, so with 10,000 entries each eviction
 * costs about 15 us, and more as the cache grows (measured on Node 20). The ring keeps eviction O(1).
 */
class TokenCache {
  private readonly map = new Map<string, Slot>();
  private readonly ring: (Slot | undefined)[] = [];
  private hand = 0;

  constructor(private readonly maxEntries: number) {}

  get size(): number {
    return this.map.size;
  }

  get(key: string): Verified | undefined {
    const slot = this.map.get(key);
    if (slot === undefined) return undefined;
    slot.value.used = true;
    return slot.value;
  }

  set(key: string, value: Verified): void {
    const existing = this.map.get(key);
    if (existing !== undefined) {
      existing.value = value;
      return;
    }
    let index: number;
    if (this.ring.length < this.maxEntries) {
      index = this.ring.length;
      this.ring.push(undefined);
    } else {
      // At most two turns: the first clears every bit it passes.
      for (;;) {
        const slot = this.ring[this.hand];
        if (slot === undefined || !slot.value.used) break;
        slot.value.used = false;
        this.hand = (this.hand + 1) % this.maxEntries;
      }
      index = this.hand;
      this.hand = (this.hand + 1) % this.maxEntries;
      const evicted = this.ring[index];
      if (evicted !== undefined) this.map.delete(evicted.key);
    }
    const slot: Slot = { key, index, value };
    this.ring[index] = slot;
    this.map.set(key, slot);
  }

  delete(key: string): void {
    const slot = this.map.get(key);
    if (slot === undefined) return;
    this.map.delete(key);
    this.ring[slot.index] = undefined;
  }
}

interface Slot {
  readonly key: string;
  readonly index: number;
  value: Verified;
}
