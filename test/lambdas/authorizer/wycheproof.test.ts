import { CreateSecretCommand, GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { type JWK, type JWTVerifyGetKey, compactVerify, createLocalJWKSet } from 'jose';
import { JWT_ALGORITHMS, type JwtAlgorithm } from '../../../contract/config';
import type { ReasonCode } from '../../../lambdas/authorizer/errors';
import { MIN_HS256_SECRET_BYTES } from '../../../lambdas/authorizer/jwt';
import { type PolicyDocument, evaluatePolicy } from '../../../lambdas/authorizer/policy';
import { secretsClient, uniqueName } from '../../support/aws';
import { API_ARN_PREFIX, type Fixture, authorizerEvent, createFixture } from '../../support/fixture';

/*
 * The public Wycheproof JWS vectors (C2SP/wycheproof, testvectors_v1/json_web_signature_test.json, copied into
 * test/vectors/wycheproof/ with its source and licence), run two ways:
 *
 * (a) End to end: every vector, as is, goes through the real handler, configured with one issuer that trusts
 *     exactly that group's public key (HMAC groups: the raw key as an HS256 secret in the emulator). Nothing may
 *     yield Allow. This cannot prove anything about signatures: the vectors' payloads are not JWT claim sets
 *     ("foo", "Test", "123400", RFC 7520 prose) and carry no `iss`, and an `iss` cannot be added without breaking
 *     the signature. So the handler refuses them before choosing an issuer, and (a) proves only that its
 *     front (classification, strict base64url, JSON) is closed to them.
 * (b) Signature level: jose's compactVerify with the group's key, through the same kind of key getter the
 *     authorizer builds for a static JWKS (createLocalJWKSet) or the raw HMAC secret, checked twice:
 *     - pinned to the group key's own algorithm, against the file's labels: every disagreement must be listed
 *       below with its reason (mislabelled vectors, and leniencies of jose that the authorizer covers itself);
 *     - pinned to the algorithms the authorizer's issuer is configured with: nothing verifies that is not
 *       genuinely valid, except the listed jose leniencies, which (a) shows the handler refuses on its own.
 */

const VECTORS_PATH = path.resolve(__dirname, '../../vectors/wycheproof/json_web_signature_test.json');

type Label = 'valid' | 'invalid' | 'acceptable';

interface WycheproofTest {
  readonly tcId: number;
  readonly comment: string;
  readonly jws: unknown;
  readonly result: Label;
  readonly flags: readonly string[];
}

interface WycheproofGroup {
  readonly comment: string;
  readonly public?: JWK;
  readonly private?: JWK;
  readonly tests: readonly WycheproofTest[];
}

interface WycheproofFile {
  readonly numberOfTests: number;
  readonly testGroups: readonly WycheproofGroup[];
}

/**
 * Vectors whose label is wrong. `correct` is what a verifier that trusts the group's key must decide; jose
 * decides exactly that, so these are the vectors where jose and the file disagree because of the file.
 */
const KNOWN_MISLABELLED: Readonly<Record<number, { readonly correct: 'valid' | 'invalid'; readonly reason: string }>> = {
  346: {
    correct: 'invalid',
    reason: 'RFC 7520 Figure 20 ("rfc7520" group): the token header says PS384, but the group key declares alg PS256; a verifier that honours the key\'s alg must refuse',
  },
  350: { correct: 'invalid', reason: 'the same Figure 20 token in the "rfc7520WithKeyOps" group: header PS384, key alg PS256' },
  347: {
    correct: 'invalid',
    reason: 'RFC 7520 Figure 27 ("rfc7520" group): the header says ES512, but the group key declares alg "ES521", which is no JWS algorithm (RFC 7518 3.4 names ES512 for P-521); no key matches',
  },
  351: { correct: 'invalid', reason: 'the same Figure 27 token in the "rfc7520WithKeyOps" group: header ES512, key alg "ES521"' },
  367: {
    correct: 'valid',
    reason: 'commented "invalidBase64Padding" but byte-identical to tcId 357 (ValidMac, labelled valid): no padding was inserted',
  },
  370: {
    correct: 'valid',
    reason: 'commented "invalidBase64PaddingInPayload" but byte-identical to tcId 357 (ValidMac, labelled valid)',
  },
  372: {
    correct: 'invalid',
    reason: 'commented "InvalidCharacterInsertedInHeader" but labelled valid: the header segment contains "?", which is not base64url',
  },
  373: {
    correct: 'invalid',
    reason: 'commented "InvalidCharacterInsertedInPayload" but labelled valid: the payload segment ends in "?", which is not base64url, and the MAC no longer covers the signing input',
  },
};

/**
 * Vectors labelled invalid, rightly, that jose 6.2.18 accepts on Node 20: jose decodes base64url with `atob`,
 * whose forgiving decoder drops ASCII whitespace and ignores non-zero unused bits. Each entry names the
 * authorizer's own check that refuses it before jose is called; (a) asserts that exact reason.
 */
const JOSE_LENIENT: Readonly<Record<number, { readonly reason: string; readonly refusedBy: { readonly reason: ReasonCode; readonly part?: string } }>> = {
  360: {
    reason: 'spaces before the MAC segment: atob skips whitespace, so jose verifies the MAC',
    refusedBy: { reason: 'AUTHORIZATION_MALFORMED' },
  },
  365: {
    reason: 'spaces after the header segment (and the MAC is over the spaced signing input): atob skips whitespace',
    refusedBy: { reason: 'AUTHORIZATION_MALFORMED' },
  },
  368: {
    reason: 'spaces before the payload segment (and the MAC is over the spaced signing input): atob skips whitespace',
    refusedBy: { reason: 'AUTHORIZATION_MALFORMED' },
  },
  375: {
    reason: 'payload segment "AB" has non-zero unused bits (the canonical spelling is "AA") and the MAC is over "AB" as sent: atob ignores the bits',
    refusedBy: { reason: 'JWT_MALFORMED', part: 'encoding' },
  },
};

function loadVectors(): WycheproofFile {
  if (!existsSync(VECTORS_PATH)) {
    throw new Error(
      `Wycheproof JWS vectors not found at ${VECTORS_PATH} (test/vectors/wycheproof/README.md says where they come from); ` +
        'this suite fails rather than skips without them.',
    );
  }
  const file = JSON.parse(readFileSync(VECTORS_PATH, 'utf8')) as WycheproofFile;
  if (!Array.isArray(file.testGroups) || !file.testGroups.length) throw new Error(`${VECTORS_PATH} holds no testGroups`);
  return file;
}

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

/** The JWS algorithm a key is for: its own `alg`, or the usual one for its type when it names none. */
function keyAlgorithm(jwk: JWK): string {
  if (typeof jwk.alg === 'string') return jwk.alg;
  switch (jwk.kty) {
    case 'oct':
      return 'HS256';
    case 'RSA':
      return 'RS256';
    case 'EC':
      return ({ 'P-256': 'ES256', 'P-384': 'ES384', 'P-521': 'ES512' } as Record<string, string>)[String(jwk.crv)] ?? unexpected(`curve ${jwk.crv}`);
    case 'OKP':
      return 'EdDSA';
    default:
      return unexpected(`key type ${jwk.kty}`);
  }
}

function unexpected(what: string): never {
  throw new Error(`unexpected ${what} in a test group key: the vector file's schema changed`);
}

// When the authorizer cannot be configured with a key's algorithm (RS384, PS512, ES512...), its issuer still trusts
// that key, pinned to what the authorizer supports for the key type: the nearest configuration it can express.
const SUPPORTED_FOR_KEY_TYPE: Readonly<Record<string, readonly JwtAlgorithm[]>> = {
  oct: ['HS256'],
  RSA: ['RS256', 'PS256'],
  EC: ['ES256', 'ES384'],
  OKP: ['EdDSA'],
};

interface Group {
  readonly index: number;
  readonly name: string;
  /** The algorithm the group's key declares (or implies). */
  readonly alg: string;
  /** Whether the authorizer can be configured with `alg`. */
  readonly algSupported: boolean;
  /** What the authorizer's issuer for this group pins. */
  readonly issuerAlgorithms: readonly JwtAlgorithm[];
  readonly issuer: string;
  /** HMAC groups: the raw key bytes. */
  readonly secret?: Uint8Array;
  /** Asymmetric groups: the public members only (config validation refuses private ones). */
  readonly publicJwk?: JWK;
  readonly tests: readonly WycheproofTest[];
}

function toGroup(g: WycheproofGroup, index: number): Group {
  const key = g.public ?? g.private;
  if (!key) throw new Error(`test group ${index} (${g.comment}) has no public or private key: the vector file's schema changed`);
  const alg = keyAlgorithm(key);
  const algSupported = (JWT_ALGORITHMS as readonly string[]).includes(alg);
  const issuerAlgorithms = algSupported ? [alg as JwtAlgorithm] : (SUPPORTED_FOR_KEY_TYPE[String(key.kty)] ?? []);
  const base = {
    index,
    name: `group ${index} (${g.comment}, ${key.kty} ${alg})`,
    alg,
    algSupported,
    issuerAlgorithms,
    issuer: `https://wycheproof.test/groups/${index}`,
    tests: g.tests,
  };
  if (key.kty === 'oct') return { ...base, secret: Buffer.from(String(key.k), 'base64url') };
  return { ...base, publicJwk: Object.fromEntries(Object.entries(key).filter(([m]) => !PRIVATE_MEMBERS.includes(m))) as JWK };
}

/** JSON serialization cannot travel in an Authorization header; such vectors are sent as their JSON text. */
const isJsonSerialization = (t: WycheproofTest) => typeof t.jws !== 'string' || /^\s*\{/.test(t.jws);
const bearerValue = (t: WycheproofTest) => (typeof t.jws === 'string' ? t.jws : JSON.stringify(t.jws));
const expectedLabel = (t: WycheproofTest): Label => KNOWN_MISLABELLED[t.tcId]?.correct ?? t.result;

const vectors = loadVectors();
const groups = vectors.testGroups.map(toGroup);
const allTests = groups.flatMap((g) => g.tests);

/** Counts of what was actually checked, asserted at the end so that an empty or truncated file fails. */
const checked = {
  endToEnd: 0,
  compactValid: 0,
  compactInvalid: 0,
  compactAcceptable: 0,
  jsonSerialization: 0,
  validRefusedByPolicy: 0,
  authorizerPinnedAccepted: 0,
};
const disagreements = new Set<number>();

let fx: Fixture;
const handlers = new Map<number, ReturnType<Fixture['authorizer']>>();
const keyGetters = new Map<number, JWTVerifyGetKey>();

beforeAll(async () => {
  fx = await createFixture();
  const sm = secretsClient();
  try {
    for (const g of groups) {
      let keys: { hs256SecretId: string } | { jwks: { keys: Record<string, unknown>[] } };
      if (g.secret) {
        const name = uniqueName(`wycheproof-g${g.index}`);
        // SecretBinary: the HMAC keys are raw bytes, not text. A key under 32 bytes would be refused by the
        // authorizer (JWT_SECRET_UNAVAILABLE, 500): a refusal like any other.
        await sm.send(new CreateSecretCommand({ Name: name, SecretBinary: g.secret }));
        const stored = await sm.send(new GetSecretValueCommand({ SecretId: name }));
        expect(Buffer.from(stored.SecretBinary!).equals(Buffer.from(g.secret))).toBe(true);
        keys = { hs256SecretId: name };
      } else {
        keys = { jwks: { keys: [g.publicJwk as Record<string, unknown>] } };
        keyGetters.set(g.index, createLocalJWKSet({ keys: [g.publicJwk!] }));
      }
      handlers.set(
        g.index,
        fx.authorizer({
          issuers: [{ type: 'oidc', id: `wp-${g.index}`, issuer: g.issuer, keys, algorithms: [...g.issuerAlgorithms], audience: 'wycheproof' }],
        }),
      );
    }
  } finally {
    sm.destroy();
  }
});
afterAll(() => fx?.close());

/** Runs the handler and reports API Gateway's answer: 401, 403, 500 or 200 (Allow on this route). */
async function decide(handler: ReturnType<Fixture['authorizer']>, bearer: string, method = 'GET', path = '/v1/me') {
  try {
    const result = await handler(authorizerEvent({ Authorization: `Bearer ${bearer}` }, method, path));
    const verdict = evaluatePolicy(result.policyDocument as PolicyDocument, `${API_ARN_PREFIX}/${method}${path}`);
    return verdict === 'Allow' ? 200 : 403;
  } catch (err) {
    return (err as Error).message === 'Unauthorized' ? 401 : 500;
  }
}

function lastDecision(): Record<string, unknown> {
  const lines = fx.logs.filter((l) => l.message === 'decision');
  return lines[lines.length - 1] ?? {};
}

/**
 * jose's verdict on one vector with the group's key: 'accepted' or jose's error code. With `asAuthorizer`, also
 * the authorizer's own rule that it never verifies with an HMAC secret shorter than 32 bytes.
 */
async function joseVerdict(g: Group, t: WycheproofTest, algorithms: readonly string[], asAuthorizer = false): Promise<string> {
  if (g.secret && asAuthorizer && g.secret.length < MIN_HS256_SECRET_BYTES) return 'JWT_SECRET_UNAVAILABLE';
  try {
    if (g.secret) await compactVerify(bearerValue(t), g.secret, { algorithms: [...algorithms] });
    else await compactVerify(bearerValue(t), keyGetters.get(g.index)!, { algorithms: [...algorithms] });
    return 'accepted';
  } catch (err) {
    return String((err as { code?: unknown }).code ?? (err as Error).name);
  }
}

describe('Wycheproof JWS vectors', () => {
  it('documents only vectors that exist, each once, and recognises every JSON serialization', () => {
    const ids = new Set(allTests.map((t) => t.tcId));
    const listed = [...Object.keys(KNOWN_MISLABELLED), ...Object.keys(JOSE_LENIENT)].map(Number);
    expect(listed.filter((id) => !ids.has(id))).toEqual([]);
    expect(Object.keys(KNOWN_MISLABELLED).filter((id) => id in JOSE_LENIENT)).toEqual([]);
    expect(allTests.filter((t) => t.flags.includes('JsonSerialization') && !isJsonSerialization(t)).map((t) => t.tcId)).toEqual([]);
  });

  describe('end to end: the handler, trusting exactly the group key, never allows a vector', () => {
    for (const g of groups) {
      describe(g.name, () => {
        for (const t of g.tests) {
          const json = isJsonSerialization(t);
          it(`tcId ${t.tcId} (${t.comment})${json ? ', a JSON serialization,' : ''} is refused with a 401`, async () => {
            const status = await decide(handlers.get(g.index)!, bearerValue(t));

            expect(status).not.toBe(200);
            if (status === 500) {
              // The one acceptable 500: an HMAC key under 32 bytes, which the authorizer will not verify with.
              expect({ reason: fx.lastReason(), shortKey: (g.secret?.length ?? Infinity) < MIN_HS256_SECRET_BYTES }).toEqual({
                reason: 'JWT_SECRET_UNAVAILABLE',
                shortKey: true,
              });
            } else {
              // Stricter than "not Allow": a malformed or forged token is the caller's fault, never a 403.
              expect(status).toBe(401);
            }
            const lenient = JOSE_LENIENT[t.tcId];
            if (lenient) {
              expect(lastDecision()).toMatchObject({ reason: lenient.refusedBy.reason, ...(lenient.refusedBy.part ? { part: lenient.refusedBy.part } : {}) });
            }
            if (json) expect(fx.lastReason()).toBe('AUTHORIZATION_MALFORMED');
            checked.endToEnd++;
          });
        }
      });
    }
  });

  describe('signatures: jose with the group key, pinned to the key\'s own algorithm, agrees with the labels', () => {
    for (const g of groups) {
      describe(g.name, () => {
        for (const t of g.tests) {
          it(`tcId ${t.tcId} (${t.comment}) is ${t.result}${KNOWN_MISLABELLED[t.tcId] || JOSE_LENIENT[t.tcId] ? ', or disagrees as documented' : ''}`, async () => {
            const verdict = await joseVerdict(g, t, [g.alg]);
            const accepted = verdict === 'accepted';

            if (t.result !== 'acceptable' && accepted !== (t.result === 'valid')) disagreements.add(t.tcId);
            if (JOSE_LENIENT[t.tcId]) expect(verdict).toBe('accepted');
            else if (t.result !== 'acceptable') expect(accepted ? 'valid' : 'invalid').toBe(expectedLabel(t));

            if (isJsonSerialization(t)) checked.jsonSerialization++;
            else if (t.result === 'valid') checked.compactValid++;
            else if (t.result === 'invalid') checked.compactInvalid++;
            else checked.compactAcceptable++;
          });
        }
      });
    }

    it('disagrees with the file on exactly the documented vectors', () => {
      const documented = [...Object.keys(KNOWN_MISLABELLED), ...Object.keys(JOSE_LENIENT)].map(Number).sort((a, b) => a - b);
      expect([...disagreements].sort((a, b) => a - b)).toEqual(documented);
    });
  });

  describe('signatures: with the algorithms the authorizer pins, only genuinely valid vectors verify', () => {
    for (const g of groups) {
      describe(`${g.name}, pinned to ${g.issuerAlgorithms.join(', ')}`, () => {
        for (const t of g.tests) {
          it(`tcId ${t.tcId} (${t.comment})`, async () => {
            const verdict = await joseVerdict(g, t, g.issuerAlgorithms, true);
            const genuinelyValid = expectedLabel(t) === 'valid';

            if (verdict === 'accepted') {
              // A jose-lenient vector verifies here; (a) shows the handler refuses it before calling jose.
              expect(expectedLabel(t) !== 'invalid' || t.tcId in JOSE_LENIENT).toBe(true);
              checked.authorizerPinnedAccepted++;
            } else if (genuinelyValid) {
              // Refused by design: an algorithm the authorizer cannot be configured with, or an HMAC key under 32 bytes.
              expect(!g.algSupported || verdict === 'JWT_SECRET_UNAVAILABLE').toBe(true);
              checked.validRefusedByPolicy++;
            }
          });
        }
      });
    }
  });

  it('checked every vector in the file, in every category', () => {
    const total = vectors.numberOfTests;
    expect(allTests).toHaveLength(total);
    expect(checked.endToEnd).toBe(total);
    expect(checked.compactValid + checked.compactInvalid + checked.compactAcceptable + checked.jsonSerialization).toBe(total);
    expect(checked.compactValid).toBeGreaterThan(0);
    expect(checked.compactInvalid).toBeGreaterThan(0);
    expect(checked.jsonSerialization).toBeGreaterThan(0);
    // The positive control: the authorizer's key and algorithm pinning does verify genuine signatures.
    expect(checked.authorizerPinnedAccepted).toBeGreaterThan(0);
    expect(checked.validRefusedByPolicy).toBeGreaterThan(0);
  });
});
