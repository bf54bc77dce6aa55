import { type LocalWithCli, bearer, call, exampleConfig, startLocalWithCli } from '../support/local';
import { PROVIDER_TENANT_IDS } from '../support/tenant-ids';

/**
 * Membership mode in local mode with tenant ids as identity providers issue them: the tenant header (an identity
 * source, so part of API Gateway's result-cache key) names the tenant exactly. One token with `X-Tenant-Id: Acme`
 * and with `X-Tenant-Id: acme` is two requests for two tenants, each answered and cached on its own. The same on
 * both kinds of API: the authorizer answers these refusals with a Deny (403) on either.
 */
describe.each(['rest', 'http'] as const)('%s API', (api) => {
  let local: LocalWithCli;
  let base: string;
  let token: string;
  const CLERK = PROVIDER_TENANT_IDS.clerk;

  beforeAll(async () => {
    // The kind of API from the configuration's deployment.api, as a deployment names it.
    const example = exampleConfig();
    local = await startLocalWithCli({ ...example, membership: {}, deployment: { ...(example.deployment as object), api } });
    expect(local.env.gateway.api).toBe(api);
    base = local.env.credentials.baseUrl;
    for (const tenant of ['Acme', 'acme', CLERK]) expect((await local.cli('tenants', 'create', tenant)).code).toBe(0);
    expect((await local.cli('members', 'add', '--tenant', 'Acme', '--user', 'multi', '--role', 'admin')).code).toBe(0);
    expect((await local.cli('members', 'add', '--tenant', CLERK, '--user', 'multi', '--role', 'member')).code).toBe(0);
    const minted = await local.cli('--json', 'tokens', 'mint', '--sub', 'multi', '--scope', 'customers:read', '--scope', 'customers:write');
    token = minted.json().token;
  });
  afterAll(() => local.close());

  const as = (tenant: string, credential = token) => bearer(credential, { 'X-Tenant-Id': tenant });

  it('one token: Acme (a member) and acme (not one) get their own answers, each cached under its own header value', async () => {
    const calls = () => local.env.gateway.authorizerCalls();
    const before = calls();
    expect(await call(base, 'GET', '/v1/me', as('Acme'))).toMatchObject({ status: 200, body: { tenantId: 'Acme', roles: ['admin'] } });
    expect((await call(base, 'GET', '/v1/me', as('acme'))).status).toBe(403);
    expect((await call(base, 'GET', '/v1/me', as('ACME'))).status).toBe(403); // no such tenant
    // Cached: the same requests again call the authorizer no more, and still get their own answers.
    const afterThree = calls();
    expect(await call(base, 'GET', '/v1/me', as('Acme'))).toMatchObject({ status: 200, body: { tenantId: 'Acme' } });
    expect((await call(base, 'GET', '/v1/me', as('acme'))).status).toBe(403);
    expect(afterThree - before).toBe(3);
    expect(calls()).toBe(afterThree);
  });

  it("a provider's org id in the header reaches that tenant's data, and its lower-case twin does not", async () => {
    const created = await call(base, 'POST', '/v1/customers', as(CLERK), { name: 'Clerk customer' });
    expect(created).toMatchObject({ status: 201 });
    const list = await call(base, 'GET', '/v1/customers', as(CLERK));
    expect(list.body.items.map((c: { name: string }) => c.name)).toEqual(['Clerk customer']);
    expect(await call(base, 'GET', '/v1/me', as(CLERK))).toMatchObject({ status: 200, body: { tenantId: CLERK, roles: ['member'] } });
    expect((await call(base, 'GET', '/v1/customers', as(CLERK.toLowerCase()))).status).toBe(403);
    expect((await call(base, 'GET', '/v1/customers', as('Acme'))).body.items).toEqual([]);
  });

  it("an API key names only its own tenant, exactly: Acme's key with X-Tenant-Id: acme is refused", async () => {
    const { key } = (await local.cli('--json', 'keys', 'create', '--tenant', 'Acme', '--name', 'k', '--scope', 'customers:read')).json();
    expect(await call(base, 'GET', '/v1/me', as('Acme', key))).toMatchObject({ status: 200, body: { kind: 'apiKey', tenantId: 'Acme' } });
    expect((await call(base, 'GET', '/v1/me', as('acme', key))).status).toBe(403);
  });

  it.each([['Acme.corp'], ['Acme#MEMBER'], ['Acme,acme'], ['_Acme']])('refuses the header %j (403)', async (value) => {
    expect((await call(base, 'GET', '/v1/me', as(value))).status).toBe(403);
  });
});
