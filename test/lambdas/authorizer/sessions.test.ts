import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type AuthorizerConfigInput, parseConfig } from '../../../contract/config';
import { type PolicyDocument, evaluatePolicy } from '../../../lambdas/authorizer/policy';
import { API_ARN_PREFIX, type Fixture, authorizerEvent, createFixture } from '../../support/fixture';
import { movableClock } from '../../support/faults';
import { nowSeconds, signWith } from '../../support/jwt';
import { revokeSession } from './records';
import { ConfigError } from '../../../contract/config-error';

/**
 * The session deny list through the real handler: revoked-session items on the emulator, per issuer. Supabase access
 * tokens stay valid after sign-out until `exp`; an issuer with `revokedSessions: true` refuses them at once (401),
 * within its cache TTL.
 */
let fx: Fixture;
beforeAll(async () => {
  fx = await createFixture();
  await fx.putTenant({ tenantId: 'acme' });
});
afterAll(() => fx.close());

type Status = 200 | 401 | 403 | 500;
type Authorize = ReturnType<Fixture['authorizer']>;
type Issuers = NonNullable<AuthorizerConfigInput['issuers']>;

async function decide(authorize: Authorize, token: string) {
  try {
    const result = await authorize(authorizerEvent({ Authorization: `Bearer ${token}` }));
    const verdict = evaluatePolicy(result.policyDocument as PolicyDocument, `${API_ARN_PREFIX}/GET/v1/me`);
    return { status: (verdict === 'Allow' ? 200 : 403) as Status, context: result.context, reason: fx.lastReason() };
  } catch (err) {
    return { status: ((err as Error).message === 'Unauthorized' ? 401 : 500) as Status, reason: fx.lastReason() };
  }
}

const supabase = (o: Record<string, unknown> = {}) => ({ ...(fx.config.issuers![0] as object), revokedSessions: true, ...o }) as Issuers[number];
const corp = (o: Record<string, unknown> = {}) => ({ ...(fx.config.issuers![1] as object), ...o }) as Issuers[number];
const withDenyList = (o: Record<string, unknown> = {}, deps: Parameters<Fixture['authorizer']>[1] = {}) =>
  fx.authorizer({ issuers: [supabase(o), corp()] }, deps);
const sessionToken = (sessionId?: unknown) => fx.userToken(sessionId === undefined ? {} : { session_id: sessionId });
let n = 0;
const freshSession = () => `sess-${process.pid}-${Date.now().toString(36)}-${n++}`;

describe('session deny list: configuration', () => {
  it('is off by default, with a 30 s cache when on', () => {
    const c = parseConfig({ ...fx.config, issuers: [supabase({ revokedSessions: undefined }), corp()] });
    expect(c.issuers.map((i) => [i.revokedSessions, i.sessionCacheTtlSeconds])).toEqual([
      [false, 30],
      [false, 30],
    ]);
  });

  it.each([
    ['an oidc issuer that maps no session claim', () => ({ issuers: [supabase(), corp({ revokedSessions: true })] }), /issuers\[1\]\.revokedSessions: needs claims\.session/],
    [
      'no table',
      () => ({ issuers: [supabase()], tableName: undefined, apiKeys: undefined, tenants: { verify: false }, routes: [{ method: 'GET', path: '/v1/me', accepts: ['user'] }] }),
      /issuers\[0\]\.revokedSessions: needs tableName/,
    ],
    ['a negative cache TTL', () => ({ issuers: [supabase({ sessionCacheTtlSeconds: -1 })] }), /issuers\[0\]\.sessionCacheTtlSeconds/],
  ] as [string, () => Record<string, unknown>, RegExp][])('refuses %s, naming the field', (_, overrides, message) => {
    expect(() => parseConfig({ ...fx.config, ...overrides() })).toThrow(ConfigError);
    expect(() => parseConfig({ ...fx.config, ...overrides() })).toThrow(message);
  });

  it('accepts WorkOS (sid) and an oidc issuer that maps claims.session', () => {
    const oidc = corp({ revokedSessions: true, claims: { subject: 'sub', tenant: 'org', session: 'sid' } });
    const workos = { type: 'workos', clientId: 'client_1', revokedSessions: true } as Issuers[number];
    expect(() => parseConfig({ ...fx.config, issuers: [supabase(), oidc, workos] })).not.toThrow();
  });
});

describe('session deny list: decisions', () => {
  it('lets a session that is not on the list in, and hands its id to the handler', async () => {
    const id = freshSession();
    const r = await decide(withDenyList(), await sessionToken(id));
    expect(r).toMatchObject({ status: 200, context: { sessionId: id } });
  });

  it('refuses a revoked session (401 SESSION_REVOKED) while its item has no ttl or one in the future', async () => {
    const forGood = freshSession();
    const untilLater = freshSession();
    const lapsed = freshSession();
    await revokeSession(fx.tableName, 'supabase', forGood);
    await revokeSession(fx.tableName, 'supabase', untilLater, nowSeconds() + 3600);
    // DynamoDB deletes expired items lazily: one past its ttl may still be read, and no longer counts.
    await revokeSession(fx.tableName, 'supabase', lapsed, nowSeconds() - 5);
    const authorize = withDenyList();

    expect(await decide(authorize, await sessionToken(forGood))).toMatchObject({ status: 401, reason: 'SESSION_REVOKED' });
    expect(await decide(authorize, await sessionToken(untilLater))).toMatchObject({ status: 401, reason: 'SESSION_REVOKED' });
    expect(await decide(authorize, await sessionToken(lapsed))).toMatchObject({ status: 200 });
  });

  it('treats an unreadable ttl as revoked for good (fail closed)', async () => {
    const id = freshSession();
    await revokeSession(fx.tableName, 'supabase', id, { S: 'tomorrow' });
    expect(await decide(withDenyList(), await sessionToken(id))).toMatchObject({ status: 401, reason: 'SESSION_REVOKED' });
  });

  it.each([
    ['no session id', undefined],
    ['a session id that is not a string', 42],
    ['a session id with a separator in it', 'a b'],
  ])('refuses a token with %s (401 SESSION_MISSING) without a lookup', async (_, sessionId) => {
    fx.clients.reset();
    const token = sessionId === undefined ? await fx.userToken() : await sessionToken(sessionId);
    expect(await decide(withDenyList({}, {}), token)).toMatchObject({ status: 401, reason: 'SESSION_MISSING' });
    expect(fx.clients.count('GetItemCommand')).toBe(0);
  });

  it('keeps deny lists per issuer: a revoked id of one issuer means nothing for another, and issuers without it never look', async () => {
    const id = freshSession();
    await revokeSession(fx.tableName, 'corp', id);
    const authorize = withDenyList();
    const corpToken = await signWith(fx.oidcKey, { iss: fx.oidcIssuer, sub: 'u-corp', aud: 'gatehouse-api', org: 'acme', iat: nowSeconds(), exp: nowSeconds() + 600 });
    fx.clients.reset();

    expect(await decide(authorize, await sessionToken(id))).toMatchObject({ status: 200 });
    // corp has no revokedSessions: its token (without any session claim) passes, and nothing is read (the tenant
    // item is cached by the call above).
    const before = fx.clients.count('GetItemCommand');
    expect(await decide(authorize, corpToken)).toMatchObject({ status: 200 });
    expect(fx.clients.count('GetItemCommand') - before).toBe(0);
  });

  it('changes nothing for an issuer with revokedSessions off', async () => {
    const id = freshSession();
    await revokeSession(fx.tableName, 'supabase', id);
    expect(await decide(fx.authorizer(), await sessionToken(id))).toMatchObject({ status: 200 });
    expect(await decide(fx.authorizer(), await fx.userToken())).toMatchObject({ status: 200 });
  });
});

describe('session deny list: cache and failures', () => {
  it('reads once per session per TTL; a revocation is seen once the cached "not revoked" expires', async () => {
    let t = Date.now();
    const authorize = withDenyList({ sessionCacheTtlSeconds: 30 }, { now: () => t });
    const id = freshSession();
    const token = await sessionToken(id);
    await fx.putTenant({ tenantId: 'acme' });
    await decide(authorize, token); // warms the tenant cache too
    fx.clients.reset();

    expect(await decide(authorize, token)).toMatchObject({ status: 200 });
    expect(fx.clients.count('GetItemCommand')).toBe(0);
    await revokeSession(fx.tableName, 'supabase', id);
    t += 29_000;
    expect(await decide(authorize, token)).toMatchObject({ status: 200 });
    t += 2_000;
    expect(await decide(authorize, token)).toMatchObject({ status: 401, reason: 'SESSION_REVOKED' });
    const reads = fx.clients.count('GetItemCommand');
    expect(await decide(authorize, token)).toMatchObject({ status: 401, reason: 'SESSION_REVOKED' });
    expect(fx.clients.count('GetItemCommand')).toBe(reads);
  });

  it('with a TTL of 0, reads on every verification', async () => {
    const authorize = withDenyList({ sessionCacheTtlSeconds: 0 }, {});
    const id = freshSession();
    const token = await sessionToken(id);
    expect(await decide(authorize, token)).toMatchObject({ status: 200 });
    await revokeSession(fx.tableName, 'supabase', id);
    expect(await decide(authorize, token)).toMatchObject({ status: 401, reason: 'SESSION_REVOKED' });
  });

  it('fails closed (500) while the table is unreachable, and reads it again once the failure cooldown has passed', async () => {
    let down = true;
    const clock = movableClock();
    const dynamodb = new DynamoDBClient({ maxAttempts: 1 });
    dynamodb.middlewareStack.add(
      (next, ctx) => async (args) => {
        const key = JSON.stringify((args.input as { Key?: unknown }).Key ?? '');
        if (down && ctx.commandName === 'GetItemCommand' && key.includes('SESSION#')) throw Object.assign(new Error('socket hang up'), { name: 'TimeoutError' });
        return next(args);
      },
      { step: 'initialize', name: 'sessionOutage' },
    );
    const authorize = withDenyList({}, { dynamodb, now: clock.now });
    const token = await sessionToken(freshSession());
    try {
      expect(await decide(authorize, token)).toMatchObject({ status: 500, reason: 'SESSION_STORE_UNAVAILABLE' });
      down = false;
      // Failures are not cached, but the table is not read again until records.failureCooldownSeconds (5) have passed.
      expect(await decide(authorize, token)).toMatchObject({ status: 500, reason: 'SESSION_STORE_UNAVAILABLE' });
      clock.advance(5_000);
      expect(await decide(authorize, token)).toMatchObject({ status: 200 });
    } finally {
      dynamodb.destroy();
    }
  });
});
