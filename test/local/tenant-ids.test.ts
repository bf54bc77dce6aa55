import { APIGatewayClient, GetApiKeyCommand } from '@aws-sdk/client-api-gateway';
import { TENANT_ID_MESSAGE } from '../../contract/patterns';
import { DEMO_TENANT } from '../../local/provision';
import { type LocalWithCli, bearer, call, exampleConfig, startLocalWithCli, waitForStatus } from '../support/local';
import { PROVIDER_TENANT_IDS } from '../support/tenant-ids';

/**
 * Tenant ids as identity providers issue them, end to end in local mode: the command-line tool creates the tenant
 * and its API key, requests go through the local gateway (authorizer, usage plans, handlers, rate limiter) to the
 * tenant's data, and a user token naming the tenant (the local issuer's `tokens mint --tenant`) reaches the same
 * data. Ids are case-sensitive: the same id in another case is another tenant.
 */
let local: LocalWithCli;
let base: string;
const apigateway = new APIGatewayClient({ maxAttempts: 2 });

// The authorizer caches tenant records (and unknown tenants) for a second here, so a change is seen within 1 s.
const TENANT_CACHE_SECONDS = 1;

beforeAll(async () => {
  local = await startLocalWithCli({ ...exampleConfig(), tenants: { verify: true, cacheTtlSeconds: TENANT_CACHE_SECONDS } });
  base = local.env.credentials.baseUrl;
});
afterAll(async () => {
  apigateway.destroy();
  await local.close();
});

const RW = ['--scope', 'customers:read', '--scope', 'customers:write'];
const createTenant = async (tenantId: string) => {
  const run = await local.cli('--json', 'tenants', 'create', tenantId, '--tier', 'default', '--name', `Org ${tenantId}`);
  expect(run.code).toBe(0);
  return run.json() as { tenantId: string; usageKeyId: string };
};
const createKey = async (tenantId: string) => {
  const run = await local.cli('--json', 'keys', 'create', '--tenant', tenantId, '--name', 'server', ...RW);
  expect(run.code).toBe(0);
  return run.json() as { key: string; keyId: string; tenantId: string };
};
const mint = async (tenantId: string, ...extra: string[]) => {
  const run = await local.cli('--json', 'tokens', 'mint', '--sub', `user-of-${tenantId}`, '--tenant', tenantId, ...RW, ...extra);
  expect(run.code).toBe(0);
  return run.json().token as string;
};
const names = (list: { body: { items: { name: string }[] } }) => list.body.items.map((c) => c.name);
/** The same id in another case (a GUID is lower-case: its twin is upper-case). */
const twin = (id: string) => (id.toLowerCase() === id ? id.toUpperCase() : id.toLowerCase());

describe.each(Object.entries(PROVIDER_TENANT_IDS))('a %s organization id (%s) as the tenant, end to end', (provider, tenantId) => {
  it('CLI creates the tenant and an API key; the key writes and reads the tenant’s customers; another tenant sees none', async () => {
    const tenant = await createTenant(tenantId);
    expect(tenant).toMatchObject({ tenantId, status: 'active', tier: 'default' });
    // Its usage-plan key in API Gateway is named after the id exactly.
    const usageKey = await apigateway.send(new GetApiKeyCommand({ apiKey: tenant.usageKeyId }));
    expect(usageKey.name).toBe(`gatehouse-${local.env.gateway.restApiId}-${tenantId}`);

    const { key, tenantId: keyTenant } = await createKey(tenantId);
    expect(keyTenant).toBe(tenantId);
    expect(await call(base, 'GET', '/v1/me', bearer(key))).toMatchObject({ status: 200, body: { kind: 'apiKey', tenantId } });

    const created = await call(base, 'POST', '/v1/customers', bearer(key), { name: `Customer of ${provider}` });
    expect(created.status).toBe(201);
    const list = await call(base, 'GET', '/v1/customers', bearer(key));
    expect(list.status).toBe(200);
    expect(names(list)).toEqual([`Customer of ${provider}`]);
    expect(await call(base, 'GET', `/v1/customers/${created.body.id}`, bearer(key))).toMatchObject({ status: 200, body: { id: created.body.id } });

    // The demo tenant's key and the demo user see nothing of it, and cannot reach it by id.
    const demoKey = local.env.credentials.apiKeyWrite;
    expect(names(await call(base, 'GET', '/v1/customers', bearer(demoKey)))).not.toContain(`Customer of ${provider}`);
    expect((await call(base, 'GET', `/v1/customers/${created.body.id}`, bearer(demoKey))).status).toBe(404);
    expect((await call(base, 'DELETE', `/v1/customers/${created.body.id}`, bearer(local.env.credentials.userTokenHs256))).status).toBe(404);
    expect((await call(base, 'GET', `/v1/customers/${created.body.id}`, bearer(key))).status).toBe(200);

    // The tool lists and shows it under its exact id.
    expect((await local.cli('--json', 'tenants', 'list')).json().map((t: { tenantId: string }) => t.tenantId)).toContain(tenantId);
    expect((await local.cli('--json', 'tenants', 'show', tenantId)).json()).toMatchObject({ tenantId, apiKeys: [expect.objectContaining({ tenantId })] });
  });

  it('a user token naming the tenant reaches the same data, and an admin manages its keys (self-service)', async () => {
    const token = await mint(tenantId, '--role', 'admin');
    expect(await call(base, 'GET', '/v1/me', bearer(token))).toMatchObject({ status: 200, body: { kind: 'user', tenantId } });
    expect(names(await call(base, 'GET', '/v1/customers', bearer(token)))).toEqual([`Customer of ${provider}`]);
    expect((await call(base, 'POST', '/v1/customers', bearer(token), { name: `Second of ${provider}` })).status).toBe(201);
    expect(names(await call(base, 'GET', '/v1/customers', bearer((await createKey(tenantId)).key))).sort()).toEqual(
      [`Customer of ${provider}`, `Second of ${provider}`].sort(),
    );

    const selfService = await call(base, 'POST', '/v1/api-keys', bearer(token), { name: 'ci', scopes: ['customers:read'] });
    expect(selfService).toMatchObject({ status: 201, body: { tenantId } });
    expect(names(await call(base, 'GET', '/v1/customers', bearer(selfService.body.key)))).toHaveLength(2);
  });

  it('the same id in another case is another tenant: unknown (403) until created, then with data of its own', async () => {
    const other = twin(tenantId);
    expect((await call(base, 'GET', '/v1/customers', bearer(await mint(other)))).status).toBe(403);
    expect((await local.cli('--json', 'keys', 'create', '--tenant', other, '--name', 'x')).code).toBe(3); // TENANT_NOT_FOUND

    await createTenant(other);
    // The authorizer remembers the twin as unknown for its negative cache TTL (a fresh token per probe: API
    // Gateway's result cache keeps each credential's answer).
    const seen = await waitForStatus(async () => (await call(base, 'GET', '/v1/customers', bearer(await mint(other)))).status, 200, (TENANT_CACHE_SECONDS + 1) * 1000);
    expect(seen.status).toBe(200);
    expect(await call(base, 'GET', '/v1/customers', bearer(await mint(other)))).toMatchObject({ status: 200, body: { items: [] } });
    const { key } = await createKey(other);
    expect(await call(base, 'GET', '/v1/customers', bearer(key))).toMatchObject({ status: 200, body: { items: [] } });
  });
});

describe('Acme and acme', () => {
  it('are two tenants: keys, tokens and data of one never reach the other', async () => {
    await createTenant('Acme');
    await createTenant('acme');
    expect((await local.cli('--json', 'tenants', 'create', 'Acme')).code).toBe(4); // TENANT_EXISTS
    const [upper, lower] = [await createKey('Acme'), await createKey('acme')];
    expect((await call(base, 'POST', '/v1/customers', bearer(upper.key), { name: 'Upper Acme Co' })).status).toBe(201);
    expect((await call(base, 'POST', '/v1/customers', bearer(await mint('acme')), { name: 'lower acme co' })).status).toBe(201);

    expect(names(await call(base, 'GET', '/v1/customers', bearer(upper.key)))).toEqual(['Upper Acme Co']);
    expect(names(await call(base, 'GET', '/v1/customers', bearer(await mint('Acme'))))).toEqual(['Upper Acme Co']);
    expect(names(await call(base, 'GET', '/v1/customers', bearer(lower.key)))).toEqual(['lower acme co']);
    expect(names(await call(base, 'GET', '/v1/customers', bearer(await mint('acme'))))).toEqual(['lower acme co']);

    // Suspending one leaves the other in.
    expect((await local.cli('tenants', 'suspend', 'Acme')).code).toBe(0);
    const suspended = await waitForStatus(async () => (await call(base, 'GET', '/v1/customers', bearer(await mint('Acme')))).status, 403, (TENANT_CACHE_SECONDS + 1) * 1000);
    expect(suspended.status).toBe(403);
    expect((await call(base, 'GET', '/v1/customers', bearer(await mint('acme')))).status).toBe(200);
  });
});

describe('malformed tenant ids', () => {
  it.each([['acme#CUSTOMERS'], ['org.acme'], ['org/acme'], ['org acme'], ['_acme'], ['a'.repeat(129)]])(
    'tenants create %j: exit 2 with the rule, nothing created',
    async (tenantId) => {
      const run = await local.cli('--json', 'tenants', 'create', tenantId);
      expect(run.code).toBe(2);
      expect(JSON.parse(run.stderr)).toEqual({ error: 'INVALID_INPUT', message: `tenant: ${TENANT_ID_MESSAGE}` });
    },
  );

  it('a token whose tenant claim is no tenant id is refused (403), not let through to the data', async () => {
    expect((await call(base, 'GET', '/v1/customers', bearer(await mint(`${DEMO_TENANT}.corp`)))).status).toBe(403);
    expect((await call(base, 'GET', '/v1/customers', bearer(await mint(DEMO_TENANT)))).status).toBe(200);
  });

  it('the help says what a tenant id is', async () => {
    const help = await local.cli('tenants', 'create', '--help');
    expect(help.stdout).toContain('1-128 of A-Z a-z 0-9 _ -');
    expect(help.stdout).toContain('case-sensitive');
  });
});
