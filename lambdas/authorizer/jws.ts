import { type KeyObject, constants, createHmac, createPublicKey, createSecretKey, timingSafeEqual, verify } from 'node:crypto';

/*
 * JWS signatures on node:crypto, with keys imported once into KeyObjects. jose (through WebCrypto) was the verifier
 * before; it stays the reference in the tests (test/lambdas/authorizer/jws-differential.test.ts), and every rule
 * below that decides which key may verify what is jose 6's own rule, restated:
 *
 * - an algorithm names one key type (and curve): RS256/PS256 an RSA key of at least 2048 bits, ES256 a P-256 key,
 *   ES384 a P-384 key, EdDSA an Ed25519 key, HS256 a secret, and a secret never comes from a JWKS;
 * - a JWK of a key set is a candidate only if its `kty`/`crv` fit the algorithm, its `kid` equals the token's (when
 *   the token names one), its `alg` (if any) is the token's, its `use` (if any) is `sig`, its `key_ops` (if any) is
 *   an array of distinct strings that includes `verify`, and its `ext` (if any) is a boolean; exactly one candidate
 *   may remain;
 * - the candidate must then import as a public key for verification only: no private members, and `key_ops`
 *   (WebCrypto's usages on import) nothing but `verify`.
 */

/** The JWS algorithms the authorizer can be configured with (config.ts `JWT_ALGORITHMS`). */
export type SignatureAlgorithm = 'HS256' | 'RS256' | 'PS256' | 'ES256' | 'ES384' | 'EdDSA';

interface AlgorithmSpec {
  /** The JWK key type that may verify it. */
  readonly kty: 'oct' | 'RSA' | 'EC' | 'OKP';
  /** The JWK curve, where the key type has several. */
  readonly crv?: string;
  /** node:crypto's view of the same key: `asymmetricKeyType` and, for EC, the OpenSSL curve name. */
  readonly keyType?: 'rsa' | 'ec' | 'ed25519';
  readonly namedCurve?: string;
  readonly minRsaBits?: number;
}

const ALGORITHMS: Readonly<Record<string, AlgorithmSpec>> = Object.assign(Object.create(null) as Record<string, AlgorithmSpec>, {
  HS256: { kty: 'oct' },
  RS256: { kty: 'RSA', keyType: 'rsa', minRsaBits: 2048 },
  PS256: { kty: 'RSA', keyType: 'rsa', minRsaBits: 2048 },
  ES256: { kty: 'EC', crv: 'P-256', keyType: 'ec', namedCurve: 'prime256v1' },
  ES384: { kty: 'EC', crv: 'P-384', keyType: 'ec', namedCurve: 'secp384r1' },
  EdDSA: { kty: 'OKP', crv: 'Ed25519', keyType: 'ed25519' },
} satisfies Record<SignatureAlgorithm, AlgorithmSpec>);

export function isSignatureAlgorithm(alg: unknown): alg is SignatureAlgorithm {
  return typeof alg === 'string' && ALGORITHMS[alg] !== undefined;
}

/**
 * A key that verifies one algorithm. Its identity is what a cache of verified tokens compares: the same object for
 * as long as the same key material under the same JWK stands (across JWKS refetches), a new one when anything changes.
 */
export interface VerificationKey {
  readonly alg: SignatureAlgorithm;
  readonly key: KeyObject;
}

/** The key for an HS256 secret (a KeyObject: createHmac with it is as fast as with the bytes, and it cannot leak into a log as text). */
export function hmacKey(secret: Uint8Array): VerificationKey {
  return Object.freeze({ alg: 'HS256' as const, key: createSecretKey(secret) });
}

/**
 * Whether `signature` is `alg`'s signature of `input` (`<header>.<payload>`: its ASCII bytes, or the text,
 * read as Latin-1, which for ASCII is the same bytes) under `key`.
 * Never throws: a signature node:crypto cannot even parse is simply not valid, as it is for WebCrypto.
 */
export function verifySignature(alg: SignatureAlgorithm, key: KeyObject, input: Buffer | string, signature: Buffer): boolean {
  try {
    if (alg === 'HS256') {
      // Equal lengths first: timingSafeEqual throws on a mismatch, and the length of a MAC is no secret.
      if (signature.length !== 32) return false;
      const mac = createHmac('sha256', key);
      return timingSafeEqual((typeof input === 'string' ? mac.update(input, 'latin1') : mac.update(input)).digest(), signature);
    }
    const signingInput = typeof input === 'string' ? Buffer.from(input, 'latin1') : input;
    switch (alg) {
      case 'RS256':
        return verify('sha256', signingInput, key, signature);
      case 'PS256':
        return verify('sha256', signingInput, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, signature);
      case 'ES256':
        // JWS wants raw r||s of exactly twice the field size (RFC 7518 3.4): never DER, never a short form.
        return signature.length === 64 && verify('sha256', signingInput, { key, dsaEncoding: 'ieee-p1363' }, signature);
      case 'ES384':
        return signature.length === 96 && verify('sha384', signingInput, { key, dsaEncoding: 'ieee-p1363' }, signature);
      case 'EdDSA':
        return verify(null, signingInput, key, signature);
      default:
        return false;
    }
  } catch {
    return false;
  }
}

/** Why a key set could not hand out a key. The codes are jose's where jose has one (jwt.ts maps them to reasons). */
export type KeySetErrorCode =
  /** No JWK of the set may verify this algorithm and kid (401, and a refetch for a remote set). */
  | 'ERR_JWKS_NO_MATCHING_KEY'
  /** More than one may (401: which one the issuer meant is unknown). */
  | 'ERR_JWKS_MULTIPLE_MATCHING_KEYS'
  /** The document is not a key set, or a member holds private key material (500). */
  | 'ERR_JWKS_INVALID'
  /** The one matching JWK cannot be used: it does not import, its RSA modulus is under 2048 bits, its key_ops allow more than verify (500). */
  | 'ERR_JWK_UNUSABLE'
  /** The JWKS endpoint did not answer in time (500). */
  | 'ERR_JWKS_TIMEOUT'
  /** The JWKS endpoint could not be read: network, HTTP status, body (500). */
  | 'ERR_JOSE_GENERIC'
  /** The algorithm is none a key set serves (not reachable past the issuer's algorithm pinning). */
  | 'ERR_JOSE_NOT_SUPPORTED';

export class KeySetError extends Error {
  readonly code: KeySetErrorCode;
  constructor(code: KeySetErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'KeySetError';
    this.code = code;
  }
}

/** A JSON Web Key as a JWKS serves it: any members, checked where used. */
export type Jwk = Readonly<Record<string, unknown>>;

/** A JWKS document. */
export interface JwkSetDocument {
  readonly keys: readonly Jwk[];
}

/** One JWK of a set: its members, and its imports per algorithm (made on first use, then kept). */
class JwkEntry {
  private readonly imported = new Map<string, VerificationKey | KeySetError>();
  private material: KeyObject | KeySetError | undefined;

  constructor(
    readonly jwk: Jwk,
    /** Every member of the JWK, canonically serialized: a key rotated under the same kid is a different entry. */
    readonly identity: string,
  ) {}

  /** The key for `alg` (whose key type and curve the caller has matched), or why there is none. */
  key(alg: SignatureAlgorithm): VerificationKey | KeySetError {
    let k = this.imported.get(alg);
    if (k === undefined) {
      k = this.importFor(alg);
      this.imported.set(alg, k);
    }
    return k;
  }

  private importFor(alg: SignatureAlgorithm): VerificationKey | KeySetError {
    const jwk = this.jwk;
    const spec = ALGORITHMS[alg]!;
    // jose imports a JWK with `d` (or `priv`) as a private key and then refuses it: a key set holds public keys only.
    if (jwk.d || jwk.priv) return new KeySetError('ERR_JWKS_INVALID', 'JSON Web Key Set members must be public keys');
    // jose hands `key_ops` to WebCrypto as the key's usages, and a public key's only usage is verify.
    const ops = jwk.key_ops;
    if (ops !== undefined && !(Array.isArray(ops) && ops.length === 1 && ops[0] === 'verify')) {
      return new KeySetError('ERR_JWK_UNUSABLE', 'a public key may be used to verify only');
    }
    if (this.material === undefined) {
      try {
        this.material = createPublicKey({ key: jwk as never, format: 'jwk' });
      } catch (cause) {
        this.material = new KeySetError('ERR_JWK_UNUSABLE', 'the JWK does not import', { cause });
      }
    }
    const key = this.material;
    if (key instanceof KeySetError) return key;
    // Belt and braces: the candidate filter matched kty and crv already, and node:crypto must agree.
    const details = key.asymmetricKeyDetails ?? {};
    if (key.type !== 'public' || key.asymmetricKeyType !== spec.keyType || (spec.namedCurve !== undefined && details.namedCurve !== spec.namedCurve)) {
      return new KeySetError('ERR_JWK_UNUSABLE', `the JWK is not a key for ${alg}`);
    }
    if (spec.minRsaBits !== undefined && !((details.modulusLength ?? 0) >= spec.minRsaBits)) {
      return new KeySetError('ERR_JWK_UNUSABLE', `${alg} requires a modulus of ${spec.minRsaBits} bits or more`);
    }
    return Object.freeze({ alg, key });
  }
}

/** jose's isObject: a plain object (what JSON.parse makes of `{...}`), not an array, not null. */
function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Object.prototype.toString.call(v) !== '[object Object]') return false;
  const proto = Object.getPrototypeOf(v) as object | null;
  return proto === null || Object.getPrototypeOf(proto) === null;
}

function canonical(jwk: Jwk): string {
  return JSON.stringify(Object.keys(jwk).sort().map((k) => [k, jwk[k]]));
}

/**
 * A key set: picks the one JWK that may verify a token's algorithm and kid, as jose's `createLocalJWKSet` does, and
 * imports it once. Keys already imported by the set this one replaces are carried over (same identity), so a refetch
 * that returns the same keys keeps every cached verification valid, and only a changed key starts afresh.
 */
export class JwkSet {
  /** Successful lookups by algorithm and kid (failures are not kept: their kids are the caller's to choose). */
  private readonly resolved = new Map<string, VerificationKey>();

  private constructor(private readonly entries: readonly JwkEntry[]) {}

  /** Parses a JWKS document; throws ERR_JWKS_INVALID if it is not one (an object whose `keys` is an array of objects). */
  static parse(doc: unknown, previous?: JwkSet): JwkSet {
    if (!isPlainObject(doc) || !Array.isArray(doc.keys) || !doc.keys.every(isPlainObject)) {
      throw new KeySetError('ERR_JWKS_INVALID', 'JSON Web Key Set malformed');
    }
    const before = new Map<string, JwkEntry>();
    for (const e of previous?.entries ?? []) before.set(e.identity, e);
    // A private copy of each JWK: the set must not change under the caller's feet (jose takes a structuredClone).
    const entries = (doc.keys as Record<string, unknown>[]).map((raw) => {
      // Null-prototype, as jose's snapshot: members are read as own properties only.
      const jwk = Object.freeze(Object.assign(Object.create(null) as Record<string, unknown>, structuredClone(raw))) as Jwk;
      const identity = canonical(jwk);
      return before.get(identity) ?? new JwkEntry(jwk, identity);
    });
    return new JwkSet(entries);
  }

  /** The key for a token's `alg` and `kid` (the header values as given); throws a KeySetError if there is none. */
  resolve(alg: unknown, kid: unknown): VerificationKey {
    const memo = memoKey(alg, kid);
    if (memo !== undefined) {
      const hit = this.resolved.get(memo);
      if (hit !== undefined) return hit;
    }
    if (!isSignatureAlgorithm(alg) || alg === 'HS256') throw new KeySetError('ERR_JOSE_NOT_SUPPORTED', 'Unsupported "alg" value for a JSON Web Key Set');
    const candidates = this.entries.filter((e) => usable(e.jwk, alg, kid));
    if (candidates.length === 0) throw new KeySetError('ERR_JWKS_NO_MATCHING_KEY', 'no applicable key found in the JSON Web Key Set');
    if (candidates.length > 1) throw new KeySetError('ERR_JWKS_MULTIPLE_MATCHING_KEYS', 'multiple matching keys found in the JSON Web Key Set');
    const key = candidates[0]!.key(alg);
    if (key instanceof KeySetError) throw key;
    if (memo !== undefined) this.resolved.set(memo, key);
    return key;
  }

  /** What `resolve` returns, or undefined where it throws. */
  peek(alg: unknown, kid: unknown): VerificationKey | undefined {
    const memo = memoKey(alg, kid);
    const hit = memo === undefined ? undefined : this.resolved.get(memo);
    if (hit !== undefined) return hit;
    try {
      return this.resolve(alg, kid);
    } catch {
      return undefined;
    }
  }
}

function memoKey(alg: unknown, kid: unknown): string | undefined {
  if (typeof alg !== 'string') return undefined;
  if (kid === undefined) return alg;
  return typeof kid === 'string' ? `${alg}\u0000${kid}` : undefined;
}

/** jose 6's isUsableJWK, member for member. */
function usable(jwk: Jwk, alg: SignatureAlgorithm, kid: unknown): boolean {
  const spec = ALGORITHMS[alg]!;
  const { kty, key_ops: ops, ext, kid: jwkKid, alg: jwkAlg, use, crv } = jwk;
  return (
    (ext === undefined || typeof ext === 'boolean') &&
    (ops === undefined || (Array.isArray(ops) && ops.every((op, i) => typeof op === 'string' && ops.indexOf(op) === i) && ops.includes('verify'))) &&
    kty === spec.kty &&
    (kid === undefined || (typeof kid === 'string' && kid === jwkKid)) &&
    (jwkAlg === undefined || jwkAlg === alg) &&
    (use === undefined || use === 'sig') &&
    (spec.crv === undefined || crv === spec.crv)
  );
}
