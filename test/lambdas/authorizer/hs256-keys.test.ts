import { randomBytes } from 'node:crypto';
import { AuthError } from '../../../lambdas/authorizer/errors';
import { Hs256Keys, MIN_HS256_SECRET_BYTES } from '../../../lambdas/authorizer/hs256-keys';
import type { IssuerSpec } from '../../../lambdas/authorizer/issuers';
import { issuerSpec } from './issuer-spec';
import type { SecretReadOptions, SecretVersions } from '../../../lambdas/authorizer/secrets';

const T0 = 1_750_000_000_000;
const TTL_SECONDS = 300;

function spec(id: string, secretId = `${id}-jwt`): IssuerSpec {
  return issuerSpec({
    id,
    issuer: `https://${id}.supabase.co/auth/v1`,
    algorithms: ['HS256'],
    keys: { hs256SecretId: secretId },
    secretCacheTtlSeconds: TTL_SECONDS,
  });
}

/** A SecretStore stand-in: answers what the test sets, each read a fresh Buffer stamped with the clock. */
function store() {
  const state = { now: T0, secrets: new Map<string, Buffer | undefined>(), failing: false, reads: [] as [string, SecretReadOptions][] };
  const get = async (id: string, options: SecretReadOptions): Promise<SecretVersions> => {
    state.reads.push([id, options]);
    if (state.failing) throw new Error('Secrets Manager is down');
    const secret = state.secrets.get(id);
    return { ...(secret ? { current: Buffer.from(secret) } : {}), loadedAt: state.now };
  };
  const keys = new Hs256Keys({ secrets: { get }, now: () => state.now, maxStaleSeconds: 3600 });
  return { state, keys };
}

async function refusal(p: Promise<unknown>): Promise<{ code: string; detail: unknown; cause: unknown }> {
  try {
    await p;
  } catch (err) {
    if (err instanceof AuthError) return { code: err.code, detail: err.detail, cause: err.cause };
    throw err;
  }
  throw new Error('did not reject');
}

describe('Hs256Keys: reading, key identity and freshness', () => {
  it('reads the issuer secret with its TTL and the stale bound, current version only', async () => {
    const { state, keys } = store();
    state.secrets.set('supa-jwt', randomBytes(32));

    await keys.read(spec('supa'));

    expect(state.reads).toEqual([['supa-jwt', { ttlSeconds: TTL_SECONDS, maxStaleSeconds: 3600, stages: 'current' }]]);
  });

  it('keeps the same key while the secret reads back the same bytes, and makes a new one when it is rotated', async () => {
    const { state, keys } = store();
    state.secrets.set('supa-jwt', randomBytes(32));
    const first = await keys.read(spec('supa'));

    const again = await keys.read(spec('supa'));
    state.secrets.set('supa-jwt', randomBytes(32));
    const rotated = await keys.read(spec('supa'));

    expect(again).toBe(first);
    expect(rotated).not.toBe(first);
    expect(rotated.alg).toBe('HS256');
  });

  it('keeps each issuer to its own secret', async () => {
    const { state, keys } = store();
    state.secrets.set('a-jwt', randomBytes(32));
    state.secrets.set('b-jwt', randomBytes(32));

    const a = await keys.read(spec('a'));
    const b = await keys.read(spec('b'));

    expect(a).not.toBe(b);
    expect(keys.fresh(spec('a'))).toBe(a);
    expect(keys.fresh(spec('b'))).toBe(b);
  });

  it('answers without the store only while its copy is younger than the secret TTL', async () => {
    const { state, keys } = store();
    state.secrets.set('supa-jwt', randomBytes(32));
    expect(keys.fresh(spec('supa'))).toBeUndefined();
    const key = await keys.read(spec('supa'));

    state.now = T0 + TTL_SECONDS * 1000 - 1;
    const young = keys.fresh(spec('supa'));
    state.now = T0 + TTL_SECONDS * 1000;
    const due = keys.fresh(spec('supa'));
    await keys.read(spec('supa')); // the store's copy is re-read: the same bytes renew the key's age
    const renewed = keys.fresh(spec('supa'));

    expect(young).toBe(key);
    expect(due).toBeUndefined();
    expect(renewed).toBe(key);
  });

});

describe('Hs256Keys: refusals', () => {
  it('refuses a secret that cannot be read as JWT_SECRET_UNAVAILABLE, keeping the cause', async () => {
    const { state, keys } = store();
    state.failing = true;

    const r = await refusal(keys.read(spec('supa')));

    expect(r.code).toBe('JWT_SECRET_UNAVAILABLE');
    expect(r.detail).toEqual({ issuer: 'supa' });
    expect((r.cause as Error).message).toBe('Secrets Manager is down');
  });

  it.each([
    ['missing', undefined],
    ['shorter than the hash output', randomBytes(MIN_HS256_SECRET_BYTES - 1)],
    ['mostly blank', Buffer.alloc(MIN_HS256_SECRET_BYTES, 0x20)],
  ])('refuses to verify with a secret that is %s', async (_what, secret) => {
    const { state, keys } = store();
    state.secrets.set('supa-jwt', secret);

    expect((await refusal(keys.read(spec('supa')))).detail).toEqual({ issuer: 'supa', weak: true });
  });

  it('refuses a secret that has become weak, even after a strong one was in use', async () => {
    const { state, keys } = store();
    state.secrets.set('supa-jwt', randomBytes(32));
    await keys.read(spec('supa'));
    state.secrets.set('supa-jwt', Buffer.alloc(32, 0x20));

    expect((await refusal(keys.read(spec('supa')))).code).toBe('JWT_SECRET_UNAVAILABLE');
  });
});
