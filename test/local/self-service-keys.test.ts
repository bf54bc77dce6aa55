import { DEMO_TENANT, OTHER_TENANT } from '../../local/provision';
import { type LocalWithCli, bearer, call, exampleConfig, startLocalWithCli } from '../support/local';

/**
 * Self-service API keys through the local gateway: a tenant admin (user JWT with the admin role in the tenant)
 * manages its own tenant's keys, and never another tenant's.
 */
let local: LocalWithCli;
let base: string;
let demoAdmin: string;
let globexAdmin: string;

beforeAll(async () => {
  local = await startLocalWithCli({ ...exampleConfig(), apiKeys: { prefix: 'gh', cacheTtlSeconds: 0, negativeCacheTtlSeconds: 0, maxPerTenant: 5 }, deployment: { authorizerResultTtlSeconds: 0 } });
  base = local.env.credentials.baseUrl;
  demoAdmin = local.env.credentials.userTokenHs256;
  globexAdmin = local.env.credentials.otherTenantToken;
});
afterAll(() => local.close());

const mint = async (...args: string[]) => (await local.cli('--json', 'tokens', 'mint', ...args)).json().token as string;

describe('a tenant admin', () => {
  it("creates a key for its own tenant (shown once), lists it, and the key acts for that tenant", async () => {
    const created = await call(base, 'POST', '/v1/api-keys', bearer(demoAdmin), { name: 'ci', scopes: ['customers:read'], expiresInDays: 30 });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ tenantId: DEMO_TENANT, name: 'ci', scopes: ['customers:read'], status: 'active', key: expect.stringMatching(/^gh_test_/) });
    const me = await call(base, 'GET', '/v1/me', bearer(created.body.key));
    expect(me.body).toMatchObject({ kind: 'apiKey', tenantId: DEMO_TENANT, keyId: created.body.keyId });

    const list = await call(base, 'GET', '/v1/api-keys', bearer(demoAdmin));
    expect(list.status).toBe(200);
    expect(list.body.items.map((k: { keyId: string }) => k.keyId)).toContain(created.body.keyId);
    expect(JSON.stringify(list.body)).not.toContain(created.body.key);
    expect(list.body.items.every((k: { tenantId: string }) => k.tenantId === DEMO_TENANT)).toBe(true);
  });

  it("cannot see, revoke or create keys of another tenant", async () => {
    const demoKey = (await call(base, 'POST', '/v1/api-keys', bearer(demoAdmin), { name: 'victim', scopes: ['customers:read'] })).body;

    const theirList = await call(base, 'GET', '/v1/api-keys', bearer(globexAdmin));
    expect(theirList.status).toBe(200);
    expect(theirList.body.items.map((k: { keyId: string }) => k.keyId)).not.toContain(demoKey.keyId);

    const revoke = await call(base, 'DELETE', `/v1/api-keys/${demoKey.keyId}`, bearer(globexAdmin));
    expect(revoke.status).toBe(404);
    expect((await call(base, 'GET', '/v1/customers', bearer(demoKey.key))).status).toBe(200);

    // The tenant comes only from the caller's credential: a body naming another tenant is refused, not obeyed.
    const smuggled = await call(base, 'POST', '/v1/api-keys', bearer(globexAdmin), { name: 'x', tenantId: DEMO_TENANT });
    expect(smuggled.status).toBe(400);
    const own = await call(base, 'POST', '/v1/api-keys', bearer(globexAdmin), { name: 'theirs' });
    expect(own.body.tenantId).toBe(OTHER_TENANT);
    expect((await local.cli('--json', 'keys', 'list', '--tenant', DEMO_TENANT)).json().map((k: { keyId: string }) => k.keyId)).not.toContain(own.body.keyId);

    const mine = await call(base, 'DELETE', `/v1/api-keys/${demoKey.keyId}`, bearer(demoAdmin));
    expect(mine.status).toBe(200);
    expect(mine.body).toMatchObject({ keyId: demoKey.keyId, status: 'revoked' });
    expect((await call(base, 'GET', '/v1/customers', bearer(demoKey.key))).status).toBe(401);
  });

  it('may not give a key scopes it does not hold', async () => {
    const admin = await mint('--sub', 'limited-admin', '--tenant', DEMO_TENANT, '--role', 'admin', '--scope', 'customers:read');
    const r = await call(base, 'POST', '/v1/api-keys', bearer(admin), { name: 'x', scopes: ['customers:read', 'customers:write'] });
    expect(r.status).toBe(403);
    expect(r.body).toEqual({ error: 'forbidden', message: 'a key may carry only scopes you hold yourself', scopes: ['customers:write'] });
  });
});

describe('anyone else', () => {
  it('a user without the admin role is refused', async () => {
    const user = await mint('--sub', 'plain-user', '--tenant', DEMO_TENANT, '--scope', 'customers:read');
    for (const [method, p] of [['GET', '/v1/api-keys'], ['POST', '/v1/api-keys'], ['DELETE', '/v1/api-keys/key_0123456789abcdef']] as const) {
      const r = await call(base, method, p, bearer(user), method === 'POST' ? { name: 'x' } : undefined);
      expect({ method, status: r.status }).toEqual({ method, status: 403 });
    }
  });

  it('an API key is refused by the authorizer (the routes accept users only)', async () => {
    const r = await call(base, 'GET', '/v1/api-keys', bearer(local.env.credentials.apiKeyWrite));
    expect(r.status).toBe(403);
  });

  it('a malformed key id is a 400 before any lookup', async () => {
    expect((await call(base, 'DELETE', '/v1/api-keys/not-a-key-id', bearer(demoAdmin))).status).toBe(400);
  });
});

describe('pages and the cap, over HTTP', () => {
  it("pages a tenant's keys, refuses another tenant's cursor, and refuses a key past apiKeys.maxPerTenant (409, CLI exit 4)", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 8 && statuses.at(-1) !== 409; i++) statuses.push((await call(base, 'POST', '/v1/api-keys', bearer(globexAdmin), { name: `k${i}` })).status);
    expect(statuses.at(-1)).toBe(409);
    expect(statuses.slice(0, -1).every((s) => s === 201)).toBe(true);
    const cli = await local.cli('--json', 'keys', 'create', '--tenant', OTHER_TENANT, '--name', 'by the tool');
    expect(cli.code).toBe(4);

    const first = await call(base, 'GET', '/v1/api-keys?limit=2', bearer(globexAdmin));
    expect(first.status).toBe(200);
    expect(first.body.items).toHaveLength(2);
    const rest = await call(base, 'GET', `/v1/api-keys?limit=100&cursor=${first.body.nextCursor}`, bearer(globexAdmin));
    expect(rest.status).toBe(200);
    expect(rest.body.items).toHaveLength(3);
    expect(rest.body.nextCursor).toBeUndefined();

    const stolen = await call(base, 'GET', `/v1/api-keys?cursor=${first.body.nextCursor}`, bearer(demoAdmin));
    expect(stolen.status).toBe(400);
    expect((await call(base, 'GET', '/v1/api-keys?limit=1000', bearer(demoAdmin))).status).toBe(400);
  });
});
