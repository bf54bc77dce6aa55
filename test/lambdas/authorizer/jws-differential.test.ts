import fc from 'fast-check';
import { type KeyObject, constants, createHmac, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { type JWTVerifyGetKey, compactVerify, createLocalJWKSet, jwtVerify } from 'jose';
import { AuthError } from '../../../lambdas/authorizer/errors';
import type { IssuerSpec } from '../../../lambdas/authorizer/issuers';
import { JwtVerifier, remoteJwks } from '../../../lambdas/authorizer/jwt';
import { JwkSet, KeySetError, verifySignature } from '../../../lambdas/authorizer/jws';
import { JoseJwtVerifier, joseOptions, lifetimeRule, mapJoseError, staticJoseJwks } from './jose-reference';

/*
 * Differential tests: the node:crypto verifier (jwt.ts, jws.ts) against jose, which verified tokens before and stays
 * the reference. fast-check generates tokens for four issuers (HS256; a JWKS of many keys with awkward members; a
 * one-key JWKS with no kid; an RS256-only JWKS): random claim sets and headers, signed with the right key, another
 * key of the same type, a key of another algorithm, random bytes or DER, then mutated (flipped signature bits,
 * flipped characters, truncated, extra and missing segments, non-canonical base64url re-signed as sent, invalid
 * UTF-8 and BOMs signed as sent, duplicate members), checked at a random time around the claims.
 *
 * A. The verifier's full check against jose's `jwtVerify` with the same key, algorithm pinning and claim options:
 *    the same verdict, the same payload on accept, the same reason (jose's error mapped as jwt.ts mapped it) on
 *    refusal; where the verifier refuses on its own stricter front checks (one spelling of base64url, no
 *    key-carrying headers, no b64), the test confirms the token really has that property, whatever jose says.
 * B. The whole verifier, cache included, against the verifier as it was (jose-reference.ts, jose inside): the same
 *    principal or the same reason and detail, on first use, on repeated use, and later at another time.
 * C. Key selection and import from random JWK sets (kid, alg, use, key_ops, ext, crv, kty, private members, broken
 *    key material) against jose's createLocalJWKSet + compactVerify: the same verdict.
 */

const T0 = 1_750_000_000;
// JWS_DIFF_SCALE=10 for a longer hunt; the default keeps the file at a few seconds.
const SCALE = Number(process.env.JWS_DIFF_SCALE ?? 1);
const RUNS = { A: 1500 * SCALE, B: 1500 * SCALE, C: 600 * SCALE };
// JWS_DIFF_SEED=<seed> replays a reported failure.
const SEED = process.env.JWS_DIFF_SEED ? { seed: Number(process.env.JWS_DIFF_SEED) } : {};
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const b64u = (b: Buffer | string) => Buffer.from(b).toString('base64url');

// --- keys ----------------------------------------------------------------------------------------------------

interface Pair {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly jwk: Record<string, unknown>;
}
function pair(type: 'rsa' | 'ec' | 'ed25519' | 'ed448', opts: object = {}): Pair {
  const { privateKey, publicKey } = generateKeyPairSync(type as 'rsa', opts as never) as unknown as { privateKey: KeyObject; publicKey: KeyObject };
  return { privateKey, publicKey, jwk: publicKey.export({ format: 'jwk' }) as Record<string, unknown> };
}
const K = {
  rsaA: pair('rsa', { modulusLength: 2048 }),
  rsaB: pair('rsa', { modulusLength: 2048 }),
  rsaSmall: pair('rsa', { modulusLength: 1024 }),
  ecA: pair('ec', { namedCurve: 'P-256' }),
  ecB: pair('ec', { namedCurve: 'P-256' }),
  ec384: pair('ec', { namedCurve: 'P-384' }),
  ec384b: pair('ec', { namedCurve: 'P-384' }),
  ec521: pair('ec', { namedCurve: 'P-521' }),
  k1: pair('ec', { namedCurve: 'secp256k1' }),
  edA: pair('ed25519'),
  edB: pair('ed25519'),
  ed448: pair('ed448'),
};
const HS_SECRET = randomBytes(48);
const HS_OTHER = randomBytes(48);

const jwk = (p: Pair, members: Record<string, unknown>) => ({ ...p.jwk, ...members });

/** The many-key JWKS: every member that changes whether a key may verify, and the keys jose refuses to use. */
const MULTI_JWKS = [
  jwk(K.rsaA, { kid: 'rsa-a', alg: 'RS256', use: 'sig' }),
  jwk(K.rsaA, { kid: 'rsa-a-ps', alg: 'PS256' }),
  jwk(K.rsaB, { kid: 'rsa-b' }),
  jwk(K.ecA, { kid: 'ec-a', use: 'sig', ext: true }),
  jwk(K.ec384, { kid: 'ec-384', key_ops: ['verify'] }),
  jwk(K.edA, { kid: 'ed-a', alg: 'EdDSA' }),
  jwk(K.ed448, { kid: 'ed-448' }),
  jwk(K.ecB, { kid: 'ec-b-enc', use: 'enc' }),
  jwk(K.ecB, { kid: 'dup' }),
  jwk(K.edB, { kid: 'dup' }),
  jwk(K.ecA, { kid: 'dup2' }),
  jwk(K.ecB, { kid: 'dup2' }),
  jwk(K.rsaSmall, { kid: 'rsa-small' }),
  jwk(K.ec521, { kid: 'ec-521' }),
  jwk(K.ecB, { kid: 'ops-sign', key_ops: ['sign', 'verify'] }),
  jwk(K.ecB, { kid: 'ext-bad', ext: 'yes' }),
  jwk(K.edB, {}),
];
/** Which private key signs for a kid of the many-key JWKS (per algorithm where a kid names several keys). */
const SIGNER_FOR_KID: Record<string, Pair | ((alg: string) => Pair)> = {
  'rsa-a': K.rsaA,
  'rsa-a-ps': K.rsaA,
  'rsa-b': K.rsaB,
  'ec-a': K.ecA,
  'ec-384': K.ec384,
  'ed-a': K.edA,
  'ed-448': K.ed448,
  'ec-b-enc': K.ecB,
  dup: (alg) => (alg === 'EdDSA' ? K.edB : K.ecB),
  dup2: K.ecA,
  'rsa-small': K.rsaSmall,
  'ec-521': K.ec521,
  'ops-sign': K.ecB,
  'ext-bad': K.ecB,
};

function spec(id: string, issuer: string, rest: Partial<IssuerSpec>): IssuerSpec {
  return {
    id,
    issuer,
    algorithms: ['HS256'],
    keys: {},
    clockToleranceSeconds: 30,
    maxTokenAgeSeconds: 0,
    requiredClaims: ['sub', 'exp'],
    requiredClaimValues: {},
    claims: { subject: 'sub' },
    tenantRequired: false,
    secretCacheTtlSeconds: 300,
    jwksTimeoutMs: 1000,
    jwksCooldownSeconds: 30,
    jwksCacheMaxAgeSeconds: 600,
    revokedSessions: false,
    sessionCacheTtlSeconds: 60,
    ...rest,
  };
}

const ISSUERS = {
  hs: spec('hs', 'https://hs.example/auth/v1', {
    algorithms: ['HS256'],
    keys: { hs256SecretId: 'hs-secret' },
    audience: 'authenticated',
    maxTokenAgeSeconds: 86_400,
    requiredClaims: ['sub', 'role', 'exp'],
    requiredClaimValues: { role: 'authenticated' },
    claims: { subject: 'sub', tenant: 'app_metadata.tenant_id', roles: 'app_metadata.roles', email: 'email', session: 'session_id' },
    anonymous: { claim: 'is_anonymous', allow: false },
    tenantRequired: true,
  }),
  multi: spec('multi', 'https://multi.example/', {
    algorithms: ['RS256', 'PS256', 'ES256', 'ES384', 'EdDSA'],
    keys: { jwks: { keys: MULTI_JWKS } },
    audience: ['api-1', 'api-2'],
    clockToleranceSeconds: 5,
    claims: { subject: 'sub', tenant: 'org', scopes: 'scope', roles: 'roles', email: 'email', session: 'sid' },
  }),
  single: spec('single', 'https://single.example', {
    algorithms: ['ES256'],
    keys: { jwks: { keys: [K.ecA.jwk] } },
    clockToleranceSeconds: 0,
    maxTokenAgeSeconds: 600,
    requiredClaims: ['sub'],
  }),
  rs: spec('rs', 'https://rs.example/', {
    algorithms: ['RS256'],
    keys: { jwks: { keys: [jwk(K.rsaA, { kid: 'rsa-a' })] } },
    audience: 'api',
    requiredClaims: ['sub', 'exp', 'jti'],
    claims: { subject: 'sub', scopes: 'scope' },
  }),
} as const;
type Target = keyof typeof ISSUERS;
const SPECS = Object.values(ISSUERS);
const SECRETS: Record<string, Buffer> = { 'hs-secret': HS_SECRET };

const secrets = { get: async (id: string) => ({ current: SECRETS[id], loadedAt: 0 }) };
let nowMs = T0 * 1000;
const deps = { jwks: remoteJwks, secrets, now: () => nowMs, maxStaleSeconds: 3600 };
const joseKeys = new Map<string, JWTVerifyGetKey>(SPECS.filter((s) => s.keys.jwks).map((s) => [s.id, staticJoseJwks(s)]));

// --- token plans -----------------------------------------------------------------------------------------------

const ABSENT = Symbol('absent');
const opt = <T>(arb: fc.Arbitrary<T>, absentWeight = 1) => fc.oneof({ weight: 6, arbitrary: arb }, { weight: absentWeight, arbitrary: fc.constant(ABSENT) });

const offset = fc.oneof(fc.integer({ min: -45, max: 45 }), fc.integer({ min: -200_000, max: 200_000 }));
// The edges of every window: tolerance 0, 5 and 30 s around a clock that often reads T0 itself, and the age caps.
const EDGES = [-31, -30, -29, -6, -5, -4, -1, 0, 1, 4, 5, 6, 29, 30, 31, -86_431, -86_430, -86_429, -601, -600, -599];
const timeClaim = fc.oneof(
  { weight: 6, arbitrary: offset.map((d) => T0 + d) },
  { weight: 3, arbitrary: fc.constantFrom(...EDGES).map((d) => T0 + d) },
  { weight: 1, arbitrary: fc.constantFrom<unknown>(String(T0), null, true, [T0], 1e20, -1, 0, T0 + 0.5, 'NaN') },
);
const identifierish = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('user-1', 'u_2', 'a.b@c', 'acme', 'x'.repeat(256)) },
  { weight: 1, arbitrary: fc.constantFrom<unknown>('', 'a b', 'x'.repeat(257), 42, null, ['user-1'], { id: 1 }) },
);
const ISS_CHOICES = [...SPECS.map((s) => s.issuer), 'https://evil.example/', 42, null];

/** Values a valid token of each issuer may carry (one per member); the perturbed mode mixes in everything else. */
const VALID = {
  hs: { aud: ['authenticated', ['x', 'authenticated']], role: ['authenticated'] },
  multi: { aud: ['api-1', ['api-2'], ['api-3', 'api-1']], role: ['authenticated', 'anon'] },
  single: { aud: ['anything', ['a']], role: ['x'] },
  rs: { aud: ['api', ['api']], role: ['x'] },
} as const;

function claimsFor(target: Target, perturbed: boolean): fc.Arbitrary<Record<string, unknown>> {
  const own = ISSUERS[target].issuer;
  const valid = VALID[target];
  const aud = {
    hs: fc.constantFrom<unknown>('authenticated', ['x', 'authenticated'], 'other', [], 42, ['authenticated ']),
    multi: fc.constantFrom<unknown>('api-1', ['api-2'], ['api-3', 'api-1'], 'api-3', null),
    single: fc.constantFrom<unknown>('anything', ['a']),
    rs: fc.constantFrom<unknown>('api', ['api'], 'API'),
  }[target];
  // Valid mode: every member well-formed and inside its time window at the check (the clock moves +-120 s).
  if (!perturbed) {
    return fc
      .record({
        sub: fc.constantFrom('user-1', 'u_2', 'a.b@c', 'x'.repeat(256)),
        aud: fc.constantFrom<unknown>(...valid.aud),
        exp: fc.oneof({ weight: 8, arbitrary: fc.integer({ min: 200, max: 100_000 }) }, { weight: 1, arbitrary: fc.constantFrom(...EDGES) }).map((d) => T0 + d),
        nbf: opt(fc.oneof({ weight: 8, arbitrary: fc.integer({ min: -5000, max: 0 }) }, { weight: 1, arbitrary: fc.constantFrom(...EDGES) }).map((d) => T0 + d), 2),
        iat: fc.oneof({ weight: 8, arbitrary: fc.integer({ min: -400, max: -130 }) }, { weight: 2, arbitrary: fc.constantFrom(...EDGES) }).map((d) => T0 + d),
        jti: fc.constant('j-1'),
        role: fc.constantFrom<unknown>(...valid.role),
        is_anonymous: opt(fc.constant(false), 2),
        app_metadata: fc.record({ tenant_id: fc.constantFrom('acme', 'globex'), roles: fc.constantFrom<unknown>(['member'], 'admin owner') }),
        org: opt(fc.constantFrom('acme', 'globex')),
        scope: opt(fc.constantFrom<unknown>('a:read b:write', ['c:*'], '')),
        email: opt(fc.constantFrom<unknown>('ada@example.com', 'not an email')),
        session_id: opt(fc.constant('sess-1')),
        sid: opt(fc.constant('sid-1')),
        extra: fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 2 }),
      })
      .map(({ extra, ...c }) => ({ ...extra, iss: own, ...Object.fromEntries(Object.entries(c).filter(([, v]) => v !== ABSENT)) }));
  }
  return fc
    .record({
      iss: fc.oneof({ weight: 12, arbitrary: fc.constant<unknown>(own) }, { weight: 1, arbitrary: fc.constantFrom<unknown>(...ISS_CHOICES) }),
      sub: opt(identifierish),
      aud: opt(aud),
      exp: opt(timeClaim),
      nbf: opt(timeClaim, 4),
      iat: opt(timeClaim),
      jti: opt(fc.constantFrom<unknown>('j-1', 7)),
      role: opt(fc.constantFrom<unknown>('authenticated', 'authenticated', 'anon', 'service_role', ['authenticated'])),
      is_anonymous: opt(fc.constantFrom<unknown>(false, true, 'true'), 3),
      app_metadata: opt(fc.record({ tenant_id: opt(identifierish), roles: opt(fc.constantFrom<unknown>(['member'], 'admin owner', [1], 'x'.repeat(200))) })),
      org: opt(identifierish),
      scope: opt(fc.constantFrom<unknown>('a:read b:write', ['c:*'], 42, '')),
      roles: opt(fc.constantFrom<unknown>(['r1'], 'r2', {})),
      email: opt(fc.constantFrom<unknown>('ada@example.com', 'not an email', 7)),
      session_id: opt(fc.constantFrom<unknown>('sess-1', 5)),
      sid: opt(fc.constantFrom<unknown>('sid-1', '')),
      extra: fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
    })
    .map(({ extra, ...c }) => ({ ...extra, ...Object.fromEntries(Object.entries(c).filter(([, v]) => v !== ABSENT).map(([k, v]) => [k, stripAbsent(v)])) }));
}
function stripAbsent(v: unknown): unknown {
  if (v && typeof v === 'object' && !Array.isArray(v)) return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== ABSENT));
  return v;
}

const KIDS: Record<Target, readonly unknown[]> = {
  hs: ['hs-1'],
  multi: [...Object.keys(SIGNER_FOR_KID), 'rsa-a', 'ec-a', 'ed-a', 'rsa-b'],
  single: ['whatever'],
  rs: ['rsa-a', 'rsa-b'],
};
const ALL_ALGS = ['HS256', 'RS256', 'PS256', 'ES256', 'ES384', 'EdDSA'];

/** Kids under which the many-key JWKS holds exactly one usable key for an algorithm. */
const GOOD_KIDS: Record<string, readonly string[]> = { RS256: ['rsa-a', 'rsa-b'], PS256: ['rsa-a-ps', 'rsa-b'], ES256: ['ec-a', 'dup'], ES384: ['ec-384'], EdDSA: ['ed-a', 'dup'] };

function headerFor(target: Target, perturbed: boolean): fc.Arbitrary<Record<string, unknown>> {
  const algs = ISSUERS[target].algorithms as readonly string[];
  if (!perturbed) {
    return fc.constantFrom(...algs).chain((alg) =>
      fc
        .record({
          alg: fc.constant(alg),
          kid: target === 'multi' ? fc.constantFrom(...GOOD_KIDS[alg]!) : target === 'rs' ? fc.constant('rsa-a') : target === 'hs' ? opt(fc.constant('k'), 3) : fc.constant(ABSENT),
          typ: opt(fc.constantFrom('JWT', 'at+jwt'), 2),
          extra: fc.oneof({ weight: 10, arbitrary: fc.constant({}) }, { weight: 1, arbitrary: fc.dictionary(fc.string({ maxLength: 5 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 2 }) }),
        })
        .map(({ extra, ...h }) => ({ ...extra, ...Object.fromEntries(Object.entries(h).filter(([, v]) => v !== ABSENT)) })),
    );
  }
  return fc
    .record({
      alg: fc.oneof(
        { weight: 12, arbitrary: fc.constantFrom(...algs) },
        { weight: 2, arbitrary: fc.constantFrom(...ALL_ALGS) },
        { weight: 1, arbitrary: fc.constantFrom<unknown>('none', 'HS384', 'RS512', 'ES512', 'Ed25519', 42, null) },
      ),
      kid: target === 'hs' || target === 'single' ? opt(fc.constantFrom(...KIDS[target]), 8) : opt(fc.oneof({ weight: 8, arbitrary: fc.constantFrom(...KIDS[target]) }, { weight: 1, arbitrary: fc.constantFrom<unknown>('nope', 42, null, '') }), 1),
      typ: opt(fc.constantFrom('JWT', 'at+jwt'), 2),
      extra: fc.oneof(
        { weight: 14, arbitrary: fc.constant({}) },
        {
          weight: 3,
          arbitrary: fc.constantFrom<Record<string, unknown>>(
            { crit: ['b64'] },
            { crit: ['exp'], exp: 1 },
            { crit: [] },
            { crit: 'b64' },
            { b64: false, crit: ['b64'] },
            { b64: true },
            { jku: 'https://evil.example/jwks' },
            { jwk: {} },
            { x5c: [] },
            { x5u: null },
            { cty: 'JWT' },
            { JKU: 'x' },
          ),
        },
        { weight: 1, arbitrary: fc.dictionary(fc.string({ maxLength: 5 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 2 }) },
      ),
    })
    .map(({ extra, ...h }) => ({ ...extra, ...Object.fromEntries(Object.entries(h).filter(([, v]) => v !== ABSENT)) }));
}

type SignerKind = 'right' | 'other' | 'swap' | 'random' | 'der' | 'publicAsSecret' | 'pssSalt';
type Mutation =
  | { readonly kind: 'none' }
  | { readonly kind: 'flipSig'; readonly at: number }
  | { readonly kind: 'flipChar'; readonly seg: 0 | 1; readonly at: number }
  | { readonly kind: 'truncate'; readonly seg: 0 | 1 | 2; readonly n: number }
  | { readonly kind: 'extraSegment' | 'dropSegment' | 'emptySig' }
  | { readonly kind: 'unusedBits' | 'padding' | 'stdAlphabet' | 'whitespace'; readonly seg: 0 | 1 | 2 }
  | { readonly kind: 'badUtf8' | 'bom'; readonly seg: 0 | 1 }
  | { readonly kind: 'raw'; readonly member: string };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 20, arbitrary: fc.constant({ kind: 'none' as const }) },
  { weight: 2, arbitrary: fc.nat().map((at) => ({ kind: 'flipSig' as const, at })) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('flipChar' as const), seg: fc.constantFrom(0 as const, 1 as const), at: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('truncate' as const), seg: fc.constantFrom(0 as const, 1 as const, 2 as const), n: fc.integer({ min: 1, max: 5 }) }) },
  { weight: 1, arbitrary: fc.constantFrom({ kind: 'extraSegment' as const }, { kind: 'dropSegment' as const }, { kind: 'emptySig' as const }) },
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constantFrom('unusedBits' as const, 'padding' as const, 'stdAlphabet' as const, 'whitespace' as const), seg: fc.constantFrom(0 as const, 1 as const, 2 as const) }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constantFrom('badUtf8' as const, 'bom' as const), seg: fc.constantFrom(0 as const, 1 as const) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('raw' as const),
      member: fc.constantFrom(
        '"iss":"https://multi.example/"',
        '"iss":"https://hs.example/auth/v1"',
        '"role":"service_role"',
        '"__proto__":{"role":"authenticated","sub":"x"}',
        '"exp":1e400',
        '"iat":1e400',
        '"aud":"authenticated","aud":"other"',
        '"note":"\\ud800"',
      ),
    }),
  },
);

interface Plan {
  readonly target: Target;
  readonly header: Record<string, unknown>;
  readonly claims: Record<string, unknown>;
  readonly signer: SignerKind;
  readonly mutation: Mutation;
  readonly nowMs: number;
  readonly laterMs: number;
}

const plan: fc.Arbitrary<Plan> = fc.tuple(fc.constantFrom<Target>('hs', 'multi', 'multi', 'single', 'rs'), fc.boolean()).chain(([target, perturbed]) =>
  fc.record({
    target: fc.constant(target),
    header: headerFor(target, perturbed),
    claims: claimsFor(target, perturbed),
    signer: fc.oneof(
      { weight: 12, arbitrary: fc.constant<SignerKind>('right') },
      { weight: 1, arbitrary: fc.constantFrom<SignerKind>('other', 'swap', 'random', 'der', 'publicAsSecret', 'pssSalt') },
    ),
    mutation: perturbed ? mutation : fc.oneof({ weight: 3, arbitrary: fc.constant<Mutation>({ kind: 'none' }) }, { weight: 1, arbitrary: mutation }),
    nowMs: fc.oneof(fc.integer({ min: 0, max: 999 }), fc.integer({ min: -120_000, max: 120_000 })).map((d) => T0 * 1000 + d),
    laterMs: fc.oneof(fc.integer({ min: -60_000, max: 60_000 }), fc.integer({ min: 0, max: 200_000_000 })),
  }),
);

// --- signing and mutating ---------------------------------------------------------------------------------------

const DEFAULT_FOR_ALG: Record<string, Pair | Buffer> = { HS256: HS_SECRET, RS256: K.rsaA, PS256: K.rsaA, ES256: K.ecA, ES384: K.ec384, EdDSA: K.edA };
const OTHER_FOR_ALG: Record<string, Pair | Buffer> = { HS256: HS_OTHER, RS256: K.rsaB, PS256: K.rsaB, ES256: K.ecB, ES384: K.ec384b, EdDSA: K.edB };
const SWAP: Record<string, [string, Pair | Buffer]> = {
  HS256: ['RS256', K.rsaA],
  RS256: ['PS256', K.rsaA],
  PS256: ['RS256', K.rsaA],
  ES256: ['ES384', K.ec384],
  ES384: ['ES256', K.ecA],
  EdDSA: ['ES256', K.ecA],
};

function rawSign(alg: string, key: Pair | Buffer, input: Buffer, der = false): Buffer {
  try {
    if (Buffer.isBuffer(key)) return createHmac('sha256', key).update(input).digest();
    const k = key.privateKey;
    switch (alg) {
      case 'HS256':
        return createHmac('sha256', k.export({ format: 'der', type: 'pkcs8' })).update(input).digest();
      case 'RS256':
        return sign('sha256', input, k);
      case 'PS256':
        return sign('sha256', input, { key: k, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 });
      case 'ES256':
        return sign('sha256', input, { key: k, dsaEncoding: der ? 'der' : 'ieee-p1363' });
      case 'ES384':
        return sign('sha384', input, { key: k, dsaEncoding: der ? 'der' : 'ieee-p1363' });
      case 'EdDSA':
        return sign(null, input, k);
      default:
        return randomBytes(64);
    }
  } catch {
    return randomBytes(64);
  }
}

function signerKey(p: Plan): { alg: string; key: Pair | Buffer } {
  const alg = typeof p.header.alg === 'string' && ALL_ALGS.includes(p.header.alg) ? p.header.alg : 'HS256';
  const kid = p.header.kid;
  let key: Pair | Buffer = DEFAULT_FOR_ALG[alg]!;
  if (p.target === 'multi' && typeof kid === 'string' && SIGNER_FOR_KID[kid]) {
    const s = SIGNER_FOR_KID[kid]!;
    key = typeof s === 'function' ? s(alg) : s;
  }
  if (alg === 'HS256' && p.target !== 'hs') key = HS_OTHER;
  return { alg, key };
}

function signature(p: Plan, input: Buffer): Buffer {
  const { alg, key } = signerKey(p);
  switch (p.signer) {
    case 'right':
      return rawSign(alg, key, input);
    case 'other':
      return rawSign(alg, OTHER_FOR_ALG[alg]!, input);
    case 'swap': {
      const [other, k] = SWAP[alg]!;
      return rawSign(other, k, input);
    }
    case 'random':
      return randomBytes([32, 64, 96, 256][input.length % 4]!);
    case 'der':
      return rawSign(alg, key, input, true);
    case 'pssSalt':
      // RSA-PSS with a salt other than the hash length, which PS256 (RFC 7518 3.5) fixes at 32 bytes.
      if (alg !== 'PS256' || Buffer.isBuffer(key) || key.privateKey.asymmetricKeyType !== 'rsa') return rawSign(alg, key, input);
      return sign('sha256', input, { key: key.privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: input.length % 2 ? 0 : 64 });
    case 'publicAsSecret':
      return createHmac('sha256', (Buffer.isBuffer(key) ? K.ecA : key).publicKey.export({ type: 'spki', format: 'pem' })).update(input).digest();
  }
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

function withUnusedBitsSet(seg: string): string {
  if (seg.length % 4 === 0 || seg.length === 0) return seg;
  return seg.slice(0, -1) + ALPHABET[ALPHABET.indexOf(seg.at(-1)!) ^ 1];
}

function payloadText(p: Plan): Buffer {
  let text = JSON.stringify(p.claims);
  if (p.mutation.kind === 'raw') text = `${text.slice(0, -1)}${text.length > 2 ? ',' : ''}${p.mutation.member}}`;
  return Buffer.from(text);
}

function corrupt(bytes: Buffer, kind: 'badUtf8' | 'bom'): Buffer {
  if (kind === 'bom') return Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), bytes]);
  // An invalid byte inside a string member, so the lenient reading still parses.
  const text = bytes.toString();
  return Buffer.concat([Buffer.from(`${text.slice(0, -1)}${text.length > 2 ? ',' : ''}"bad":"`), Buffer.from([0xff, 0xc0, 0xaf]), Buffer.from('"}')]);
}

/** The token a plan describes, built as an attacker would: raw bytes, signed exactly as sent. */
function tokenOf(p: Plan): string {
  const m = p.mutation;
  let headerBytes: Buffer = Buffer.from(JSON.stringify(p.header));
  let payloadBytes: Buffer = payloadText(p);
  if ((m.kind === 'badUtf8' || m.kind === 'bom') && m.seg === 0) headerBytes = corrupt(headerBytes, m.kind);
  if ((m.kind === 'badUtf8' || m.kind === 'bom') && m.seg === 1) payloadBytes = corrupt(payloadBytes, m.kind);
  const segs = [b64u(headerBytes), b64u(payloadBytes)];
  // Respellings of the signed segments are signed as sent: only the spelling is wrong.
  if ('seg' in m && m.seg < 2) {
    const i = m.seg;
    if (m.kind === 'unusedBits') segs[i] = withUnusedBitsSet(segs[i]!);
    if (m.kind === 'padding') segs[i] = `${segs[i]}=`;
    if (m.kind === 'stdAlphabet') segs[i] = segs[i]!.replace(/-/g, '+').replace(/_/g, '/');
    if (m.kind === 'whitespace') segs[i] = `${segs[i]!.slice(0, 3)} ${segs[i]!.slice(3)}`;
  }
  let sig = b64u(signature(p, Buffer.from(`${segs[0]}.${segs[1]}`)));
  if (m.kind === 'flipSig') {
    const raw = Buffer.from(sig, 'base64url');
    if (raw.length) raw[m.at % raw.length]! ^= 1 << m.at % 8;
    sig = b64u(raw);
  }
  if (m.kind === 'flipChar') {
    const s = segs[m.seg]!;
    const i = m.at % s.length;
    segs[m.seg] = s.slice(0, i) + ALPHABET[(ALPHABET.indexOf(s[i]!) + 1) % 64] + s.slice(i + 1);
  }
  if (m.kind === 'emptySig') sig = '';
  const parts = [segs[0]!, segs[1]!, sig];
  if ('seg' in m && m.seg === 2) {
    if (m.kind === 'unusedBits') parts[2] = withUnusedBitsSet(sig);
    if (m.kind === 'padding') parts[2] = `${sig}=`;
    if (m.kind === 'stdAlphabet') parts[2] = sig.replace(/-/g, '+').replace(/_/g, '/');
    if (m.kind === 'whitespace') parts[2] = `${sig.slice(0, 3)} ${sig.slice(3)}`;
  }
  if (m.kind === 'truncate') parts[m.seg] = parts[m.seg]!.slice(0, Math.max(0, parts[m.seg]!.length - m.n));
  if (m.kind === 'extraSegment') parts.push(parts[2]!);
  if (m.kind === 'dropSegment') parts.splice(1, 1);
  return parts.join('.');
}

// --- verdicts --------------------------------------------------------------------------------------------------

type Verdict = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly code: string; readonly detail?: unknown; readonly causeCode?: unknown };

async function settle(run: () => Promise<unknown>): Promise<Verdict> {
  try {
    return { ok: true, value: await run() };
  } catch (err) {
    if (!(err instanceof AuthError)) throw err; // anything else is a bug in the verifier, never a verdict
    return { ok: false, code: err.code, detail: err.detail, causeCode: (err.cause as { code?: unknown } | undefined)?.code };
  }
}

/** jose's own verdict, with its error mapped as jwt.ts mapped it, for the issuer the token's `iss` selects (else `fallback`). */
async function joseVerdict(token: string, s: IssuerSpec, at: number): Promise<Verdict> {
  try {
    const key = s.keys.hs256SecretId ? SECRETS[s.keys.hs256SecretId]! : joseKeys.get(s.id)!;
    const { payload } = await jwtVerify(token, key as never, { ...joseOptions(s, at), algorithms: [...s.algorithms] });
    lifetimeRule(s, payload);
    return { ok: true, value: payload };
  } catch (err) {
    const e = mapJoseError(err, s);
    return { ok: false, code: e.code, detail: e.detail };
  }
}

function lenientJson(seg: string | undefined): unknown {
  try {
    return JSON.parse(Buffer.from(seg ?? '', 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
}
const canonical = (seg: string) => Buffer.from(seg, 'base64url').toString('base64url') === seg;
const own = (o: unknown, k: string) => typeof o === 'object' && o !== null && Object.prototype.hasOwnProperty.call(o, k);

/** The issuer the verifier selects for a token (by exact `iss` of the leniently read payload), if any. */
function selected(token: string): IssuerSpec | undefined {
  const iss = (lenientJson(token.split('.')[1]) as { iss?: unknown } | undefined)?.iss;
  return SPECS.find((s) => s.issuer === iss);
}

/**
 * Where the verifier refused a token on a check of its own that jose does not make (or makes leniently), the token
 * must really fail that check. Returns whether jose must refuse it as well.
 */
function confirmFrontRefusal(token: string, v: Extract<Verdict, { ok: false }>): 'jose-free' | 'jose-refuses' {
  const parts = token.split('.');
  const detail = (v.detail ?? {}) as Record<string, unknown>;
  const header = lenientJson(parts[0]);
  switch (v.code) {
    case 'JWT_HEADER_FORBIDDEN':
      expect(own(header, String(detail.header))).toBe(true);
      return 'jose-free';
    case 'JWT_ISSUER_UNKNOWN':
      expect(selected(token)).toBeUndefined();
      return 'jose-refuses';
    case 'JWT_ALG_NOT_ALLOWED':
      expect((selected(token)!.algorithms as readonly unknown[]).includes((header as { alg?: unknown }).alg)).toBe(false);
      return 'jose-refuses';
    case 'JWT_MALFORMED':
      switch (detail.part) {
        case 'segments':
          expect(parts.length).not.toBe(3);
          return 'jose-refuses';
        case 'encoding':
          expect(canonical(parts[0]!) && canonical(parts[1]!)).toBe(false);
          return 'jose-free';
        case 'signature':
          expect(canonical(parts[2]!)).toBe(false);
          return 'jose-free';
        case 'json': {
          expect([lenientJson(parts[0]), lenientJson(parts[1])].every((x) => typeof x === 'object' && x !== null && !Array.isArray(x))).toBe(false);
          // jose's UTF-8 decoder drops a leading byte-order mark, then reads the JSON; the verifier refuses the BOM.
          const bom = parts.slice(0, 2).some((seg) => Buffer.from(seg, 'base64url').subarray(0, 3).equals(Buffer.from([0xef, 0xbb, 0xbf])));
          return bom ? 'jose-free' : 'jose-refuses';
        }
        case 'b64':
          expect(own(header, 'b64')).toBe(true);
          return 'jose-free';
      }
  }
  throw new Error(`not a front refusal: ${JSON.stringify(v)}`);
}

const isFront = (v: Verdict) =>
  !v.ok && (['JWT_HEADER_FORBIDDEN', 'JWT_ISSUER_UNKNOWN', 'JWT_ALG_NOT_ALLOWED'].includes(v.code) || (v.code === 'JWT_MALFORMED' && own(v.detail, 'part')));

/**
 * A JWK that jose selects and then cannot import (WebCrypto refuses its key_ops) is a 500 here (JWT_KEYS_UNAVAILABLE,
 * the key source's fault); jose's DOMException fell through jwt.ts's old mapping to JWT_MALFORMED. The only
 * reason-level difference, and only for the issuer's own broken key.
 */
const unusableKey = (v: Verdict) => !v.ok && v.code === 'JWT_KEYS_UNAVAILABLE' && v.causeCode === 'ERR_JWK_UNUSABLE';

const stats = { accepted: 0, front: 0, joseLenient: 0, refused: new Map<string, number>() };
const count = (v: Verdict) => {
  if (v.ok) stats.accepted++;
  else stats.refused.set(v.code, (stats.refused.get(v.code) ?? 0) + 1);
};

// --- A ---------------------------------------------------------------------------------------------------------

describe('A. full check vs jose jwtVerify (same key, pinning and claim options)', () => {
  it(`agrees on ${RUNS.A} generated tokens: verdict, payload, reason`, async () => {
    const verifier = new JwtVerifier(SPECS, { ...deps, tokenCacheEntries: 0 });
    await fc.assert(
      fc.asyncProperty(plan, async (p) => {
        const token = tokenOf(p);
        nowMs = p.nowMs;
        const mine = await settle(async () => (await verifier.verifyClaims(token)).claims);
        const s = selected(token) ?? ISSUERS[p.target];
        const theirs = await joseVerdict(token, s, p.nowMs);
        count(mine);
        if (mine.ok) {
          expect(theirs).toEqual(mine);
        } else if (isFront(mine)) {
          stats.front++;
          if (confirmFrontRefusal(token, mine) === 'jose-refuses') expect(theirs.ok).toBe(false);
          else if (theirs.ok) stats.joseLenient++;
        } else if (unusableKey(mine)) {
          expect(theirs.ok).toBe(false);
        } else {
          expect({ ok: false, code: mine.code, detail: mine.detail }).toEqual(theirs);
        }
      }),
      { numRuns: RUNS.A, ...SEED },
    );
    // The generators reach both sides of every decision, not only refusals.
    expect(stats.accepted).toBeGreaterThan(RUNS.A / 10);
    for (const code of ['JWT_SIGNATURE_INVALID', 'JWT_EXPIRED', 'JWT_KID_UNKNOWN', 'JWT_CLAIM_MISSING', 'JWT_AUDIENCE_MISMATCH', 'JWT_MALFORMED', 'JWT_ALG_NOT_ALLOWED', 'JWT_NOT_YET_VALID']) {
      expect({ code, seen: (stats.refused.get(code) ?? 0) > 0 }).toEqual({ code, seen: true });
    }
    expect(stats.joseLenient).toBeGreaterThan(0);
  }, 300_000);
});

// --- B ---------------------------------------------------------------------------------------------------------

describe('B. whole verifier with its cache vs the verifier as it was (jose inside)', () => {
  it(`gives the same principal or reason on ${RUNS.B} tokens, first use, repeated use and later`, async () => {
    // A small cache, so eviction runs too; one verifier for the whole run, so tokens meet each other in it.
    const mine = new JwtVerifier(SPECS, { ...deps, tokenCacheEntries: 64 });
    const reference = new JoseJwtVerifier(SPECS, { ...deps, jwks: staticJoseJwks });
    const same = (a: Verdict, b: Verdict) => {
      if (unusableKey(a)) expect(b.ok).toBe(false);
      else expect({ ...a, causeCode: undefined }).toEqual({ ...b, causeCode: undefined });
    };
    let repeatedHits = 0;
    await fc.assert(
      fc.asyncProperty(plan, async (p) => {
        const token = tokenOf(p);
        fc.pre(JWT_SHAPE.test(token)); // what classify.ts lets through to the verifier
        nowMs = p.nowMs;
        same(await settle(() => mine.verify(token)), await settle(() => reference.verify(token)));
        const hitsBefore = mine.cacheStats().hits;
        same(await settle(() => mine.verify(token)), await settle(() => reference.verify(token)));
        if (mine.cacheStats().hits > hitsBefore) repeatedHits++;
        nowMs = p.nowMs + p.laterMs;
        same(await settle(() => mine.verify(token)), await settle(() => reference.verify(token)));
      }),
      { numRuns: RUNS.B, ...SEED },
    );
    expect(repeatedHits).toBeGreaterThan(RUNS.B / 10);
    expect(mine.cacheStats().size).toBeLessThanOrEqual(64);
  }, 300_000);
});

// --- C ---------------------------------------------------------------------------------------------------------

const KEY_ALGS: Record<string, readonly [string, Pair][]> = {
  RSA: [['RS256', K.rsaA], ['PS256', K.rsaA], ['RS256', K.rsaSmall]],
  EC: [['ES256', K.ecA], ['ES384', K.ec384], ['ES256', K.k1], ['ES384', K.ec521]],
  OKP: [['EdDSA', K.edA], ['EdDSA', K.ed448]],
};

/** Rarely present, and then often wrong: most generated JWKs stay usable, so verifications succeed too. */
const rare = <T>(arb: fc.Arbitrary<T>) => fc.oneof({ weight: 1, arbitrary: arb }, { weight: 4, arbitrary: fc.constant(ABSENT) });
const jwkVariant = fc.record({
  base: fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...KEY_ALGS.RSA!.slice(0, 2), ...KEY_ALGS.EC!.slice(0, 2), KEY_ALGS.OKP![0]!) }, { weight: 1, arbitrary: fc.constantFrom(...Object.values(KEY_ALGS).flat()) }),
  kid: opt(fc.constantFrom<unknown>('k1', 'k2', 1), 2),
  alg: rare(fc.constantFrom<unknown>(...ALL_ALGS, 'RS512', 42)),
  use: rare(fc.constantFrom<unknown>('sig', 'enc', 'x', null)),
  key_ops: rare(fc.constantFrom<unknown>(['verify'], ['verify', 'verify'], ['sign'], ['verify', 'sign'], ['verify', 'encrypt'], 'verify', [1], [])),
  ext: rare(fc.constantFrom<unknown>(true, false, 'true')),
  damage: fc.oneof({ weight: 16, arbitrary: fc.constant('none') }, { weight: 2, arbitrary: fc.constant('private') }, { weight: 1, arbitrary: fc.constantFrom('short', 'kty', 'crv', 'flip') }),
});

type JwkVariant = typeof jwkVariant extends fc.Arbitrary<infer T> ? T : never;

function buildJwk(v: JwkVariant): Record<string, unknown> {
  const [, p] = v.base;
  const out: Record<string, unknown> = { ...p.jwk };
  for (const m of ['kid', 'alg', 'use', 'key_ops', 'ext'] as const) if (v[m] !== ABSENT) out[m] = v[m];
  const field = typeof out.n === 'string' ? 'n' : 'x';
  const value = Buffer.from(String(out[field]), 'base64url');
  switch (v.damage) {
    case 'private':
      out.d = (p.privateKey.export({ format: 'jwk' }) as Record<string, unknown>).d;
      break;
    case 'short':
      out[field] = b64u(value.subarray(1));
      break;
    case 'flip':
      value[value.length - 1]! ^= 1;
      out[field] = b64u(value);
      break;
    case 'kty':
      out.kty = out.kty === 'EC' ? 'OKP' : 'EC';
      break;
    case 'crv':
      out.crv = out.crv === 'P-256' ? 'P-384' : out.crv === 'Ed25519' ? 'Ed448' : 'P-256';
      break;
  }
  return out;
}

describe('C. key selection and import vs jose createLocalJWKSet + compactVerify', () => {
  it(`agrees on ${RUNS.C} random key sets`, async () => {
    let verified = 0;
    const codes = new Set<string>();
    await fc.assert(
      fc.asyncProperty(
        fc.array(jwkVariant, { minLength: 1, maxLength: 3 }),
        fc.nat(),
        opt(fc.constantFrom<unknown>('k1', 'k2', 1, null), 2),
        fc.constantFrom(32, 32, 32, 0, 20, 64),
        async (variants, pick, kid, salt) => {
          const keys = variants.map(buildJwk);
          const [alg, signer] = variants[pick % variants.length]!.base;
          const header = { alg, ...(kid === ABSENT ? {} : { kid }) };
          const input = `${b64u(JSON.stringify(header))}.${b64u('{"sub":"x"}')}`;
          // PS256 signatures with other salt lengths than the 32 bytes RFC 7518 3.5 fixes, which WebCrypto refuses.
          const sig =
            alg === 'PS256'
              ? sign('sha256', Buffer.from(input), { key: signer.privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: salt })
              : rawSign(alg, signer, Buffer.from(input));
          const token = `${input}.${b64u(sig)}`;

          let joseOk: boolean;
          let joseCode: unknown;
          try {
            await compactVerify(token, createLocalJWKSet({ keys: keys as never }), { algorithms: [alg] });
            joseOk = true;
          } catch (err) {
            joseOk = false;
            joseCode = (err as { code?: unknown }).code;
          }
          let mineOk: boolean;
          let mineCode: unknown;
          try {
            const key = JwkSet.parse({ keys }).resolve(alg, kid === ABSENT ? undefined : kid);
            mineOk = verifySignature(key.alg, key.key, Buffer.from(input), Buffer.from(token.split('.')[2]!, 'base64url'));
            mineCode = mineOk ? undefined : 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED';
          } catch (err) {
            if (!(err instanceof KeySetError)) throw err;
            mineOk = false;
            mineCode = err.code;
          }
          codes.add(String(mineCode));
          expect(mineOk).toBe(joseOk);
          // Which key was (not) found is decided identically; a found key both refuse to use is a refusal on both sides.
          if (joseCode === 'ERR_JWKS_NO_MATCHING_KEY' || joseCode === 'ERR_JWKS_MULTIPLE_MATCHING_KEYS') expect(mineCode).toBe(joseCode);
          if (mineOk) verified++;
        },
      ),
      { numRuns: RUNS.C, ...SEED },
    );
    expect(verified).toBeGreaterThan(RUNS.C / 20);
    for (const code of ['ERR_JWKS_NO_MATCHING_KEY', 'ERR_JWKS_MULTIPLE_MATCHING_KEYS', 'ERR_JWK_UNUSABLE', 'ERR_JWKS_INVALID']) expect(codes).toContain(code);
  }, 300_000);
});

afterAll(() => {
  // What the runs covered, for the record (not asserted beyond the minimums above).
  console.log(
    `jws-differential A: ${stats.accepted} accepted, ${stats.front} refused on the verifier's own front checks (${stats.joseLenient} of which jose accepted), refusals: ${JSON.stringify(Object.fromEntries(stats.refused))}`,
  );
});
