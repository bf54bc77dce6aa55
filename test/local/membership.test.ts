import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { type AuthorizerConfigInput, parseConfig } from '../../contract/config';
import { createLocalGateway, type LocalGateway, type LambdaHandler } from '../../local/gateway';
import { type Fixture, createFixture } from '../support/fixture';
import { putMember } from '../lambdas/authorizer/records';
import { TENANT_HEADER } from '../../contract/headers';

/**
 * Membership mode through the local gateway and its result cache, with the real authorizer and member items on the
 * emulator. API Gateway caches an authorizer's answer by its identity-source values and reuses it on every method:
 * routes that accept users are keyed by Authorization AND the tenant header, so one token gets each tenant's own
 * answer, and a cached answer for one tenant is never handed to a request that names another.
 */
const ROUTES: AuthorizerConfigInput['routes'] = [
  { method: 'GET', path: '/health', public: true, handler: 'echo' },
  { method: 'GET', path: '/v1/me', accepts: ['user', 'apiKey'], handler: 'echo' },
  { method: 'GET', path: '/v1/projects', accepts: ['user'], handler: 'echo' },
  { method: 'GET', path: '/v1/usage', accepts: ['apiKey'], handler: 'echo' },
  { method: 'POST', path: '/internal/jobs', accepts: ['service'], handler: 'echo' },
];
// The handler echoes the context API Gateway hands it: what a downstream service would act on.
const echo: LambdaHandler<APIGatewayProxyEvent, APIGatewayProxyResult> = async (event) => ({
  statusCode: 200,
  body: JSON.stringify(event.requestContext.authorizer ?? {}),
});

let fx: Fixture;
const gateways: LocalGateway[] = [];
beforeAll(async () => {
  fx = await createFixture();
  for (const tenantId of ['tenant-a', 'tenant-b']) await fx.putTenant({ tenantId });
  await putMember(fx.tableName, { tenantId: 'tenant-a', issuer: 'supabase', subject: 'user-ab', role: 'admin' });
  await putMember(fx.tableName, { tenantId: 'tenant-b', issuer: 'supabase', subject: 'user-ab', role: 'member' });
  await putMember(fx.tableName, { tenantId: 'tenant-a', issuer: 'supabase', subject: 'user-a', role: 'member' });
});
afterAll(async () => {
  await Promise.all(gateways.map((g) => g.close()));
  await fx.close();
});

/** A local gateway over the fixture's authorizer in membership mode; `tenantHeader` as local mode would pass it. */
async function start(tenantHeader: string | undefined) {
  const config = { ...fx.config, routes: ROUTES, membership: {} };
  const authorize = fx.authorizer(config);
  const gateway = createLocalGateway({
    routes: parseConfig(config).routes,
    authorizer: (event) => authorize(event),
    handlers: { echo },
    resultTtlSeconds: 300,
    ...(tenantHeader ? { tenantHeader } : {}),
  });
  gateways.push(gateway);
  const base = await gateway.listen();
  const call = async (path: string, headers: Record<string, string>, method = 'GET') => {
    const res = await fetch(`${base}${path}`, { method, headers });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };
  return { gateway, call };
}
const auth = (token: string, tenant?: string) => ({ Authorization: `Bearer ${token}`, ...(tenant ? { [TENANT_HEADER]: tenant } : {}) });

describe('membership mode through the local gateway', () => {
  it("gives one token tenant A's context with X-Tenant-Id: A and B's with B, each cached under its own key", async () => {
    const { gateway, call } = await start(TENANT_HEADER);
    const token = await fx.userToken({ sub: 'user-ab' });

    const a1 = await call('/v1/me', auth(token, 'tenant-a'));
    const b1 = await call('/v1/me', auth(token, 'tenant-b'));
    const callsAfterBoth = gateway.authorizerCalls();
    // Both answers are now cached: the same requests, on the same or another user route, reuse them.
    const a2 = await call('/v1/projects', auth(token, 'tenant-a'));
    const b2 = await call('/v1/me', auth(token, 'tenant-b'));

    expect(a1).toMatchObject({ status: 200, body: { tenantId: 'tenant-a', roles: 'admin', subject: 'user-ab' } });
    expect(b1).toMatchObject({ status: 200, body: { tenantId: 'tenant-b', roles: 'member', subject: 'user-ab' } });
    expect(a2).toMatchObject({ status: 200, body: { tenantId: 'tenant-a', roles: 'admin' } });
    expect(b2).toMatchObject({ status: 200, body: { tenantId: 'tenant-b', roles: 'member' } });
    expect(callsAfterBoth).toBe(2);
    expect(gateway.authorizerCalls()).toBe(2);
  });

  it("refuses a user who is not a member of B for B, even while A's Allow for the same token is cached", async () => {
    const { gateway, call } = await start(TENANT_HEADER);
    const token = await fx.userToken({ sub: 'user-a' });

    const a = await call('/v1/me', auth(token, 'tenant-a'));
    const b = await call('/v1/me', auth(token, 'tenant-b'));
    const bAgain = await call('/v1/projects', auth(token, 'tenant-b'));
    const aAgain = await call('/v1/me', auth(token, 'tenant-a'));

    expect(a).toMatchObject({ status: 200, body: { tenantId: 'tenant-a' } });
    expect(b).toMatchObject({ status: 403, body: { error: 'forbidden' } });
    expect(bAgain.status).toBe(403);
    expect(aAgain).toMatchObject({ status: 200, body: { tenantId: 'tenant-a' } });
    expect(gateway.authorizerCalls()).toBe(2);
  });

  it('answers 401 without calling the authorizer when a user route gets no tenant header, as API Gateway does', async () => {
    const { gateway, call } = await start(TENANT_HEADER);
    const token = await fx.userToken({ sub: 'user-ab' });

    expect((await call('/v1/me', auth(token))).status).toBe(401);
    expect((await call('/v1/me', { ...auth(token), [TENANT_HEADER]: '' })).status).toBe(401);
    expect(gateway.authorizerCalls()).toBe(0);
  });

  it('keys API-key-only routes by Authorization alone and service routes by Authorization and X-Service-Name', async () => {
    const { gateway, call } = await start(TENANT_HEADER);
    const { key } = await fx.putApiKey({ tenantId: 'tenant-a' });

    // A route that accepts users and API keys needs the header from both (it is an identity source there).
    expect((await call('/v1/me', auth(key))).status).toBe(401);
    expect(await call('/v1/me', auth(key, 'tenant-a'))).toMatchObject({ status: 200, body: { kind: 'apiKey', tenantId: 'tenant-a' } });
    expect(await call('/v1/me', auth(key, 'tenant-b'))).toMatchObject({ status: 403 });
    expect(await call('/v1/usage', auth(key))).toMatchObject({ status: 200, body: { kind: 'apiKey', tenantId: 'tenant-a' } });
    const service = await call('/internal/jobs', { Authorization: `Bearer ${fx.serviceSecret}`, 'X-Service-Name': fx.serviceName }, 'POST');
    expect(service).toMatchObject({ status: 200, body: { kind: 'service', tenantId: '' } });
    expect(gateway.authorizerCalls()).toBe(4);
  });

  it("without the tenant header as an identity source, the cache would hand B's request A's answer (why the third authorizer exists)", async () => {
    const { call } = await start(undefined);
    const token = await fx.userToken({ sub: 'user-a' });

    await call('/v1/me', auth(token, 'tenant-a'));
    const b = await call('/v1/me', auth(token, 'tenant-b'));

    // The request names tenant B, of which user-a is no member; the cached answer for A lets it through as A.
    expect(b).toMatchObject({ status: 200, body: { tenantId: 'tenant-a' } });
  });
});
