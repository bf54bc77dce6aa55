import { DEMO_TENANT, OTHER_TENANT } from '../../local/provision';
import { type LocalWithCli, bearer, call, exampleConfig, startLocalWithCli, waitForStatus } from '../support/local';

/**
 * Membership mode in local mode, driven by the command-line tool: the tenant comes from X-Tenant-Id and a member
 * record, roles from that record; self-service keys follow the member's role; removing a member takes effect
 * within the reported bound.
 */
let local: LocalWithCli;
let base: string;

beforeAll(async () => {
  const example = exampleConfig();
  local = await startLocalWithCli({
    ...example,
    membership: { cacheTtlSeconds: 1, negativeCacheTtlSeconds: 1 },
    deployment: { ...(example.deployment as object), authorizerResultTtlSeconds: 2 },
  });
  base = local.env.credentials.baseUrl;
});
afterAll(() => local.close());

const mint = async (sub: string) => (await local.cli('--json', 'tokens', 'mint', '--sub', sub, '--scope', 'customers:read')).json().token as string;
const asTenant = (token: string, tenant: string) => bearer(token, { 'X-Tenant-Id': tenant });

it('one user, two tenants: each request acts in the tenant it names, with the role the membership gives', async () => {
  const token = await mint('multi');
  expect((await local.cli('members', 'add', '--tenant', DEMO_TENANT, '--user', 'multi', '--role', 'admin')).code).toBe(0);
  expect((await local.cli('members', 'add', '--tenant', OTHER_TENANT, '--user', 'multi', '--role', 'member')).code).toBe(0);

  const inDemo = await call(base, 'GET', '/v1/me', asTenant(token, DEMO_TENANT));
  const inGlobex = await call(base, 'GET', '/v1/me', asTenant(token, OTHER_TENANT));
  expect(inDemo.body).toMatchObject({ tenantId: DEMO_TENANT, roles: ['admin'] });
  expect(inGlobex.body).toMatchObject({ tenantId: OTHER_TENANT, roles: ['member'] });

  // Admin in demo: may manage demo's keys. Member in globex: may not manage globex's.
  expect((await call(base, 'POST', '/v1/api-keys', asTenant(token, DEMO_TENANT), { name: 'k', scopes: ['customers:read'] })).status).toBe(201);
  expect((await call(base, 'POST', '/v1/api-keys', asTenant(token, OTHER_TENANT), { name: 'k' })).status).toBe(403);
  expect((await call(base, 'GET', '/v1/api-keys', asTenant(token, 'initech'))).status).toBe(403);
  expect((await call(base, 'GET', '/v1/me', bearer(token))).status).toBe(401); // no tenant header
});

it('removing a member stops their requests within the bound the CLI reports', async () => {
  const token = await mint('leaver');
  await local.cli('members', 'add', '--tenant', DEMO_TENANT, '--user', 'leaver');
  const me = () => call(base, 'GET', '/v1/me', asTenant(token, DEMO_TENANT)).then((r) => r.status);
  expect(await me()).toBe(200);
  const removed = await local.cli('--json', 'members', 'remove', '--tenant', DEMO_TENANT, '--user', 'leaver');
  expect(removed.json()).toMatchObject({ removed: true, effectiveWithinSeconds: 3 });
  expect((await waitForStatus(me, 403, 4000)).status).toBe(403);
});
