import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { movableClock } from '../../support/faults';
import type { APIGatewayAuthorizerResult } from 'aws-lambda';
import { type AuthorizerConfigInput, parseConfig } from '../../../contract/config';
import { type PolicyDocument, evaluatePolicy } from '../../../lambdas/authorizer/policy';
import { API_ARN_PREFIX, type Fixture, authorizerEvent, createFixture } from '../../support/fixture';
import { nowSeconds, signWith } from '../../support/jwt';
import { deleteMember, putMember } from './records';
import { ConfigError } from '../../../contract/config-error';

/**
 * Membership mode through the real handler, with member and tenant items on the emulator: the tenant is the one the
 * request names in the tenant header, the user must be a member of it, and the member's role is the user's roles.
 */
let fx: Fixture;
beforeAll(async () => {
  fx = await createFixture();
  for (const tenantId of ['tenant-a', 'tenant-b', 'acme']) await fx.putTenant({ tenantId, tier: tenantId === 'tenant-b' ? 'pro' : 'default' });
  await fx.putTenant({ tenantId: 'frozen', status: 'suspended' });
  await putMember(fx.tableName, { tenantId: 'tenant-a', issuer: 'supabase', subject: 'user-ab', role: 'admin' });
  await putMember(fx.tableName, { tenantId: 'tenant-b', issuer: 'supabase', subject: 'user-ab', role: 'member' });
  await putMember(fx.tableName, { tenantId: 'frozen', issuer: 'supabase', subject: 'user-ab', role: 'admin' });
  await putMember(fx.tableName, { tenantId: 'tenant-a', issuer: 'corp', subject: 'user-ab', role: 'member' });
});
afterAll(() => fx.close());

type Status = 200 | 401 | 403 | 500;
type Authorize = ReturnType<Fixture['authorizer']>;

async function decide(authorize: Authorize, headers: Record<string, string>, path = '/v1/me', method = 'GET', multi?: Record<string, string[]>) {
  try {
    const result = await authorize(authorizerEvent(headers, method, path, path, multi));
    const verdict = evaluatePolicy(result.policyDocument as PolicyDocument, `${API_ARN_PREFIX}/${method}${path}`);
    return { status: (verdict === 'Allow' ? 200 : 403) as Status, result, reason: fx.lastReason() };
  } catch (err) {
    return { status: ((err as Error).message === 'Unauthorized' ? 401 : 500) as Status, reason: fx.lastReason() };
  }
}
const members = (overrides: Partial<AuthorizerConfigInput> = {}, deps: Parameters<Fixture['authorizer']>[1] = {}) =>
  fx.authorizer({ membership: {}, ...overrides }, deps);
const bearer = (v: string, tenant?: string) => ({ Authorization: `Bearer ${v}`, ...(tenant !== undefined ? { 'X-Tenant-Id': tenant } : {}) });
const userAb = (claims: Record<string, unknown> = {}) => fx.userToken({ sub: 'user-ab', app_metadata: { tenant_id: 'acme', roles: ['owner'] }, ...claims });
const context = (r: { result?: APIGatewayAuthorizerResult }) => r.result?.context;

describe('membership mode: configuration', () => {
  it('defaults the header to X-Tenant-Id, 60 s hits, 10 s misses', () => {
    expect(parseConfig({ ...fx.config, membership: {} }).membership).toEqual({
      header: 'X-Tenant-Id',
      cacheTtlSeconds: 60,
      negativeCacheTtlSeconds: 10,
      cacheMaxEntries: 10_000,
    });
    expect(parseConfig(fx.config).membership).toBeUndefined();
  });

  it.each([
    [{ membership: { header: 'authorization' } }, /membership\.header: must differ from Authorization and X-Service-Name/],
    [{ membership: { header: 'X-Service-Name' } }, /membership\.header: must differ/],
    [{ membership: { header: 'X Tenant' } }, /membership\.header: a header name is/],
    [{ membership: { cacheTtlSeconds: -1 } }, /membership\.cacheTtlSeconds/],
    [{ membership: { ttl: 5 } }, /membership: .*ttl/i],
    [{ membership: {}, tableName: undefined, apiKeys: undefined, tenants: { verify: false } }, /membership: needs tableName/],
    [{ membership: {}, issuers: [], routes: [{ method: 'GET', path: '/v1/me', accepts: ['apiKey'] }] }, /membership: membership applies to users/],
  ] as [Record<string, unknown>, RegExp][])('refuses %j naming the field', (overrides, message) => {
    const doc = { ...fx.config, ...overrides };
    expect(() => parseConfig(doc)).toThrow(ConfigError);
    expect(() => parseConfig(doc)).toThrow(message);
  });
});

describe('membership mode: users', () => {
  it('gives a member of two tenants the context of the tenant the header names, with that role', async () => {
    const authorize = members();
    const token = await userAb();

    const a = await decide(authorize, bearer(token, 'tenant-a'));
    const b = await decide(authorize, bearer(token, 'tenant-b'));

    expect(a).toMatchObject({ status: 200, reason: 'ALLOWED' });
    expect(context(a)).toMatchObject({ kind: 'user', tenantId: 'tenant-a', roles: 'admin', tier: 'default', subject: 'user-ab' });
    expect(context(b)).toMatchObject({ kind: 'user', tenantId: 'tenant-b', roles: 'member', tier: 'pro' });
  });

  it("never takes the tenant or the roles from the token (the token's app_metadata says acme and owner)", async () => {
    const r = await decide(members(), bearer(await userAb(), 'tenant-a'));

    expect(context(r)).toMatchObject({ tenantId: 'tenant-a', roles: 'admin' });
    expect(JSON.stringify(r.result)).not.toMatch(/acme|owner/);
  });

  it('refuses a user who is not a member of the tenant named (403), and one who names none (401)', async () => {
    const authorize = members();
    const stranger = await fx.userToken({ sub: 'user-c' });

    expect(await decide(authorize, bearer(stranger, 'tenant-a'))).toMatchObject({ status: 403, reason: 'MEMBERSHIP_NOT_FOUND' });
    expect(await decide(authorize, bearer(await userAb(), 'acme'))).toMatchObject({ status: 403, reason: 'MEMBERSHIP_NOT_FOUND' });
    expect(await decide(authorize, bearer(await userAb()))).toMatchObject({ status: 401, reason: 'TENANT_HEADER_MISSING' });
    // API Gateway treats an empty identity source as a missing one.
    expect(await decide(authorize, bearer(await userAb(), ''))).toMatchObject({ status: 401, reason: 'TENANT_HEADER_MISSING' });
  });

  it('keys members by issuer: the same subject from another issuer is another user', async () => {
    const corpToken = await signWith(fx.oidcKey, { iss: fx.oidcIssuer, sub: 'user-ab', aud: 'gatehouse-api', iat: nowSeconds(), exp: nowSeconds() + 600 });
    const authorize = members();

    expect(context(await decide(authorize, bearer(corpToken, 'tenant-a')))).toMatchObject({ issuer: 'corp', tenantId: 'tenant-a', roles: 'member' });
    expect(await decide(authorize, bearer(corpToken, 'tenant-b'))).toMatchObject({ status: 403, reason: 'MEMBERSHIP_NOT_FOUND' });
  });

  it('still checks the tenant: unknown and suspended tenants are refused even for a member', async () => {
    const authorize = members();
    await putMember(fx.tableName, { tenantId: 'ghost', issuer: 'supabase', subject: 'user-ab', role: 'admin' });

    expect(await decide(authorize, bearer(await userAb(), 'frozen'))).toMatchObject({ status: 403, reason: 'TENANT_SUSPENDED' });
    expect(await decide(authorize, bearer(await userAb(), 'ghost'))).toMatchObject({ status: 403, reason: 'TENANT_UNKNOWN' });
  });

  it.each([
    ['a dot', 'tenant.a'],
    ['a leading dash', '-tenant'],
    ['a leading underscore', '_tenant'],
    ['a key separator', 'tenant-a#MEMBER'],
    ['a wildcard', 'tenant-*'],
    ['a slash', 'tenant/a'],
    ['a space', 'tenant a'],
    ['129 characters', 'a'.repeat(129)],
    ['unicode', 'tenänt'],
  ])('refuses a tenant header with %s (403) before any lookup', async (_, value) => {
    fx.clients.reset();
    expect(await decide(members(), bearer(await userAb(), value))).toMatchObject({ status: 403, reason: 'TENANT_HEADER_INVALID' });
    expect(fx.clients.count('GetItemCommand')).toBe(0);
  });

  it('takes the header exactly: Tenant-A is not tenant-a (no record, 403 before any member lookup)', async () => {
    fx.clients.reset();
    expect(await decide(members(), bearer(await userAb(), 'Tenant-A'))).toMatchObject({ status: 403, reason: 'TENANT_UNKNOWN' });
    expect(context(await decide(members(), bearer(await userAb(), 'tenant-a')))).toMatchObject({ tenantId: 'tenant-a', roles: 'admin' });
  });

  it('refuses two tenant headers rather than picking one', async () => {
    const token = await userAb();
    const r = await decide(members(), bearer(token, 'tenant-a'), '/v1/me', 'GET', {
      Authorization: [`Bearer ${token}`],
      'X-Tenant-Id': ['tenant-a', 'tenant-b'],
    });
    expect(r).toMatchObject({ status: 403, reason: 'TENANT_HEADER_INVALID' });
  });

  it('reads the header case-insensitively and honours a configured header name', async () => {
    const token = await userAb();
    expect(context(await decide(members(), { Authorization: `Bearer ${token}`, 'x-tenant-id': 'tenant-b' }))).toMatchObject({ tenantId: 'tenant-b' });
    const custom = members({ membership: { header: 'X-Workspace' } });
    expect(context(await decide(custom, { Authorization: `Bearer ${token}`, 'X-Workspace': 'tenant-a' }))).toMatchObject({ tenantId: 'tenant-a' });
    expect(await decide(custom, bearer(token, 'tenant-a'))).toMatchObject({ status: 401, reason: 'TENANT_HEADER_MISSING' });
  });
});

describe('membership mode: the member cache', () => {
  it('reads a member item once per TTL, hits and misses alike; a removal takes effect when the entry expires', async () => {
    let t = Date.now();
    const authorize = members({ membership: { cacheTtlSeconds: 60, negativeCacheTtlSeconds: 10 }, tenants: { verify: false } }, { now: () => t });
    await putMember(fx.tableName, { tenantId: 'tenant-a', issuer: 'supabase', subject: 'user-cache', role: 'member' });
    const member = await fx.userToken({ sub: 'user-cache' });
    const stranger = await fx.userToken({ sub: 'user-cache-2' });
    fx.clients.reset();

    await decide(authorize, bearer(member, 'tenant-a'));
    await decide(authorize, bearer(member, 'tenant-a'));
    await decide(authorize, bearer(stranger, 'tenant-a'));
    await decide(authorize, bearer(stranger, 'tenant-a'));
    expect(fx.clients.count('GetItemCommand')).toBe(2);

    await deleteMember(fx.tableName, { tenantId: 'tenant-a', issuer: 'supabase', subject: 'user-cache' });
    t += 59_000;
    expect(await decide(authorize, bearer(member, 'tenant-a'))).toMatchObject({ status: 200 });
    t += 2_000;
    expect(await decide(authorize, bearer(member, 'tenant-a'))).toMatchObject({ status: 403, reason: 'MEMBERSHIP_NOT_FOUND' });
  });

  it('caches a miss only for the negative TTL: a member added shortly after is let in', async () => {
    let t = Date.now();
    const authorize = members({ membership: { negativeCacheTtlSeconds: 5 }, tenants: { verify: false } }, { now: () => t });
    const late = await fx.userToken({ sub: 'user-late' });

    expect(await decide(authorize, bearer(late, 'tenant-b'))).toMatchObject({ status: 403, reason: 'MEMBERSHIP_NOT_FOUND' });
    await putMember(fx.tableName, { tenantId: 'tenant-b', issuer: 'supabase', subject: 'user-late', role: 'admin' });
    expect(await decide(authorize, bearer(late, 'tenant-b'))).toMatchObject({ status: 403 });
    t += 6_000;
    expect(await decide(authorize, bearer(late, 'tenant-b'))).toMatchObject({ status: 200 });
  });

  it('fails closed (500) while the table is unreachable, and reads it again once the failure cooldown has passed', async () => {
    let down = true;
    const clock = movableClock();
    const dynamodb = new DynamoDBClient({ maxAttempts: 1 });
    dynamodb.middlewareStack.add(
      (next) => async (args) => {
        if (down) throw Object.assign(new Error('connect ECONNREFUSED'), { name: 'TimeoutError' });
        return next(args);
      },
      { step: 'initialize', name: 'membershipOutage' },
    );
    const authorize = members({ tenants: { verify: false } }, { dynamodb, now: clock.now });
    try {
      expect(await decide(authorize, bearer(await userAb(), 'tenant-a'))).toMatchObject({ status: 500, reason: 'MEMBERSHIP_STORE_UNAVAILABLE' });
      down = false;
      clock.advance(5_000); // records.failureCooldownSeconds
      expect(await decide(authorize, bearer(await userAb(), 'tenant-a'))).toMatchObject({ status: 200 });
    } finally {
      dynamodb.destroy();
    }
  });

  it.each([
    ['an unknown role', { role: { S: 'owner' } }, 'role'],
    ['no role', { role: undefined }, 'role'],
    ['another tenant in the record', { tenantId: { S: 'tenant-b' } }, 'tenantId'],
    ['another subject in the record', { subject: { S: 'someone-else' } }, 'subject'],
  ])('refuses a member record with %s (500, not cached)', async (_, overrides, field) => {
    const subject = `user-bad-${field}-${Math.random().toString(36).slice(2, 8)}`;
    await putMember(fx.tableName, { tenantId: 'tenant-a', issuer: 'supabase', subject, role: 'admin' }, overrides);
    const authorize = members();
    const token = await fx.userToken({ sub: subject });

    expect(await decide(authorize, bearer(token, 'tenant-a'))).toMatchObject({ status: 500, reason: 'MEMBERSHIP_RECORD_INVALID' });
    expect(fx.logs.at(-1)).toMatchObject({ field });
    await putMember(fx.tableName, { tenantId: 'tenant-a', issuer: 'supabase', subject, role: 'admin' });
    expect(await decide(authorize, bearer(token, 'tenant-a'))).toMatchObject({ status: 200 });
  });
});

describe('membership mode: API keys and services', () => {
  it("lets an API key send no tenant header, or its own tenant's; another tenant is 403 TENANT_MISMATCH", async () => {
    const { key } = await fx.putApiKey({ tenantId: 'tenant-a' });
    const authorize = members();

    expect(context(await decide(authorize, bearer(key)))).toMatchObject({ kind: 'apiKey', tenantId: 'tenant-a' });
    expect(context(await decide(authorize, bearer(key, 'tenant-a')))).toMatchObject({ kind: 'apiKey', tenantId: 'tenant-a' });
    expect(await decide(authorize, bearer(key, 'tenant-b'))).toMatchObject({ status: 403, reason: 'TENANT_MISMATCH' });
    // Tenant ids are case-sensitive: TENANT-A is another tenant, not this key's.
    expect(await decide(authorize, bearer(key, 'TENANT-A'))).toMatchObject({ status: 403, reason: 'TENANT_MISMATCH' });
  });

  it('does not read the header on a route that accepts no users (its answer is keyed by Authorization alone)', async () => {
    const routes = [...(fx.config.routes ?? []), { method: 'GET' as const, path: '/v1/usage', accepts: ['apiKey' as const] }];
    const authorize = members({ routes });
    const { key } = await fx.putApiKey({ tenantId: 'tenant-a' });
    const usage = (headers: Record<string, string>) => decide(authorize, headers, '/v1/usage');

    // The same key gets the same answer whatever the header says: a cached answer is right for every request.
    for (const tenant of [undefined, 'tenant-a', 'tenant-b', 'NOT valid!']) {
      expect(await usage(bearer(key, tenant))).toMatchObject({ status: 200, reason: 'ALLOWED' });
    }
    // A user may call none of these routes: refused without reading the header or any member item.
    fx.clients.reset();
    for (const tenant of [undefined, 'tenant-a']) {
      expect(await usage(bearer(await userAb(), tenant))).toMatchObject({ status: 403, reason: 'ROUTE_NOT_PERMITTED' });
    }
    expect(fx.clients.count('GetItemCommand')).toBe(0);
    // On the route that accepts users, the header is an identity source and is read.
    expect(await decide(authorize, bearer(key, 'tenant-b'))).toMatchObject({ status: 403, reason: 'TENANT_MISMATCH' });
  });

  it('leaves services alone: any tenant header, or none, is ignored', async () => {
    const authorize = members();
    const service = (extra: Record<string, string>) =>
      decide(authorize, { Authorization: `Bearer ${fx.serviceSecret}`, 'X-Service-Name': fx.serviceName, ...extra }, '/internal/jobs', 'POST');

    expect(await service({})).toMatchObject({ status: 200 });
    expect(await service({ 'X-Tenant-Id': 'tenant-a' })).toMatchObject({ status: 200 });
    expect(await service({ 'X-Tenant-Id': 'NOT valid!' })).toMatchObject({ status: 200 });
    expect(context(await service({ 'X-Tenant-Id': 'tenant-a' }))).toMatchObject({ kind: 'service', tenantId: '' });
  });

  it('without membership mode, ignores the header and keeps tenant and roles from the token', async () => {
    const r = await decide(fx.authorizer(), bearer(await userAb(), 'tenant-b'));

    expect(context(r)).toMatchObject({ tenantId: 'acme', roles: 'owner' });
  });
});
