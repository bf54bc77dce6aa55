import { type KeyObject, createHmac, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { AuthError } from '../../../lambdas/authorizer/errors';
import type { IssuerSpec } from '../../../lambdas/authorizer/issuers';
import { issuerSpec } from './issuer-spec';
import { JwtVerifier, type JwtVerifierDeps, remoteJwks } from '../../../lambdas/authorizer/jwt';
import { type JwksServer, startJwksServer } from '../../support/jwt';

/*
 * The cache of verified tokens in JwtVerifier (jwt.ts): a repeated token is answered from it only while the time
 * claims still hold at the injected clock and the issuer's key source still hands out the key that verified it;
 * otherwise the full check decides, exactly as for a token never seen. Keys come from a real JWKS endpoint on
 * loopback (with the authorizer's remote getter) or an HS256 secret store whose answers the test changes.
 */

const T0 = 1_750_000_000;
const b64u = (v: string | Buffer) => Buffer.from(v).toString('base64url');

interface EcKey {
  readonly kid: string;
  readonly privateKey: KeyObject;
  readonly jwk: Record<string, unknown>;
}
function ecKey(kid: string): EcKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { kid, privateKey, jwk: { ...(publicKey.export({ format: 'jwk' }) as object), kid, alg: 'ES256', use: 'sig' } };
}

function es256(key: EcKey, claims: Record<string, unknown>, kid = key.kid): string {
  const input = `${b64u(JSON.stringify({ alg: 'ES256', typ: 'JWT', kid }))}.${b64u(JSON.stringify(claims))}`;
  return `${input}.${b64u(sign('sha256', Buffer.from(input), { key: key.privateKey, dsaEncoding: 'ieee-p1363' }))}`;
}
function hs256(secret: Buffer, claims: Record<string, unknown>): string {
  const input = `${b64u(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))}.${b64u(JSON.stringify(claims))}`;
  return `${input}.${b64u(createHmac('sha256', secret).update(input).digest())}`;
}

function spec(rest: Partial<IssuerSpec>): IssuerSpec {
  return issuerSpec({
    audience: 'api',
    maxTokenAgeSeconds: 3600,
    requiredClaims: ['sub', 'exp'],
    claims: { subject: 'sub', tenant: 'org', scopes: 'scope' },
    ...rest,
  });
}

const claims = (over: Record<string, unknown> = {}) => ({ iss: 'https://login.example/', sub: 'u-1', aud: 'api', org: 'acme', scope: 'a:read', iat: T0, exp: T0 + 600, ...over });

let nowMs: number;
const clock = () => nowMs;
const at = (seconds: number) => {
  nowMs = seconds * 1000;
};

/** The reason code a verification ends with, or 'ok'. */
async function outcome(verifier: JwtVerifier, token: string): Promise<string> {
  try {
    await verifier.verify(token);
    return 'ok';
  } catch (err) {
    if (err instanceof AuthError) return err.code;
    throw err;
  }
}

const noSecrets = { get: async () => ({ loadedAt: 0 }) };

describe('verified-token cache: time claims on every hit', () => {
  const key = ecKey('k1');
  const issuer = spec({ keys: { jwks: { keys: [key.jwk] } } });
  const make = (d: Partial<JwtVerifierDeps> = {}) => new JwtVerifier([issuer], { jwks: remoteJwks, secrets: noSecrets, now: clock, maxStaleSeconds: 3600, ...d });
  beforeEach(() => at(T0));

  it('answers a repeated token from the cache, with the same (frozen) principal', async () => {
    const v = make();
    const token = es256(key, claims());

    const first = await v.verify(token);
    const second = await v.verify(token);

    expect(second).toBe(first);
    expect(Object.isFrozen(second) && Object.isFrozen(second.scopes)).toBe(true);
    expect(v.cacheStats()).toEqual({ size: 1, hits: 1, misses: 1 });
  });

  it('refuses a cached token once past exp + tolerance with JWT_EXPIRED, as a verifier without a cache does', async () => {
    const cached = make();
    const uncached = make({ tokenCacheEntries: 0 });
    const token = es256(key, claims({ exp: T0 + 60 }));
    expect(await outcome(cached, token)).toBe('ok');

    for (const s of [T0 + 89, T0 + 90, T0 + 91, T0 + 10_000]) {
      at(s);
      expect({ s, reason: await outcome(cached, token) }).toEqual({ s, reason: await outcome(uncached, token) });
    }
    at(T0 + 90);
    expect(await outcome(cached, token)).toBe('JWT_EXPIRED');
    // A refused hit leaves the cache.
    expect(cached.cacheStats().size).toBe(0);
  });

  it('re-checks nbf, the age cap (JWT_TOO_OLD) and an iat in the future on hits, like the full check', async () => {
    // No exp (this issuer does not require one): the age cap alone ends the token. (A token with exp can't outlive
    // the cap: one minted to live longer is refused at once, JWT_LIFETIME_TOO_LONG.)
    const noExp = spec({ keys: issuer.keys, requiredClaims: ['sub'] });
    const cached = new JwtVerifier([noExp], { jwks: remoteJwks, secrets: noSecrets, now: clock, maxStaleSeconds: 3600 });
    const uncached = new JwtVerifier([noExp], { jwks: remoteJwks, secrets: noSecrets, now: clock, maxStaleSeconds: 3600, tokenCacheEntries: 0 });
    const token = es256(key, claims({ nbf: T0, iat: T0, exp: undefined }));
    expect(await outcome(cached, token)).toBe('ok');

    for (const s of [T0 - 31, T0 - 30, T0 + 3629, T0 + 3630, T0 + 3631, T0 + 3700]) {
      at(s);
      expect({ s, reason: await outcome(cached, token) }).toEqual({ s, reason: await outcome(uncached, token) });
    }
    at(T0 + 3631);
    expect(await outcome(cached, token)).toBe('JWT_TOO_OLD');
    at(T0 - 31);
    expect(await outcome(cached, token)).toBe('JWT_NOT_YET_VALID');
  });

  it('never lets a clock that reads no time accept a cached token', async () => {
    const v = make();
    const token = es256(key, claims());
    await v.verify(token);
    nowMs = Number.NaN;
    await expect(v.verify(token)).rejects.toThrow('the clock reads no valid time');
  });

  it('keeps only verified tokens: refusals leave nothing, and a one-character twin of a cached token is checked in full', async () => {
    const v = make();
    const good = es256(key, claims());
    await v.verify(good);
    const [h, p, s] = good.split('.') as [string, string, string];
    const twin = `${h}.${p}.${s.slice(0, 10)}${s[10] === 'A' ? 'B' : 'A'}${s.slice(11)}`;

    for (let i = 0; i < 3; i++) expect(await outcome(v, twin)).toBe('JWT_SIGNATURE_INVALID');
    expect(await outcome(v, es256(key, claims({ aud: 'other' })))).toBe('JWT_AUDIENCE_MISMATCH');

    expect(v.cacheStats()).toMatchObject({ size: 1, hits: 0 });
    expect(await outcome(v, good)).toBe('ok');
    expect(v.cacheStats().hits).toBe(1);
  });

  it('is bounded, and evicts the least recently used token: a token used again outlives older unused ones', async () => {
    const v = make({ tokenCacheEntries: 3 });
    const tokens = ['a', 'b', 'c', 'd', 'e'].map((sub) => es256(key, claims({ sub })));
    for (const t of tokens.slice(0, 3)) await v.verify(t);
    await v.verify(tokens[0]!); // a is used

    await v.verify(tokens[3]!); // evicts b, the least recently used

    expect(v.cacheStats()).toMatchObject({ size: 3, hits: 1 });
    await v.verify(tokens[0]!);
    expect(v.cacheStats().hits).toBe(2);
    await v.verify(tokens[1]!);
    expect(v.cacheStats()).toMatchObject({ size: 3, hits: 2, misses: 5 });
    for (const t of tokens) await v.verify(t);
    expect(v.cacheStats().size).toBe(3);
  });

  it('can be turned off', async () => {
    const v = make({ tokenCacheEntries: 0 });
    const token = es256(key, claims());
    await v.verify(token);
    await v.verify(token);
    expect(v.cacheStats()).toEqual({ size: 0, hits: 0, misses: 2 });
  });
});

describe('verified-token cache: key changes end cached verifications', () => {
  let server: JwksServer;
  const k1 = ecKey('k1');
  const k2 = ecKey('k2');
  const k1Again = ecKey('k1'); // new key material under the same kid
  const make = () =>
    new JwtVerifier([spec({ keys: { jwksUrl: server.url } })], {
      jwks: remoteJwks,
      secrets: noSecrets,
      now: clock,
      maxStaleSeconds: 3600,
    });

  beforeEach(async () => {
    at(T0);
    server = await startJwksServer([k1.jwk as never]);
  });
  afterEach(() => server.close());

  it('keeps hitting when a refetch returns the same keys (the imported key carries over)', async () => {
    const v = make();
    const token = es256(k1, claims({ exp: T0 + 3600 }));
    await v.verify(token);
    at(T0 + 601); // past jwksCacheMaxAgeSeconds: the next use needs a fetch first

    expect(await outcome(v, token)).toBe('ok'); // full check, after the refetch
    expect(await outcome(v, token)).toBe('ok');

    expect(server.fetches()).toBe(2);
    expect(v.cacheStats()).toMatchObject({ hits: 1, misses: 2 });
  });

  it('keeps hitting after a refetch (triggered by another token) that keeps the key', async () => {
    const v = make();
    const old = es256(k1, claims());
    await v.verify(old);
    server.setKeys([k1.jwk as never, k2.jwk as never]);
    at(T0 + 31);

    expect(await outcome(v, es256(k2, claims({ sub: 'u-2' })))).toBe('ok'); // unknown kid k2: refetch
    expect(await outcome(v, old)).toBe('ok');

    expect(server.fetches()).toBe(2);
    expect(v.cacheStats()).toMatchObject({ hits: 1, misses: 2 });
  });

  it('refuses a cached token whose kid a refetch (triggered by another token) removed: JWT_KID_UNKNOWN', async () => {
    const v = make();
    const old = es256(k1, claims());
    expect(await outcome(v, old)).toBe('ok');
    server.setKeys([k2.jwk as never]);
    at(T0 + 31); // past the refetch cooldown

    expect(await outcome(v, es256(k2, claims({ sub: 'u-2' })))).toBe('ok'); // unknown kid k2: refetch

    expect(await outcome(v, old)).toBe('JWT_KID_UNKNOWN');
    expect(server.fetches()).toBe(2);
    expect(v.cacheStats().size).toBe(1); // only the k2 token
  });

  it('refuses a cached token whose kid now names other key material: JWT_SIGNATURE_INVALID', async () => {
    const v = make();
    const old = es256(k1, claims({ exp: T0 + 3600 }));
    expect(await outcome(v, old)).toBe('ok');
    server.setKeys([k1Again.jwk as never]);
    at(T0 + 601);

    expect(await outcome(v, old)).toBe('JWT_SIGNATURE_INVALID');
    expect(await outcome(v, es256(k1Again, claims({ exp: T0 + 3600 })))).toBe('ok');
  });

  it('keeps hitting on a stale set while the endpoint is down (within the stale bound), then fails closed like a full check', async () => {
    const v = make();
    const token = es256(k1, claims({ exp: T0 + 4000 + 3600, iat: T0 + 4000 }));
    at(T0 + 4000);
    expect(await outcome(v, token)).toBe('ok');
    server.setMode('error');
    at(T0 + 4000 + 601);

    expect(await outcome(v, token)).toBe('ok'); // the full check: the refetch fails, the stale set stands in
    expect(await outcome(v, token)).toBe('ok'); // a hit: the set still stands in
    expect(v.cacheStats().hits).toBe(1);
    expect(server.fetches()).toBe(2);

    at(T0 + 4000 + 600 + 3600 + 1); // past max age + maxStaleSeconds
    expect(await outcome(v, token)).toBe('JWT_KEYS_UNAVAILABLE');
  });

  it('caches no failure: a token refused while the endpoint is down is accepted once it is back', async () => {
    server.setMode('error');
    const v = make();
    const token = es256(k1, claims());

    expect(await outcome(v, token)).toBe('JWT_KEYS_UNAVAILABLE');
    expect(v.cacheStats().size).toBe(0);
    server.setMode('ok');

    expect(await outcome(v, token)).toBe('ok');
  });
});

describe('verified-token cache: HS256 secrets', () => {
  const issuer = spec({ id: 'supa', algorithms: ['HS256'], keys: { hs256SecretId: 'supa-jwt' } });
  let current: Buffer | undefined;
  let failing = false;
  let reads = 0;
  const secrets = {
    get: async () => {
      reads++;
      if (failing) throw new Error('Secrets Manager is down');
      // A fresh Buffer on every read, as a SecretStore re-read makes one.
      return { ...(current ? { current: Buffer.from(current) } : {}), loadedAt: 0 };
    },
  };
  const make = () => new JwtVerifier([issuer], { jwks: remoteJwks, secrets, now: clock, maxStaleSeconds: 3600 });
  beforeEach(() => {
    at(T0);
    current = randomBytes(32);
    failing = false;
  });

  it('keeps hitting while the secret reads back the same bytes, and asks the store on every hit', async () => {
    const v = make();
    const token = hs256(current!, claims());
    await v.verify(token);
    const before = reads;

    expect(await outcome(v, token)).toBe('ok');
    expect(await outcome(v, token)).toBe('ok');

    expect(v.cacheStats()).toMatchObject({ hits: 2, misses: 1 });
    expect(reads - before).toBe(2);
  });

  it('asks the store only once its copy is past the secret TTL, as the store would re-read it; a rotation counts from then', async () => {
    let copy = { current: Buffer.from(current!), loadedAt: T0 * 1000 };
    let asked = 0;
    const store = {
      get: async () => {
        asked++;
        // The SecretStore's rule: its copy stands while now - loadedAt < TTL, then it reads Secrets Manager again.
        if (nowMs - copy.loadedAt >= issuer.secretCacheTtlSeconds * 1000) copy = { current: Buffer.from(current!), loadedAt: nowMs };
        return copy;
      },
    };
    const v = new JwtVerifier([issuer], { jwks: remoteJwks, secrets: store, now: clock, maxStaleSeconds: 3600 });
    const token = hs256(current!, claims());
    expect(await outcome(v, token)).toBe('ok');
    expect(await outcome(v, hs256(current!, claims({ sub: 'u-2' })))).toBe('ok');
    expect(asked).toBe(1);

    current = randomBytes(32); // rotated in Secrets Manager; the store's copy is still within its TTL
    at(T0 + 299);
    expect(await outcome(v, token)).toBe('ok');
    expect(asked).toBe(1);

    at(T0 + 300);
    expect(await outcome(v, token)).toBe('JWT_SIGNATURE_INVALID');
    expect(await outcome(v, hs256(current, claims()))).toBe('ok');
    expect(asked).toBe(2); // once, on the hit: the full check after it and the new token use the copy just read
  });

  it('refuses a cached token once the secret has rotated: JWT_SIGNATURE_INVALID', async () => {
    const v = make();
    const token = hs256(current!, claims());
    await v.verify(token);
    current = randomBytes(32);

    expect(await outcome(v, token)).toBe('JWT_SIGNATURE_INVALID');
    expect(await outcome(v, hs256(current, claims()))).toBe('ok');
  });

  it('fails a cached token closed, as a full check would, when the secret cannot be read or is now weak', async () => {
    const v = make();
    const token = hs256(current!, claims());
    await v.verify(token);

    failing = true;
    expect(await outcome(v, token)).toBe('JWT_SECRET_UNAVAILABLE');
    failing = false;
    current = Buffer.alloc(32, 0x20);
    expect(await outcome(v, token)).toBe('JWT_SECRET_UNAVAILABLE');
  });
});
