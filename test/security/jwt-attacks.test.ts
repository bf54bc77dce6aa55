import { CreateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { CompactEncrypt, generateKeyPair } from 'jose';
import { type KeyObject, randomBytes } from 'node:crypto';
import type { ReasonCode } from '../../lambdas/authorizer/errors';
import { secretsClient, uniqueName } from '../support/aws';
import { type Fixture, createFixture } from '../support/fixture';
import { type TestKey, makeKey, nowSeconds, signWith } from '../support/jwt';
import type { AnswerFormat } from '../../lambdas/authorizer/request';
import {
  type Authorize,
  type CountingServer,
  type Signer,
  type Status,
  P256_N,
  b64u,
  decide,
  es256,
  hs256,
  json,
  jwsFromSegments,
  privateKeyObject,
  publicKeyObject,
  rawJws,
  rs256,
  startCountingServer,
  withUnusedBits,
  withUnusedBitsSet,
} from './support';

/*
 * Attacks on user JWTs, each through the real authorizer handler (real Secrets Manager on the emulator, real
 * JWKS over HTTP on loopback), asserting the answer API Gateway would give (401/403; 500 only where a dependency
 * is deliberately broken) and the exact reason code of the decision log. Hostile tokens are built by hand as
 * raw JSON text signed with node:crypto (test/security/support.ts), so nothing is normalised on the way in.
 */

let fx: Fixture;
let supabaseIss: string;
let supabasePrivate: KeyObject;
let oidcPrivate: KeyObject;

beforeAll(async () => {
  fx = await createFixture();
  supabaseIss = `${fx.supabaseUrl}/auth/v1`;
  supabasePrivate = privateKeyObject(fx.supabaseKey);
  oidcPrivate = privateKeyObject(fx.oidcKey);
  await fx.putTenant({ tenantId: 'acme' });
  await fx.putTenant({ tenantId: 'globex' });
});
afterAll(() => fx.close());

// --- categories: every test is counted under its describe('JWT: <category>') -------------------------------

const COUNTS = new Map<string, number>();
let currentCategory: string | undefined;

function category(name: string, body: () => void): void {
  describe(`JWT: ${name}`, () => {
    currentCategory = name;
    COUNTS.set(name, 0);
    body();
    currentCategory = undefined;
  });
}

function attack(name: string, fn: () => Promise<void>): void {
  if (currentCategory === undefined) throw new Error(`attack "${name}" outside a category`);
  COUNTS.set(currentCategory, COUNTS.get(currentCategory)! + 1);
  it(name, fn);
}

// --- claims, signers and outcomes ---------------------------------------------------------------------------

function supabaseClaims(overrides: Record<string, unknown> = {}, now = nowSeconds()): Record<string, unknown> {
  return {
    iss: supabaseIss,
    sub: '6f1c3b2a-1111-4222-8333-944455556666',
    aud: 'authenticated',
    role: 'authenticated',
    email: 'ada@example.com',
    session_id: 'sess-1',
    is_anonymous: false,
    iat: now,
    exp: now + 3600,
    app_metadata: { tenant_id: 'acme', roles: ['member'] },
    user_metadata: {},
    ...overrides,
  };
}

function oidcClaims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const now = nowSeconds();
  return { iss: fx.oidcIssuer, sub: 'u-1', aud: 'gatehouse-api', iat: now, exp: now + 600, org: 'acme', ...overrides };
}

/** The claims without the named members. */
const without = (claims: Record<string, unknown>, ...names: string[]) =>
  Object.fromEntries(Object.entries(claims).filter(([k]) => !names.includes(k)));

const HS = { alg: 'HS256', typ: 'JWT' };
const esHeader = (extra: Record<string, unknown> = {}) => ({ alg: 'ES256', typ: 'JWT', kid: fx.supabaseKey.kid, ...extra });
const rsHeader = (extra: Record<string, unknown> = {}) => ({ alg: 'RS256', typ: 'JWT', kid: fx.oidcKey.kid, ...extra });

/** The Supabase legacy secret, the Supabase ES256 signing key and the OIDC RS256 key, as signers. */
const supabaseHs: Signer = (input) => hs256(fx.supabaseSecret)(input);
const supabaseEs: Signer = (input) => es256(supabasePrivate)(input);
const oidcRs: Signer = (input) => rs256(oidcPrivate)(input);

/** A JWS from objects: header and payload are JSON.stringify'd, then signed exactly as sent. */
const jws = (header: Record<string, unknown>, payload: Record<string, unknown>, signer: Signer | Buffer) => rawJws(json(header), json(payload), signer);

/** Raw JSON text of an object with extra members appended verbatim (duplicates, `__proto__`, 1e400 ...). */
function withRawMembers(claims: Record<string, unknown>, members: string): string {
  const text = json(claims);
  return `${text.slice(0, -1)}${text.length > 2 ? ',' : ''}${members}}`;
}

interface Outcome {
  readonly status: Status;
  readonly reason: string;
}
const unauthorized = (reason: ReasonCode): Outcome => ({ status: 401, reason });
const forbidden = (reason: ReasonCode): Outcome => ({ status: 403, reason });
const failed = (reason: ReasonCode): Outcome => ({ status: 500, reason });
const ALLOWED: Outcome = { status: 200, reason: 'ALLOWED' };

/** API Gateway's answer and the logged reason for one token, through a fresh authorizer unless one is given. */
async function outcome(token: string, authorize: Authorize = fx.authorizer(), format: AnswerFormat = 'rest'): Promise<Outcome> {
  const { status } = await decide(authorize, token, { format });
  return { status, reason: fx.lastReason() ?? '(none)' };
}

async function expectOutcome(token: string, expected: Outcome, authorize?: Authorize): Promise<void> {
  expect(await outcome(token, authorize)).toEqual(expected);
}

const lastDecision = () => fx.logs.filter((l) => l.message === 'decision').at(-1);

const jwksFetches = () => fx.supabaseJwks.fetches() + fx.oidcJwks.fetches();

// =============================================================================================================

category('alg none and missing alg', () => {
  for (const alg of ['none', 'None', 'NONE', 'nOnE']) {
    attack(`refuses alg "${alg}" carrying a signature, for both issuers`, async () => {
      await expectOutcome(jws({ alg, typ: 'JWT' }, supabaseClaims(), supabaseHs), unauthorized('JWT_ALG_NOT_ALLOWED'));
      await expectOutcome(jws({ alg, typ: 'JWT', kid: fx.oidcKey.kid }, oidcClaims(), oidcRs), unauthorized('JWT_ALG_NOT_ALLOWED'));
    });

    attack(`refuses alg "${alg}" with an empty signature before it is parsed as a JWT`, async () => {
      const unsigned = `${b64u(json({ alg, typ: 'JWT' }))}.${b64u(json(supabaseClaims()))}.`;
      await expectOutcome(unsigned, unauthorized('CREDENTIAL_UNRECOGNIZED'));
    });
  }

  attack('refuses a header with no alg, even over a valid MAC of the issuer secret', async () => {
    await expectOutcome(jws({ typ: 'JWT' }, supabaseClaims(), supabaseHs), unauthorized('JWT_ALG_NOT_ALLOWED'));
  });

  attack('refuses a header with no alg over a valid ES256 signature with the issuer kid', async () => {
    await expectOutcome(jws({ typ: 'JWT', kid: fx.supabaseKey.kid }, supabaseClaims(), supabaseEs), unauthorized('JWT_ALG_NOT_ALLOWED'));
  });

  for (const [label, alg] of [
    ['null', null],
    ['a number', 256],
    ['a boolean', true],
    ['an array holding an allowed algorithm', ['HS256']],
    ['an object', { name: 'HS256' }],
  ] as const) {
    attack(`refuses alg given as ${label}`, async () => {
      await expectOutcome(jws({ alg, typ: 'JWT' }, supabaseClaims(), supabaseHs), unauthorized('JWT_ALG_NOT_ALLOWED'));
    });
  }

  attack('refuses near-miss spellings of a pinned algorithm (case, whitespace, NUL, empty)', async () => {
    for (const alg of ['hs256', 'Hs256', 'HS256 ', ' HS256', 'HS256\u0000', '', 'HS384', 'HS512', 'ES256K', 'PS256']) {
      await expectOutcome(jws({ alg, typ: 'JWT' }, supabaseClaims(), supabaseHs), unauthorized('JWT_ALG_NOT_ALLOWED'));
    }
  });
});

// =============================================================================================================

type KeyForm = readonly [label: string, secret: (key: TestKey) => string | Buffer];

const EC_FORMS: readonly KeyForm[] = [
  ['PEM SPKI text', (k) => publicKeyObject(k).export({ type: 'spki', format: 'pem' }) as string],
  ['PEM SPKI text without its final newline', (k) => (publicKeyObject(k).export({ type: 'spki', format: 'pem' }) as string).trimEnd()],
  ['DER SPKI bytes', (k) => publicKeyObject(k).export({ type: 'spki', format: 'der' })],
  ['JWK JSON text as the JWKS serves it', (k) => json(k.publicJwk)],
  ['minimal JWK JSON text', (k) => json({ kty: k.publicJwk.kty, crv: k.publicJwk.crv, x: k.publicJwk.x, y: k.publicJwk.y })],
  ['JWKS document text', (k) => json({ keys: [k.publicJwk] })],
  ['raw x coordinate bytes', (k) => Buffer.from(k.publicJwk.x!, 'base64url')],
  ['raw y coordinate bytes', (k) => Buffer.from(k.publicJwk.y!, 'base64url')],
  ['raw x||y bytes', (k) => Buffer.concat([Buffer.from(k.publicJwk.x!, 'base64url'), Buffer.from(k.publicJwk.y!, 'base64url')])],
  ['uncompressed point bytes 04||x||y', (k) => Buffer.concat([Buffer.from([4]), Buffer.from(k.publicJwk.x!, 'base64url'), Buffer.from(k.publicJwk.y!, 'base64url')])],
  ['x coordinate as base64url text', (k) => k.publicJwk.x!],
];

const RSA_FORMS: readonly KeyForm[] = [
  ['PEM SPKI text', (k) => publicKeyObject(k).export({ type: 'spki', format: 'pem' }) as string],
  ['PEM PKCS#1 text', (k) => publicKeyObject(k).export({ type: 'pkcs1', format: 'pem' }) as string],
  ['DER SPKI bytes', (k) => publicKeyObject(k).export({ type: 'spki', format: 'der' })],
  ['JWK JSON text as the JWKS serves it', (k) => json(k.publicJwk)],
  ['minimal JWK JSON text', (k) => json({ kty: 'RSA', n: k.publicJwk.n, e: k.publicJwk.e })],
  ['raw modulus bytes', (k) => Buffer.from(k.publicJwk.n!, 'base64url')],
  ['modulus as base64url text', (k) => k.publicJwk.n!],
];

category('algorithm confusion: HS256 keyed with a public key', () => {
  for (const [form, secret] of EC_FORMS) {
    attack(`refuses HS256 keyed with the Supabase ES256 public key as ${form}: the issuer's own secret decides`, async () => {
      const token = jws({ ...HS, kid: fx.supabaseKey.kid }, supabaseClaims(), hs256(secret(fx.supabaseKey)));
      await expectOutcome(token, unauthorized('JWT_SIGNATURE_INVALID'));
    });
  }

  for (const [form, secret] of RSA_FORMS) {
    attack(`refuses HS256 keyed with the OIDC RS256 public key as ${form}: the issuer pins RS256`, async () => {
      const token = jws({ ...HS, kid: fx.oidcKey.kid }, oidcClaims(), hs256(secret(fx.oidcKey)));
      await expectOutcome(token, unauthorized('JWT_ALG_NOT_ALLOWED'));
    });
  }

  attack('refuses HS256 keyed with any form of the Supabase public key when Supabase verifies by JWKS only', async () => {
    const jwksOnly = fx.authorizer({ issuers: [{ type: 'supabase', url: fx.supabaseUrl, jwks: true }] });
    for (const [, secret] of EC_FORMS) {
      const token = jws({ ...HS, kid: fx.supabaseKey.kid }, supabaseClaims(), hs256(secret(fx.supabaseKey)));
      await expectOutcome(token, unauthorized('JWT_ALG_NOT_ALLOWED'), jwksOnly);
    }
  });

  attack('refuses HS256 keyed with the OIDC public key under the Supabase issuer', async () => {
    for (const [, secret] of RSA_FORMS) {
      await expectOutcome(jws(HS, supabaseClaims(), hs256(secret(fx.oidcKey))), unauthorized('JWT_SIGNATURE_INVALID'));
    }
  });
});

// =============================================================================================================

category('signature forgery (ECDSA, RSA, HMAC)', () => {
  const signingInput = (header: Record<string, unknown>, claims: Record<string, unknown>) => `${b64u(json(header))}.${b64u(json(claims))}`;
  const esToken = (signature: Buffer) => jws(esHeader(), supabaseClaims(), signature);
  const validEs = () => es256(supabasePrivate)(signingInput(esHeader(), supabaseClaims()));

  attack('refuses an ES256 signature of r = s = 0 (64 zero bytes)', async () => {
    await expectOutcome(esToken(Buffer.alloc(64)), unauthorized('JWT_SIGNATURE_INVALID'));
  });

  attack('refuses an ES256 signature of r = s = n, the group order', async () => {
    await expectOutcome(esToken(Buffer.concat([P256_N, P256_N])), unauthorized('JWT_SIGNATURE_INVALID'));
  });

  attack('refuses an ES256 signature whose r is replaced by n, or by 0, keeping the genuine s', async () => {
    const s = validEs().subarray(32);
    await expectOutcome(esToken(Buffer.concat([P256_N, s])), unauthorized('JWT_SIGNATURE_INVALID'));
    await expectOutcome(esToken(Buffer.concat([Buffer.alloc(32), s])), unauthorized('JWT_SIGNATURE_INVALID'));
  });

  attack('refuses an ES256 signature of r = n, s = 1 and of r = 1, s = n', async () => {
    const one = Buffer.alloc(32);
    one[31] = 1;
    await expectOutcome(esToken(Buffer.concat([P256_N, one])), unauthorized('JWT_SIGNATURE_INVALID'));
    await expectOutcome(esToken(Buffer.concat([one, P256_N])), unauthorized('JWT_SIGNATURE_INVALID'));
  });

  attack('refuses a genuine ES256 signature with one bit flipped, truncated, or extended', async () => {
    const sig = validEs();
    const flipped = Buffer.from(sig);
    flipped[10] ^= 0x01;
    await expectOutcome(esToken(flipped), unauthorized('JWT_SIGNATURE_INVALID'));
    await expectOutcome(esToken(sig.subarray(0, 63)), unauthorized('JWT_SIGNATURE_INVALID'));
    await expectOutcome(esToken(Buffer.concat([sig, Buffer.alloc(1)])), unauthorized('JWT_SIGNATURE_INVALID'));
  });

  attack('refuses a DER-encoded ECDSA signature where JWS requires raw r||s, though the same signature raw is accepted', async () => {
    const header = esHeader();
    const claims = supabaseClaims();
    const raw = jwsFromSegments(b64u(json(header)), b64u(json(claims)), es256(supabasePrivate, 'ieee-p1363'));
    const der = jwsFromSegments(b64u(json(header)), b64u(json(claims)), es256(supabasePrivate, 'der'));
    const derSignature = Buffer.from(der.split('.')[2]!, 'base64url');
    expect(derSignature[0]).toBe(0x30); // an ASN.1 SEQUENCE: the DER form, not r||s

    await expectOutcome(raw, ALLOWED);
    await expectOutcome(der, unauthorized('JWT_SIGNATURE_INVALID'));
  });

  attack('refuses a genuine signature lifted from another token of the same issuer', async () => {
    const other = await signWith(fx.supabaseKey, supabaseClaims({ sub: 'someone-else' }));
    const forged = jws(esHeader(), supabaseClaims(), Buffer.from(other.split('.')[2]!, 'base64url'));
    await expectOutcome(forged, unauthorized('JWT_SIGNATURE_INVALID'));
  });

  attack("refuses a token naming the issuer's real kid but signed with another ES256 key", async () => {
    const stranger = privateKeyObject(await makeKey('ES256'));
    await expectOutcome(jws(esHeader(), supabaseClaims(), es256(stranger)), unauthorized('JWT_SIGNATURE_INVALID'));
  });

  attack('refuses RS256 signatures of zeros, of the modulus itself, of the wrong length, or with a bit flipped', async () => {
    const header = rsHeader();
    const claims = oidcClaims();
    const genuine = rs256(oidcPrivate)(signingInput(header, claims));
    const n = Buffer.from(fx.oidcKey.publicJwk.n!, 'base64url');
    const flipped = Buffer.from(genuine);
    flipped[100] ^= 0x80;
    expect(await outcome(jws(header, claims, genuine))).toEqual(ALLOWED);
    for (const sig of [Buffer.alloc(genuine.length), n, genuine.subarray(1), Buffer.concat([Buffer.alloc(1), genuine]), flipped]) {
      await expectOutcome(jws(header, claims, sig), unauthorized('JWT_SIGNATURE_INVALID'));
    }
  });

  attack('refuses a truncated HS256 MAC and a MAC over a different header', async () => {
    const claims = supabaseClaims();
    const mac = hs256(fx.supabaseSecret)(signingInput(HS, claims));
    await expectOutcome(jws(HS, claims, mac.subarray(0, 16)), unauthorized('JWT_SIGNATURE_INVALID'));
    const otherHeader = hs256(fx.supabaseSecret)(signingInput({ alg: 'HS256' }, claims));
    await expectOutcome(jws(HS, claims, otherHeader), unauthorized('JWT_SIGNATURE_INVALID'));
  });
});

// =============================================================================================================

category('kid injection', () => {
  let attacker: KeyObject;
  let attackerRsa: KeyObject;
  let warm: Authorize;

  const INJECTIONS: readonly (readonly [string, unknown])[] = [
    ['a path traversal to a system file', '../../../../../../etc/passwd'],
    ['a path traversal into the JWKS path', '../../auth/v1/.well-known/jwks.json'],
    ['an SQL injection', "x' OR '1'='1' --"],
    ['an SQL UNION', "' UNION SELECT 'secret' AS kid --"],
    ['a URL', 'https://evil.example/.well-known/jwks.json'],
    ['a loopback URL', 'http://127.0.0.1:9/jwks.json'],
    ['a NUL byte alone', '\u0000'],
    ['the real kid followed by a NUL byte', 'REAL\u0000'],
    ['the real kid in another case', 'REAL-UPPER'],
    ['the real kid with a trailing space', 'REAL '],
    ['an empty string', ''],
    ['__proto__', '__proto__'],
    ['constructor', 'constructor'],
    ['a number', 1],
    ['null', null],
    ['a boolean', true],
    ['an object', { kid: 'REAL' }],
    ['an array holding the real kid', ['REAL']],
  ];
  /** Substitutes the issuer's real kid where a case says REAL, so the injection sits right next to a valid one. */
  const realize = (v: unknown): unknown => {
    const real = fx.supabaseKey.kid;
    if (v === 'REAL-UPPER') return real.toUpperCase();
    if (typeof v === 'string') return v.replace('REAL', real);
    if (Array.isArray(v)) return v.map(realize);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, realize(x)]));
    return v;
  };
  const injected = (kid: unknown) => jws({ alg: 'ES256', typ: 'JWT', kid }, supabaseClaims(), es256(attacker));

  beforeAll(async () => {
    attacker = privateKeyObject(await makeKey('ES256'));
    attackerRsa = privateKeyObject(await makeKey('RS256'));
    // A 10 KiB kid needs the largest header the configuration allows (16 KiB).
    warm = fx.authorizer({ maxAuthorizationBytes: 16_384 });
    expect(await outcome(await signWith(fx.supabaseKey, supabaseClaims()), warm)).toEqual(ALLOWED);
    expect(await outcome(jws(rsHeader(), oidcClaims(), oidcRs), warm)).toEqual(ALLOWED);
  });

  for (const [label, kid] of INJECTIONS) {
    attack(`refuses a kid that is ${label}, with no JWKS refetch`, async () => {
      const before = jwksFetches();
      await expectOutcome(injected(realize(kid)), unauthorized('JWT_KID_UNKNOWN'), warm);
      expect(jwksFetches() - before).toBe(0);
    });
  }

  attack('refuses a 10 KiB kid with no JWKS refetch where the header cap allows it, and for size under the default cap', async () => {
    const token = injected('k'.repeat(10 * 1024));
    const before = jwksFetches();
    await expectOutcome(token, unauthorized('JWT_KID_UNKNOWN'), warm);
    await expectOutcome(token, unauthorized('AUTHORIZATION_TOO_LARGE'));
    expect(jwksFetches() - before).toBe(0);
  });

  attack('refuses kid injections on the OIDC issuer too, with no JWKS refetch', async () => {
    const before = jwksFetches();
    for (const [, kid] of INJECTIONS) {
      const token = jws({ alg: 'RS256', typ: 'JWT', kid: realize(kid) }, oidcClaims(), rs256(attackerRsa));
      await expectOutcome(token, unauthorized('JWT_KID_UNKNOWN'), warm);
    }
    expect(jwksFetches() - before).toBe(0);
  });

  attack('a storm of injected kids on a cold authorizer costs one JWKS fetch in all, and every one is refused', async () => {
    const cold = fx.authorizer({ maxAuthorizationBytes: 16_384 });
    const before = fx.supabaseJwks.fetches();
    const results = await Promise.all(INJECTIONS.map(([, kid]) => decide(cold, injected(realize(kid)))));
    expect(results.map((r) => r.status)).toEqual(INJECTIONS.map(() => 401));
    // The first lookup loads the set; every unknown kid after it falls within the refetch cooldown.
    expect(fx.supabaseJwks.fetches() - before).toBe(1);
    for (const [, kid] of INJECTIONS) await expectOutcome(injected(realize(kid)), unauthorized('JWT_KID_UNKNOWN'), cold);
    expect(fx.supabaseJwks.fetches() - before).toBe(1);
  });

  attack("checks a token with no kid against the issuer's own key only, which the forged signature fails", async () => {
    const token = jws({ alg: 'ES256', typ: 'JWT' }, supabaseClaims(), es256(attacker));
    await expectOutcome(token, unauthorized('JWT_SIGNATURE_INVALID'), warm);
  });
});

// =============================================================================================================

category('key-carrying headers (jku, x5u, jwk, x5c)', () => {
  let attackerKey: TestKey;
  let attacker: KeyObject;
  let target: CountingServer;

  beforeAll(async () => {
    attackerKey = await makeKey('ES256', 'attacker-kid');
    attacker = privateKeyObject(attackerKey);
    target = await startCountingServer(json({ keys: [attackerKey.publicJwk] }));
  });
  afterAll(() => target.close());

  const forged = (extra: Record<string, unknown>) => jws({ alg: 'ES256', typ: 'JWT', kid: attackerKey.kid, ...extra }, supabaseClaims(), es256(attacker));

  attack('refuses jku pointing at an attacker JWKS, and never requests it', async () => {
    const before = jwksFetches();
    await expectOutcome(forged({ jku: target.url }), unauthorized('JWT_HEADER_FORBIDDEN'));
    expect(target.requests()).toBe(0);
    expect(jwksFetches() - before).toBe(0);
  });

  attack('refuses x5u pointing at an attacker server, and never requests it', async () => {
    await expectOutcome(forged({ x5u: target.url }), unauthorized('JWT_HEADER_FORBIDDEN'));
    expect(target.requests()).toBe(0);
  });

  attack('refuses an embedded jwk whose private key signed the token', async () => {
    await expectOutcome(forged({ jwk: attackerKey.publicJwk }), unauthorized('JWT_HEADER_FORBIDDEN'));
  });

  attack("refuses an embedded jwk that claims the issuer's own kid", async () => {
    const token = jws(esHeader({ jwk: { ...attackerKey.publicJwk, kid: fx.supabaseKey.kid } }), supabaseClaims(), es256(attacker));
    await expectOutcome(token, unauthorized('JWT_HEADER_FORBIDDEN'));
  });

  attack('refuses an embedded symmetric jwk whose key made the HS256 MAC', async () => {
    const key = randomBytes(32);
    await expectOutcome(jws({ ...HS, jwk: { kty: 'oct', k: b64u(key) } }, supabaseClaims(), hs256(key)), unauthorized('JWT_HEADER_FORBIDDEN'));
  });

  attack('refuses an x5c chain', async () => {
    const fakeCert = randomBytes(300).toString('base64');
    await expectOutcome(forged({ x5c: [fakeCert] }), unauthorized('JWT_HEADER_FORBIDDEN'));
  });

  attack('refuses these headers by presence: null, empty and non-string values too', async () => {
    for (const extra of [{ jku: null }, { jku: '' }, { x5u: 42 }, { jwk: {} }, { x5c: [] }, { x5c: 'not-an-array' }]) {
      await expectOutcome(forged(extra), unauthorized('JWT_HEADER_FORBIDDEN'));
    }
    expect(target.requests()).toBe(0);
  });

  attack('refuses them even on a token the issuer itself signed, and on the OIDC issuer', async () => {
    await expectOutcome(jws(esHeader({ jku: target.url }), supabaseClaims(), supabaseEs), unauthorized('JWT_HEADER_FORBIDDEN'));
    await expectOutcome(jws(rsHeader({ x5u: target.url }), oidcClaims(), oidcRs), unauthorized('JWT_HEADER_FORBIDDEN'));
    expect(target.requests()).toBe(0);
  });

  attack("does not honour other spellings (JKU, Jwk) nor a jku hidden under __proto__: the issuer's keys still decide", async () => {
    const before = jwksFetches();
    await expectOutcome(forged({ JKU: target.url }), unauthorized('JWT_KID_UNKNOWN'));
    await expectOutcome(forged({ Jwk: attackerKey.publicJwk }), unauthorized('JWT_KID_UNKNOWN'));
    const headerText = withRawMembers({ alg: 'ES256', typ: 'JWT', kid: attackerKey.kid }, `"__proto__":{"jku":${json(target.url)},"jwk":${json(attackerKey.publicJwk)}}`);
    await expectOutcome(rawJws(headerText, json(supabaseClaims()), es256(attacker)), unauthorized('JWT_KID_UNKNOWN'));
    expect(target.requests()).toBe(0);
    // Each fresh authorizer loads the issuer's own JWKS at most once; nothing else is fetched.
    expect(jwksFetches() - before).toBeLessThanOrEqual(3);
  });

  attack('never made a single request to the attacker server', async () => {
    expect(target.requests()).toBe(0);
  });
});

// =============================================================================================================

category('crit and b64 extensions', () => {
  attack('refuses a crit naming an unknown extension, on a token the issuer signed', async () => {
    const token = jws(esHeader({ crit: ['https://evil.example/ext'], 'https://evil.example/ext': true }), supabaseClaims(), supabaseEs);
    await expectOutcome(token, unauthorized('JWT_MALFORMED'));
  });

  attack('refuses a crit naming an extension the header lacks', async () => {
    await expectOutcome(jws({ ...HS, crit: ['exp'] }, supabaseClaims(), supabaseHs), unauthorized('JWT_MALFORMED'));
  });

  attack('refuses a crit that is empty, not an array, holds non-strings or names an Object.prototype member', async () => {
    for (const crit of [[], 'b64', [1], [''], {}, ['__proto__'], ['constructor'], ['toString']]) {
      await expectOutcome(jws({ ...HS, b64: true, crit }, supabaseClaims(), supabaseHs), unauthorized('JWT_MALFORMED'));
    }
  });

  attack('refuses an unknown critical extension on the OIDC issuer', async () => {
    await expectOutcome(jws(rsHeader({ crit: ['x-tenant-override'], 'x-tenant-override': 'globex' }), oidcClaims(), oidcRs), unauthorized('JWT_MALFORMED'));
  });

  attack('refuses b64 false declared critical (RFC 7797), signed by the issuer', async () => {
    await expectOutcome(jws({ ...HS, b64: false, crit: ['b64'] }, supabaseClaims(), supabaseHs), unauthorized('JWT_MALFORMED'));
    await expectOutcome(jws(esHeader({ b64: false, crit: ['b64'] }), supabaseClaims(), supabaseEs), unauthorized('JWT_MALFORMED'));
  });

  attack('refuses b64 false with a non-boolean value declared critical', async () => {
    await expectOutcome(jws({ ...HS, b64: 'false', crit: ['b64'] }, supabaseClaims(), supabaseHs), unauthorized('JWT_MALFORMED'));
  });

  attack('refuses an unencoded (b64 false) JSON payload before any parsing', async () => {
    const header = b64u(json({ ...HS, b64: false, crit: ['b64'] }));
    const payload = json(supabaseClaims());
    const token = `${header}.${payload}.${b64u(hs256(fx.supabaseSecret)(`${header}.${payload}`))}`;
    await expectOutcome(token, unauthorized('AUTHORIZATION_MALFORMED'));
  });

  attack('refuses b64 false even when crit omits it: a header that says the payload is not base64url is not read as a JWT', async () => {
    await expectOutcome(jws({ ...HS, b64: false }, supabaseClaims(), supabaseHs), unauthorized('JWT_MALFORMED'));
  });
});

// =============================================================================================================

category('JWE and nested JWTs', () => {
  attack('refuses a JWE (five segments) encrypted with RSA-OAEP-256', async () => {
    const { publicKey } = await generateKeyPair('RSA-OAEP-256');
    const jwe = await new CompactEncrypt(new TextEncoder().encode(json(supabaseClaims())))
      .setProtectedHeader({ alg: 'RSA-OAEP-256', enc: 'A256GCM', kid: fx.oidcKey.kid })
      .encrypt(publicKey);
    expect(jwe.split('.')).toHaveLength(5);
    await expectOutcome(jwe, unauthorized('CREDENTIAL_UNRECOGNIZED'));
  });

  attack('refuses a direct-key JWE (empty key segment), even keyed with the HS256 secret', async () => {
    const key = new Uint8Array(Buffer.from(fx.supabaseSecret, 'base64'));
    const jwe = await new CompactEncrypt(new TextEncoder().encode(json(supabaseClaims()))).setProtectedHeader({ alg: 'dir', enc: 'A256GCM' }).encrypt(key);
    expect(jwe.split('.')[1]).toBe('');
    await expectOutcome(jwe, unauthorized('CREDENTIAL_UNRECOGNIZED'));
  });

  attack('refuses a JWS whose payload is another valid JWT (cty JWT), both signed by the issuer', async () => {
    const inner = await signWith(fx.supabaseKey, supabaseClaims());
    expect(await outcome(inner)).toEqual(ALLOWED);
    await expectOutcome(rawJws(json(esHeader({ cty: 'JWT' })), inner, supabaseEs), unauthorized('JWT_MALFORMED'));
    await expectOutcome(rawJws(json({ ...HS, cty: 'JWT' }), inner, supabaseHs), unauthorized('JWT_MALFORMED'));
  });

  attack('refuses a payload that is the inner JWT as a JSON string', async () => {
    const inner = await signWith(fx.supabaseKey, supabaseClaims());
    await expectOutcome(rawJws(json(esHeader({ cty: 'JWT' })), json(inner), supabaseEs), unauthorized('JWT_MALFORMED'));
  });

  attack('refuses a JWS wrapping a JWE', async () => {
    const key = randomBytes(32);
    const jwe = await new CompactEncrypt(new TextEncoder().encode(json(supabaseClaims()))).setProtectedHeader({ alg: 'dir', enc: 'A256GCM' }).encrypt(key);
    await expectOutcome(rawJws(json(esHeader({ cty: 'JWT' })), jwe, supabaseEs), unauthorized('JWT_MALFORMED'));
  });
});

// =============================================================================================================

category('duplicate JSON members', () => {
  // JSON.parse keeps the last of duplicate members, and jose parses with JSON.parse too: the issuer the
  // authorizer selects and the claims jose verifies are read from the same (last) values.
  const dupHeader = (first: string, last: string, rest: Record<string, unknown> = {}) => withRawMembers(rest, `"alg":${json(first)},"alg":${json(last)}`);

  attack('reads a duplicated alg as its last value: none then HS256 is verified as HS256', async () => {
    await expectOutcome(rawJws(dupHeader('none', 'HS256', { typ: 'JWT' }), json(supabaseClaims()), supabaseHs), ALLOWED);
  });

  attack('refuses a duplicated alg whose last value is none', async () => {
    await expectOutcome(rawJws(dupHeader('HS256', 'none', { typ: 'JWT' }), json(supabaseClaims()), supabaseHs), unauthorized('JWT_ALG_NOT_ALLOWED'));
  });

  attack('refuses HS256-then-ES256 keyed with the public key: the last alg sends it to the JWKS, where the MAC fails', async () => {
    const pem = publicKeyObject(fx.supabaseKey).export({ type: 'spki', format: 'pem' }) as string;
    const header = dupHeader('HS256', 'ES256', { typ: 'JWT', kid: fx.supabaseKey.kid });
    await expectOutcome(rawJws(header, json(supabaseClaims()), hs256(pem)), unauthorized('JWT_SIGNATURE_INVALID'));
  });

  attack('refuses ES256-then-HS256 keyed with the public key: the last alg sends it to the secret, which differs', async () => {
    const pem = publicKeyObject(fx.supabaseKey).export({ type: 'spki', format: 'pem' }) as string;
    const header = dupHeader('ES256', 'HS256', { typ: 'JWT', kid: fx.supabaseKey.kid });
    await expectOutcome(rawJws(header, json(supabaseClaims()), hs256(pem)), unauthorized('JWT_SIGNATURE_INVALID'));
  });

  const dupIss = (first: string, last: string, claims: Record<string, unknown>) => withRawMembers(without(claims, 'iss'), `"iss":${json(first)},"iss":${json(last)}`);

  attack('a duplicated iss (Supabase, then OIDC) signed by Supabase is judged by OIDC rules, never Supabase ones', async () => {
    await expectOutcome(rawJws(json(esHeader()), dupIss(supabaseIss, fx.oidcIssuer, supabaseClaims()), supabaseEs), unauthorized('JWT_ALG_NOT_ALLOWED'));
    await expectOutcome(rawJws(json(HS), dupIss(supabaseIss, fx.oidcIssuer, supabaseClaims()), supabaseHs), unauthorized('JWT_ALG_NOT_ALLOWED'));
  });

  attack('a duplicated iss (OIDC, then Supabase) signed by the OIDC key is checked against Supabase keys only', async () => {
    const before = fx.oidcJwks.fetches();
    await expectOutcome(rawJws(json(rsHeader()), dupIss(fx.oidcIssuer, supabaseIss, { ...oidcClaims(), ...supabaseClaims({ iss: undefined }) }), oidcRs), unauthorized('JWT_KID_UNKNOWN'));
    expect(fx.oidcJwks.fetches() - before).toBe(0);
  });

  attack('refuses a duplicated iss whose last value is unknown, though the first is the signer', async () => {
    await expectOutcome(rawJws(json(esHeader()), dupIss(supabaseIss, 'https://evil.example/auth/v1', supabaseClaims()), supabaseEs), unauthorized('JWT_ISSUER_UNKNOWN'));
  });

  attack('reads a duplicated iss whose last value is the signer as that issuer (nothing gained: the issuer signed it)', async () => {
    const { status, result } = await decide(fx.authorizer(), rawJws(json(esHeader()), dupIss('https://evil.example/auth/v1', supabaseIss, supabaseClaims()), supabaseEs));
    expect({ status, reason: fx.lastReason() }).toEqual(ALLOWED);
    expect(result!.context).toMatchObject({ issuer: 'supabase', tenantId: 'acme' });
  });

  attack('refuses a duplicated role whose last value is service_role, and a duplicated aud whose last value is foreign', async () => {
    const role = withRawMembers(without(supabaseClaims(), 'role'), '"role":"authenticated","role":"service_role"');
    await expectOutcome(rawJws(json(HS), role, supabaseHs), unauthorized('JWT_ROLE_NOT_ALLOWED'));
    const aud = withRawMembers(without(supabaseClaims(), 'aud'), '"aud":"authenticated","aud":"other-app"');
    await expectOutcome(rawJws(json(HS), aud, supabaseHs), unauthorized('JWT_AUDIENCE_MISMATCH'));
  });

  attack('takes a duplicated app_metadata tenant as its last value, in the context as in the tenant check', async () => {
    const claims = withRawMembers(without(supabaseClaims(), 'app_metadata'), '"app_metadata":{"tenant_id":"globex","tenant_id":"acme"}');
    const { status, result } = await decide(fx.authorizer(), rawJws(json(HS), claims, supabaseHs));
    expect({ status, reason: fx.lastReason() }).toEqual(ALLOWED);
    expect(result!.context!.tenantId).toBe('acme');
    expect(JSON.stringify(result)).not.toContain('globex');
  });
});

// =============================================================================================================

category('JSON text encoding (UTF-8, BOM)', () => {
  // The authorizer reads header and payload leniently (Buffer's UTF-8 decoder) to pick the issuer; jose then reads
  // them strictly. Whatever the lenient read made of bad bytes, the strict one refuses them: never a mixed reading.
  const bytes = (...parts: (string | number[])[]) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))));
  const claimsWith = (raw: number[]) => bytes(json(supabaseClaims()).slice(0, -1), ',"note":"', raw, '"}');

  attack('refuses a payload with invalid UTF-8, though the issuer signed it', async () => {
    await expectOutcome(rawJws(json(HS), claimsWith([0xff, 0xfe]), supabaseHs), unauthorized('JWT_MALFORMED'));
    await expectOutcome(rawJws(json(esHeader()), claimsWith([0xed, 0xa0, 0x80]), supabaseEs), unauthorized('JWT_MALFORMED'));
  });

  attack('refuses an overlong UTF-8 encoding of a slash in the payload', async () => {
    await expectOutcome(rawJws(json(HS), claimsWith([0xc0, 0xaf]), supabaseHs), unauthorized('JWT_MALFORMED'));
  });

  attack('refuses a header with invalid UTF-8, though the issuer signed it', async () => {
    await expectOutcome(rawJws(bytes('{"alg":"HS256","x":"', [0xff], '"}'), json(supabaseClaims()), supabaseHs), unauthorized('JWT_MALFORMED'));
  });

  attack('refuses a byte-order mark before the payload or the header JSON', async () => {
    await expectOutcome(rawJws(json(HS), bytes([0xef, 0xbb, 0xbf], json(supabaseClaims())), supabaseHs), unauthorized('JWT_MALFORMED'));
    await expectOutcome(rawJws(bytes([0xef, 0xbb, 0xbf], json(HS)), json(supabaseClaims()), supabaseHs), unauthorized('JWT_MALFORMED'));
  });

  attack('never selects an issuer from an iss with a byte the strict reading would refuse', async () => {
    const text = bytes(json(without(supabaseClaims(), 'iss')).slice(0, -1), `,"iss":"${supabaseIss}`, [0xff], '"}');
    await expectOutcome(rawJws(json(HS), text, supabaseHs), unauthorized('JWT_ISSUER_UNKNOWN'));
  });
});

// =============================================================================================================

category('oversized and deeply nested tokens', () => {
  const padded = async (bytes: number) => signWith(fx.supabaseKey, supabaseClaims({ pad: 'p'.repeat(bytes) }));
  const within = async <T>(ms: number, run: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    const value = await run();
    expect(performance.now() - started).toBeLessThan(ms);
    return value;
  };

  attack('refuses a 16 KiB token for size, under the default cap and under the largest cap allowed', async () => {
    const token = await padded(12 * 1024);
    expect(token.length).toBeGreaterThan(16 * 1024);
    await expectOutcome(token, unauthorized('AUTHORIZATION_TOO_LARGE'));
    await expectOutcome(token, unauthorized('AUTHORIZATION_TOO_LARGE'), fx.authorizer({ maxAuthorizationBytes: 16_384 }));
  });

  attack('refuses a 1 MiB token for size, quickly, with no JWKS fetch', async () => {
    const token = `${b64u(json(esHeader()))}.${'A'.repeat(1024 * 1024)}.${'B'.repeat(86)}`;
    const before = jwksFetches();
    await within(1000, () => expectOutcome(token, unauthorized('AUTHORIZATION_TOO_LARGE')));
    expect(jwksFetches() - before).toBe(0);
  });

  attack('measures the cap on the whole header: 8192 bytes pass to the JWT checks, 8193 do not', async () => {
    // A forged MAC keeps the token from being allowed; only the reason shows where it was stopped.
    const sized = (total: number): string => {
      const claims = supabaseClaims();
      const base = 'Bearer '.length + jws(HS, claims, randomBytes(32)).length;
      const estimate = Math.max(0, Math.floor(((total - base) * 3) / 4) - 16);
      // base64url never has a length of 4n+1, so a filler in the header covers the lengths the payload skips.
      for (let pad = estimate; pad < estimate + 48; pad++) {
        for (const header of [HS, { ...HS, x: '' }, { ...HS, x: 'xx' }]) {
          const token = jws(header, { ...claims, pad: 'p'.repeat(pad) }, randomBytes(32));
          if ('Bearer '.length + token.length === total) return token;
        }
      }
      throw new Error(`no token of ${total} bytes`);
    };
    await expectOutcome(sized(8192), unauthorized('JWT_SIGNATURE_INVALID'));
    await expectOutcome(sized(8193), unauthorized('AUTHORIZATION_TOO_LARGE'));
  });

  attack('refuses a payload of 2000 nested arrays quickly, as not a claims object', async () => {
    const payload = `${'['.repeat(2000)}${']'.repeat(2000)}`;
    await within(1000, () => expectOutcome(rawJws(json(HS), payload, supabaseHs), unauthorized('JWT_MALFORMED')));
  });

  attack('refuses unbalanced nesting (4000 open brackets, 1000 open objects) quickly', async () => {
    await within(1000, () => expectOutcome(rawJws(json(HS), '['.repeat(4000), supabaseHs), unauthorized('JWT_MALFORMED')));
    await within(1000, () => expectOutcome(rawJws('{"a":'.repeat(1000), json(supabaseClaims()), supabaseHs), unauthorized('JWT_MALFORMED')));
  });

  attack('refuses a forged token with a claim nested 2000 arrays or 800 objects deep quickly, on its signature', async () => {
    const claims = withRawMembers(supabaseClaims(), `"deep":${'['.repeat(2000)}${']'.repeat(2000)}`);
    await within(1000, () => expectOutcome(rawJws(json(HS), claims, randomBytes(32)), unauthorized('JWT_SIGNATURE_INVALID')));
    const objects = withRawMembers(supabaseClaims(), `"deep":${'{"a":'.repeat(800)}1${'}'.repeat(800)}`);
    await within(1000, () => expectOutcome(rawJws(json(esHeader()), objects, randomBytes(64)), unauthorized('JWT_SIGNATURE_INVALID')));
  });

  attack('refuses a forged token whose header nests 2000 deep quickly, on its signature', async () => {
    const header = withRawMembers(HS, `"x":${'['.repeat(2000)}${']'.repeat(2000)}`);
    await within(1000, () => expectOutcome(rawJws(header, json(supabaseClaims()), randomBytes(32)), unauthorized('JWT_SIGNATURE_INVALID')));
  });
});

// =============================================================================================================

category('non-canonical base64url', () => {
  const genuine = () => jws(HS, supabaseClaims(), supabaseHs);
  const parts = (token: string) => token.split('.') as [string, string, string];

  attack('refuses base64 padding at the end of the signature', async () => {
    await expectOutcome(`${genuine()}=`, unauthorized('CREDENTIAL_UNRECOGNIZED'));
  });

  attack('refuses base64 padding inside the header or the payload', async () => {
    const [h, p, s] = parts(genuine());
    await expectOutcome(`${h}==.${p}.${s}`, unauthorized('AUTHORIZATION_MALFORMED'));
    await expectOutcome(`${h}.${p}=.${s}`, unauthorized('AUTHORIZATION_MALFORMED'));
    await expectOutcome(`${h}.${p}.${s}%3D`, unauthorized('AUTHORIZATION_MALFORMED'));
  });

  attack('refuses whitespace inside or around a segment', async () => {
    const [h, p, s] = parts(genuine());
    for (const token of [`${h}.${p.slice(0, 10)} ${p.slice(10)}.${s}`, `${h}.${p}\t.${s}`, `${h}\n.${p}.${s}`, `${h}.${p}.${s}\n`, `${h}.${p}.${s} `, ` ${h}.${p}.${s}`]) {
      await expectOutcome(token, unauthorized('AUTHORIZATION_MALFORMED'));
    }
  });

  attack('refuses the standard base64 alphabet (+ and /) in header, payload and signature', async () => {
    const toStd = (seg: string) => seg.replace(/-/g, '+').replace(/_/g, '/');
    const has = (seg: string) => /[-_]/.test(seg);
    // The header and payload are chosen (and the token re-signed) so that each holds a - or _ to swap.
    let filler = 0;
    let h = '';
    let p = '';
    let s = '';
    for (; filler < 200; filler++) {
      [h, p, s] = parts(jws({ ...HS, x: '?>'.repeat(filler % 7 + 1) }, supabaseClaims({ note: '?>~'.repeat(filler) }), supabaseHs));
      if (has(h) && has(p) && has(s)) break;
    }
    expect(has(h) && has(p) && has(s)).toBe(true);
    await expectOutcome(`${h}.${p}.${s}`, ALLOWED);
    await expectOutcome(`${toStd(h)}.${p}.${s}`, unauthorized('CREDENTIAL_UNRECOGNIZED'));
    await expectOutcome(`${h}.${toStd(p)}.${s}`, unauthorized('CREDENTIAL_UNRECOGNIZED'));
    await expectOutcome(`${h}.${p}.${toStd(s)}`, unauthorized('CREDENTIAL_UNRECOGNIZED'));
  });

  attack('refuses a header whose unused bits are set, though it is signed exactly as sent', async () => {
    const header = withUnusedBitsSet(b64u(withUnusedBits(HS)));
    const payload = b64u(json(supabaseClaims()));
    await expectOutcome(jwsFromSegments(header, payload, supabaseHs), unauthorized('JWT_MALFORMED'));
  });

  attack('refuses a payload whose unused bits are set, though it is signed exactly as sent', async () => {
    const payload = withUnusedBitsSet(b64u(withUnusedBits(supabaseClaims())));
    await expectOutcome(jwsFromSegments(b64u(json(HS)), payload, supabaseHs), unauthorized('JWT_MALFORMED'));
    await expectOutcome(jwsFromSegments(b64u(json(esHeader())), payload, supabaseEs), unauthorized('JWT_MALFORMED'));
  });

  attack('refuses a genuine HS256, ES256 or RS256 signature respelled with its unused bits set', async () => {
    for (const [token, authorize] of [
      [jws(HS, supabaseClaims(), supabaseHs), fx.authorizer()],
      [jws(esHeader(), supabaseClaims(), supabaseEs), fx.authorizer()],
      [jws(rsHeader(), oidcClaims(), oidcRs), fx.authorizer()],
    ] as const) {
      const [h, p, s] = parts(token);
      expect(await outcome(token, authorize)).toEqual(ALLOWED);
      await expectOutcome(`${h}.${p}.${withUnusedBitsSet(s)}`, unauthorized('JWT_MALFORMED'), authorize);
    }
  });

  attack('refuses a dangling character that no whole byte accounts for, in signature or header', async () => {
    const [h, p, s] = parts(genuine());
    // A 43-character HS256 signature plus two characters is 45: length 4n+1, which decodes to nothing more.
    await expectOutcome(`${h}.${p}.${s}AA`, unauthorized('JWT_MALFORMED'));
    const header = b64u(withUnusedBits(HS));
    const dangling = header.length % 4 === 0 ? `${header}A` : header.length % 4 === 2 ? `${header}AAA` : `${header}AA`;
    await expectOutcome(jwsFromSegments(dangling, p, supabaseHs), unauthorized('JWT_MALFORMED'));
  });
});

// =============================================================================================================

category('time claims (exp, nbf, iat)', () => {
  // A fixed clock: jose reads the time from the authorizer's `now`, so boundaries are exact to the second.
  let T: number;
  let at: (seconds: number) => Authorize;
  beforeAll(() => {
    T = nowSeconds();
    at = (seconds) => fx.authorizer({}, { now: () => seconds * 1000 });
  });
  const token = (claims: Record<string, unknown>) => jws(HS, supabaseClaims(claims, T), supabaseHs);
  const tokenText = (text: string) => rawJws(json(HS), text, supabaseHs);

  attack('accepts exp 29 s in the past (inside the 30 s tolerance)', async () => {
    await expectOutcome(token({ exp: T - 29 }), ALLOWED, at(T));
  });

  attack('refuses exp exactly 30 s in the past: exp + tolerance must be later than now', async () => {
    await expectOutcome(token({ exp: T - 30 }), unauthorized('JWT_EXPIRED'), at(T));
  });

  attack('refuses exp 31 s in the past', async () => {
    await expectOutcome(token({ exp: T - 31 }), unauthorized('JWT_EXPIRED'), at(T));
  });

  attack('accepts nbf exactly 30 s ahead and refuses it 31 s ahead', async () => {
    await expectOutcome(token({ nbf: T + 30 }), ALLOWED, at(T));
    await expectOutcome(token({ nbf: T + 31 }), unauthorized('JWT_NOT_YET_VALID'), at(T));
  });

  attack('accepts iat exactly 30 s ahead (clock skew)', async () => {
    await expectOutcome(token({ iat: T + 30 }), ALLOWED, at(T));
  });

  attack('refuses iat 31 s in the future as not yet valid', async () => {
    await expectOutcome(token({ iat: T + 31 }), unauthorized('JWT_NOT_YET_VALID'), at(T));
  });

  attack('refuses an absurd iat (1e20) as not yet valid', async () => {
    await expectOutcome(token({ iat: 1e20 }), unauthorized('JWT_NOT_YET_VALID'), at(T));
  });

  attack('refuses iat older than maxTokenAge plus the tolerance, and a token minted to outlive maxTokenAge at once', async () => {
    await expectOutcome(token({ iat: T - 86_400 - 31 }), unauthorized('JWT_TOO_OLD'), at(T));
    // Lifetime (exp - iat) exactly the cap: good until exp. One second more: refused now, not only once it has aged.
    await expectOutcome(token({ iat: T, exp: T + 86_400 }), ALLOWED, at(T));
    await expectOutcome(token({ iat: T, exp: T + 86_400 }), ALLOWED, at(T + 86_400 + 29));
    await expectOutcome(token({ iat: T, exp: T + 86_401 }), unauthorized('JWT_LIFETIME_TOO_LONG'), at(T));
    await expectOutcome(token({ iat: T, exp: 1e20 }), unauthorized('JWT_LIFETIME_TOO_LONG'), at(T));
  });

  attack('refuses a negative or zero iat as too old', async () => {
    await expectOutcome(token({ iat: -1 }), unauthorized('JWT_TOO_OLD'), at(T));
    await expectOutcome(token({ iat: 0 }), unauthorized('JWT_TOO_OLD'), at(T));
  });

  attack('does not let an absurd exp (1e20, or 1e400 which parses as Infinity) outlive maxTokenAge', async () => {
    await expectOutcome(token({ exp: 1e20 }), unauthorized('JWT_TOO_OLD'), at(T + 86_400 + 31));
    const infinite = tokenText(withRawMembers(without(supabaseClaims({}, T), 'exp'), '"exp":1e400'));
    await expectOutcome(infinite, unauthorized('JWT_TOO_OLD'), at(T + 86_400 + 31));
  });

  attack('refuses a negative exp as expired', async () => {
    await expectOutcome(token({ exp: -1 }), unauthorized('JWT_EXPIRED'), at(T));
    await expectOutcome(token({ exp: -1e20 }), unauthorized('JWT_EXPIRED'), at(T));
  });

  attack('refuses exp given as a string, a NaN-like string, a boolean, null, an array or an object', async () => {
    for (const exp of ['9999999999', 'NaN', 'Infinity', '', true, null, [9_999_999_999], { $gt: 0 }]) {
      await expectOutcome(token({ exp }), unauthorized('JWT_CLAIM_INVALID'), at(T));
    }
  });

  attack('refuses nbf and iat given as strings or booleans', async () => {
    for (const claims of [{ nbf: '0' }, { nbf: false }, { iat: String(T) }, { iat: true }]) {
      await expectOutcome(token(claims), unauthorized('JWT_CLAIM_INVALID'), at(T));
    }
  });

  attack('refuses a Supabase token with neither exp nor iat (iat is required while maxTokenAge is on)', async () => {
    await expectOutcome(tokenText(json(without(supabaseClaims({}, T), 'exp', 'iat'))), unauthorized('JWT_CLAIM_MISSING'), at(T));
  });

  attack('refuses a Supabase token with iat but no exp: exp is required of every issuer', async () => {
    const noExp = tokenText(json(without(supabaseClaims({}, T), 'exp')));
    await expectOutcome(noExp, unauthorized('JWT_CLAIM_MISSING'), at(T));
  });

  attack('refuses a Supabase token with neither exp nor iat even where maxTokenAge is turned off', async () => {
    const [supabase, oidc] = fx.config.issuers!;
    const ageless = (seconds: number) => fx.authorizer({ issuers: [{ ...supabase!, maxTokenAgeSeconds: 0 }, oidc!] }, { now: () => seconds * 1000 });
    const eternal = tokenText(json(without(supabaseClaims({}, T), 'exp', 'iat')));
    await expectOutcome(eternal, unauthorized('JWT_CLAIM_MISSING'), ageless(T + 10 * 365 * 86_400));
  });
});

// =============================================================================================================

category('audience, issuer and required claims', () => {
  const hsToken = (claims: Record<string, unknown>) => jws(HS, claims, supabaseHs);

  for (const claim of ['sub', 'role', 'aud']) {
    attack(`refuses a Supabase token without ${claim}`, async () => {
      await expectOutcome(hsToken(without(supabaseClaims(), claim)), unauthorized('JWT_CLAIM_MISSING'));
    });
  }

  attack('refuses an OIDC token without sub or aud', async () => {
    await expectOutcome(jws(rsHeader(), without(oidcClaims(), 'sub'), oidcRs), unauthorized('JWT_CLAIM_MISSING'));
    await expectOutcome(jws(rsHeader(), without(oidcClaims(), 'aud'), oidcRs), unauthorized('JWT_CLAIM_MISSING'));
  });

  attack('refuses a sub that is null as missing, and one that is not an identifier as invalid', async () => {
    await expectOutcome(hsToken(supabaseClaims({ sub: null })), unauthorized('JWT_CLAIM_MISSING'));
    for (const sub of [42, '', 'a b', 'x'.repeat(257), 'u/../admin', ['u-1'], { id: 'u-1' }]) {
      await expectOutcome(hsToken(supabaseClaims({ sub })), unauthorized('JWT_CLAIM_INVALID'));
    }
  });

  attack('accepts an aud array that contains the audience among others (RFC 7519 4.1.3)', async () => {
    await expectOutcome(hsToken(supabaseClaims({ aud: ['other-app', 'authenticated'] })), ALLOWED);
    await expectOutcome(jws(rsHeader(), oidcClaims({ aud: ['gatehouse-api', 'other-app'] }), oidcRs), ALLOWED);
  });

  attack('refuses an aud that does not contain the audience exactly', async () => {
    for (const aud of [['other-app'], [], 'Authenticated', 'authenticated ', 'authenticated,other', [['authenticated']], 42, { 0: 'authenticated' }]) {
      await expectOutcome(hsToken(supabaseClaims({ aud })), unauthorized('JWT_AUDIENCE_MISMATCH'));
    }
    await expectOutcome(jws(rsHeader(), oidcClaims({ aud: ['other-app'] }), oidcRs), unauthorized('JWT_AUDIENCE_MISMATCH'));
  });

  attack('refuses Supabase iss variants: trailing slash, other case, whitespace, another scheme, the bare project URL', async () => {
    const url = new URL(supabaseIss);
    for (const iss of [
      `${supabaseIss}/`,
      supabaseIss.replace('/auth/v1', '/Auth/v1'),
      supabaseIss.replace('http://', 'HTTP://'),
      ` ${supabaseIss}`,
      `${supabaseIss} `,
      `${supabaseIss}\n`,
      supabaseIss.replace('http://', 'https://'),
      `${url.protocol}//${url.host}`,
      `${supabaseIss}/../v1`,
      `${supabaseIss}?x=1`,
    ]) {
      await expectOutcome(hsToken(supabaseClaims({ iss })), unauthorized('JWT_ISSUER_UNKNOWN'));
    }
  });

  attack('refuses an iss given as an array, an object, null or missing', async () => {
    for (const iss of [[supabaseIss], [supabaseIss, fx.oidcIssuer], { iss: supabaseIss }, null]) {
      await expectOutcome(hsToken(supabaseClaims({ iss })), unauthorized('JWT_ISSUER_UNKNOWN'));
    }
    await expectOutcome(hsToken(without(supabaseClaims(), 'iss')), unauthorized('JWT_ISSUER_UNKNOWN'));
  });

  attack('refuses OIDC iss variants: without its trailing slash, with two, in another case', async () => {
    for (const iss of ['https://login.example.com', 'https://login.example.com//', 'https://LOGIN.example.com/', [fx.oidcIssuer]]) {
      await expectOutcome(jws(rsHeader(), oidcClaims({ iss }), oidcRs), unauthorized('JWT_ISSUER_UNKNOWN'));
    }
  });
});

// =============================================================================================================

category('cross-issuer keys', () => {
  attack('refuses a Supabase token signed with the OIDC key and kid, without touching the OIDC JWKS', async () => {
    const before = fx.oidcJwks.fetches();
    await expectOutcome(jws(rsHeader(), supabaseClaims(), oidcRs), unauthorized('JWT_KID_UNKNOWN'));
    expect(fx.oidcJwks.fetches() - before).toBe(0);
  });

  attack('refuses an OIDC token signed with the Supabase key and kid: the OIDC issuer pins RS256', async () => {
    await expectOutcome(jws(esHeader(), oidcClaims(), supabaseEs), unauthorized('JWT_ALG_NOT_ALLOWED'));
  });

  attack('refuses an OIDC token carrying the Supabase kid under RS256, without touching the Supabase JWKS', async () => {
    const stranger = privateKeyObject(await makeKey('RS256'));
    const before = fx.supabaseJwks.fetches();
    await expectOutcome(jws(rsHeader({ kid: fx.supabaseKey.kid }), oidcClaims(), rs256(stranger)), unauthorized('JWT_KID_UNKNOWN'));
    expect(fx.supabaseJwks.fetches() - before).toBe(0);
  });

  attack('refuses a Supabase RS256 token naming the Supabase EC kid but signed by the OIDC RSA key', async () => {
    await expectOutcome(jws(rsHeader({ kid: fx.supabaseKey.kid }), supabaseClaims(), oidcRs), unauthorized('JWT_KID_UNKNOWN'));
  });

  attack('refuses a Supabase token signed by the Supabase key but naming the OIDC kid', async () => {
    await expectOutcome(jws(esHeader({ kid: fx.oidcKey.kid }), supabaseClaims(), supabaseEs), unauthorized('JWT_KID_UNKNOWN'));
  });

  attack('refuses an OIDC token MACed with the Supabase HS256 secret', async () => {
    await expectOutcome(jws(HS, oidcClaims(), supabaseHs), unauthorized('JWT_ALG_NOT_ALLOWED'));
  });
});

// =============================================================================================================

category('weak HMAC secrets', () => {
  // An empty value is stored as no value at all (the secret has no AWSCURRENT version), so the read itself fails:
  // still a 500, but without the `weak` mark the other cases carry.
  const WEAK: readonly (readonly [label: string, secret: string | Uint8Array, storedAsWritten: boolean])[] = [
    ['0 bytes', '', false],
    ['1 byte', 'x', true],
    ['31 bytes', randomBytes(31), true],
    ['31 bytes of text', 'a'.repeat(31), true],
    ['32 spaces (whitespace only)', ' '.repeat(32), true],
    ['64 bytes of mixed whitespace', ' \t\r\n'.repeat(16), true],
  ];
  const ids = new Map<string, string>();

  beforeAll(async () => {
    const sm = secretsClient();
    try {
      for (const [label, secret] of WEAK) {
        const id = uniqueName('weak-jwt');
        await sm.send(new CreateSecretCommand({ Name: id, ...(typeof secret === 'string' ? { SecretString: secret } : { SecretBinary: secret }) }));
        ids.set(label, id);
      }
    } finally {
      sm.destroy();
    }
  });

  for (const [label, secret, storedAsWritten] of WEAK) {
    attack(`fails closed (500) on an HS256 secret of ${label}, even for a token MACed with it`, async () => {
      const authorize = fx.authorizer({ issuers: [{ type: 'supabase', url: fx.supabaseUrl, hs256SecretId: ids.get(label)!, jwks: false }] });
      await expectOutcome(jws(HS, supabaseClaims(), hs256(secret)), failed('JWT_SECRET_UNAVAILABLE'), authorize);
      // Refused for its strength, not because it could not be read.
      expect(lastDecision()).toMatchObject(storedAsWritten ? { weak: true } : { causeName: 'ResourceNotFoundException' });
    });
  }
});

// =============================================================================================================

category('Supabase roles, anonymous users and tenant smuggling', () => {
  const hsToken = (claims: Record<string, unknown>) => jws(HS, claims, supabaseHs);
  const anonKeyClaims = (role: string, iss: string) => ({ iss, ref: 'abcdefghijklmnop', role, iat: nowSeconds() - 86_400 * 30, exp: nowSeconds() + 10 * 365 * 86_400 });

  attack('refuses the anon and service_role keys as Supabase issues them (iss "supabase")', async () => {
    await expectOutcome(hsToken(anonKeyClaims('anon', 'supabase')), unauthorized('JWT_ISSUER_UNKNOWN'));
    await expectOutcome(hsToken(anonKeyClaims('service_role', 'supabase')), unauthorized('JWT_ISSUER_UNKNOWN'));
  });

  attack('refuses anon and service_role keys under the project issuer (no sub)', async () => {
    const now = nowSeconds();
    await expectOutcome(hsToken({ ...anonKeyClaims('anon', supabaseIss), iat: now, aud: 'authenticated' }), unauthorized('JWT_CLAIM_MISSING'));
    await expectOutcome(hsToken({ ...anonKeyClaims('service_role', supabaseIss), iat: now, aud: 'authenticated' }), unauthorized('JWT_CLAIM_MISSING'));
  });

  attack('refuses role anon and service_role even with a subject, audience and tenant', async () => {
    await expectOutcome(hsToken(supabaseClaims({ role: 'anon' })), unauthorized('JWT_ROLE_NOT_ALLOWED'));
    await expectOutcome(hsToken(supabaseClaims({ role: 'service_role' })), unauthorized('JWT_ROLE_NOT_ALLOWED'));
    await expectOutcome(jws(esHeader(), supabaseClaims({ role: 'service_role' }), supabaseEs), unauthorized('JWT_ROLE_NOT_ALLOWED'));
  });

  attack('refuses role as an array, in another case, padded, or as another type', async () => {
    for (const role of [['authenticated'], 'Authenticated', 'AUTHENTICATED', ' authenticated', 'authenticated\u0000', true, null, { role: 'authenticated' }]) {
      await expectOutcome(hsToken(supabaseClaims({ role })), unauthorized('JWT_ROLE_NOT_ALLOWED'));
    }
  });

  attack('denies (403) an anonymous user where anonymous users are not allowed', async () => {
    await expectOutcome(hsToken(supabaseClaims({ is_anonymous: true })), forbidden('JWT_ANONYMOUS_NOT_ALLOWED'));
    await expectOutcome(jws(esHeader(), supabaseClaims({ is_anonymous: true }), supabaseEs), forbidden('JWT_ANONYMOUS_NOT_ALLOWED'));
  });

  attack('never takes the tenant from user_metadata', async () => {
    const { status, result } = await decide(fx.authorizer(), hsToken(supabaseClaims({ app_metadata: {}, user_metadata: { tenant_id: 'globex' } })));
    expect({ status, reason: fx.lastReason() }).toEqual(forbidden('TENANT_MISSING'));
    expect(JSON.stringify(result)).not.toContain('globex');
  });

  attack('keeps the app_metadata tenant when user_metadata names another', async () => {
    const { status, result } = await decide(fx.authorizer(), hsToken(supabaseClaims({ user_metadata: { tenant_id: 'globex', app_metadata: { tenant_id: 'globex' } } })));
    expect({ status, reason: fx.lastReason() }).toEqual(ALLOWED);
    expect(result!.context!.tenantId).toBe('acme');
    expect(JSON.stringify(result)).not.toContain('globex');
  });

  attack('never takes the tenant from another key of app_metadata or from the top level', async () => {
    for (const claims of [
      { app_metadata: { tenant: 'globex' } },
      { app_metadata: { tenantId: 'globex' } },
      { app_metadata: { org_id: 'globex' } },
      { app_metadata: { 'tenant_id ': 'globex' } },
      { app_metadata: { provider: 'email' }, tenant_id: 'globex' },
      { app_metadata: { provider: 'email' }, 'app_metadata.tenant_id': 'globex' },
    ]) {
      await expectOutcome(hsToken(supabaseClaims(claims)), forbidden('TENANT_MISSING'));
    }
  });

  attack('refuses a tenant id that is not a plain identifier', async () => {
    for (const tenant_id of [{ $ne: null }, ['acme'], 42, 'acme ', 'acme/../globex', 'acme\u0000', '']) {
      await expectOutcome(hsToken(supabaseClaims({ app_metadata: { tenant_id } })), unauthorized('JWT_CLAIM_INVALID'));
    }
  });

  attack('takes roles only from app_metadata, never from user_metadata', async () => {
    const { status, result } = await decide(fx.authorizer(), hsToken(supabaseClaims({ app_metadata: { tenant_id: 'acme' }, user_metadata: { roles: ['admin'] } })));
    expect(status).toBe(200);
    expect(result!.context!.roles).toBe('');
  });
});

// =============================================================================================================

category('prototype pollution claims', () => {
  const hsText = (text: string) => rawJws(json(HS), text, supabaseHs);

  afterEach(() => {
    // Whatever the payloads held, the prototype every object shares stays clean.
    const probe = {} as Record<string, unknown>;
    expect([probe.role, probe.tenant_id, probe.app_metadata, probe.org]).toEqual([undefined, undefined, undefined, undefined]);
  });

  attack('refuses a role smuggled under a top-level __proto__ as missing', async () => {
    const text = withRawMembers(without(supabaseClaims(), 'role', 'app_metadata'), '"__proto__":{"role":"authenticated","app_metadata":{"tenant_id":"acme"},"tenant_id":"acme"}');
    await expectOutcome(hsText(text), unauthorized('JWT_CLAIM_MISSING'));
  });

  attack('refuses a role smuggled under constructor.prototype as missing', async () => {
    const text = withRawMembers(without(supabaseClaims(), 'role'), '"constructor":{"prototype":{"role":"authenticated"}}');
    await expectOutcome(hsText(text), unauthorized('JWT_CLAIM_MISSING'));
  });

  attack('never reads a tenant smuggled under app_metadata.__proto__', async () => {
    const text = withRawMembers(without(supabaseClaims(), 'app_metadata'), '"app_metadata":{"__proto__":{"tenant_id":"acme"}}');
    await expectOutcome(hsText(text), forbidden('TENANT_MISSING'));
  });

  attack('never reads a tenant smuggled under a top-level __proto__ app_metadata', async () => {
    const text = withRawMembers(without(supabaseClaims(), 'app_metadata'), '"__proto__":{"app_metadata":{"tenant_id":"acme"}}');
    await expectOutcome(hsText(text), forbidden('TENANT_MISSING'));
  });

  attack('never reads a tenant smuggled under app_metadata.constructor.prototype', async () => {
    const text = withRawMembers(without(supabaseClaims(), 'app_metadata'), '"app_metadata":{"constructor":{"prototype":{"tenant_id":"acme"}}}');
    await expectOutcome(hsText(text), forbidden('TENANT_MISSING'));
  });

  attack('never grants roles smuggled under app_metadata.__proto__ to an otherwise valid user', async () => {
    const text = withRawMembers(without(supabaseClaims(), 'app_metadata'), '"app_metadata":{"tenant_id":"acme","__proto__":{"roles":["admin"],"tenant_id":"globex"}}');
    const { status, result } = await decide(fx.authorizer(), hsText(text));
    expect({ status, reason: fx.lastReason() }).toEqual(ALLOWED);
    expect(result!.context).toMatchObject({ tenantId: 'acme', roles: '' });
    expect(JSON.stringify(result)).not.toMatch(/admin|globex/);
  });

  attack('looks up a tenant id of __proto__ or constructor like any other, and finds none', async () => {
    for (const tenant_id of ['__proto__', 'constructor', 'hasOwnProperty']) {
      await expectOutcome(jws(HS, supabaseClaims({ app_metadata: { tenant_id } }), supabaseHs), forbidden('TENANT_UNKNOWN'));
    }
  });

  attack('never reads an OIDC tenant smuggled under __proto__', async () => {
    const text = withRawMembers(without(oidcClaims(), 'org'), '"__proto__":{"org":"acme","scope":"customers:read"}');
    await expectOutcome(rawJws(json(rsHeader()), text, oidcRs), forbidden('TENANT_MISSING'));
  });
});

// =============================================================================================================

category('the same attacks on an HTTP API (payload 2.0): a Deny, never an Allow, never a 401', () => {
  const http = async (token: string, authorize?: Authorize) => outcome(token, authorize, 'http-2.0');

  attack('refuses HS256 keyed with the Supabase ES256 public key, in every form, with a Deny (JWT_SIGNATURE_INVALID)', async () => {
    const authorize = fx.authorizer();
    for (const [form, secret] of EC_FORMS) {
      const token = jws({ ...HS, kid: fx.supabaseKey.kid }, supabaseClaims(), hs256(secret(fx.supabaseKey)));
      expect({ form, ...(await http(token, authorize)) }).toEqual({ form, ...forbidden('JWT_SIGNATURE_INVALID') });
    }
  });

  attack('refuses HS256 keyed with the OIDC RS256 public key, in every form, with a Deny (JWT_ALG_NOT_ALLOWED)', async () => {
    const authorize = fx.authorizer();
    for (const [form, secret] of RSA_FORMS) {
      const token = jws({ ...HS, kid: fx.oidcKey.kid }, oidcClaims(), hs256(secret(fx.oidcKey)));
      expect({ form, ...(await http(token, authorize)) }).toEqual({ form, ...forbidden('JWT_ALG_NOT_ALLOWED') });
    }
  });

  attack("refuses alg none, an unsigned token and a token signed with another issuer's key with a Deny and REST's reason", async () => {
    const tokens = [
      `${b64u(json({ alg: 'none', typ: 'JWT' }))}.${b64u(json(supabaseClaims()))}.`,
      `${b64u(json({ alg: 'none', typ: 'JWT' }))}.${b64u(json(supabaseClaims()))}.${b64u('x')}`,
      jws(rsHeader(), supabaseClaims(), oidcRs),
    ];
    for (const token of tokens) {
      const rest = await outcome(token);
      expect(rest.status).toBe(401);
      expect(await http(token)).toEqual(forbidden(rest.reason as ReasonCode));
    }
  });

  attack('allows the genuine token of each signer, so the refusals above are about the attack', async () => {
    for (const token of [jws(HS, supabaseClaims(), supabaseHs), jws(esHeader(), supabaseClaims(), supabaseEs), jws(rsHeader(), oidcClaims(), oidcRs)]) {
      expect(await http(token)).toEqual(ALLOWED);
    }
  });
});

// =============================================================================================================

describe('JWT: coverage', () => {
  it('has at least one case in every category', () => {
    expect(COUNTS.size).toBeGreaterThanOrEqual(14);
    for (const [name, count] of COUNTS) expect({ name, count: count > 0 }).toEqual({ name, count: true });
  });
});
