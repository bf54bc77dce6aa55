import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { TenantStore } from '../../../lambdas/authorizer/store';
import { TenantCheck } from '../../../lambdas/authorizer/tenant-check';
import { PROVIDER_TENANT_IDS } from '../../support/tenant-ids';
import { putTenantItem } from './records';
import { LOOKUP, apiKey, emulatorTable, reasonOf, refusalOf, service, signer, unreachableDynamoDb, user } from './steps';

/** The tenant step alone: TenantCheck over a TenantStore on the emulator's table. */
const env = emulatorTable('gatehouse-tenants');
beforeAll(async () => {
  await putTenantItem(env.tableName, 'acme', { status: 'active', tier: 'pro', usageKey: 'usage-acme' });
  await putTenantItem(env.tableName, 'plain', { status: 'active', tier: 'default' });
  await putTenantItem(env.tableName, 'frozen', { status: 'suspended', tier: 'default' });
  await putTenantItem(env.tableName, 'garbled', { status: 'sleeping', tier: 'default' });
  // Two tenants whose ids differ only in case, and a provider's organization id.
  await putTenantItem(env.tableName, 'Acme', { status: 'active', tier: 'enterprise' });
  await putTenantItem(env.tableName, 'ACME', { status: 'suspended', tier: 'default' });
  await putTenantItem(env.tableName, PROVIDER_TENANT_IDS.clerk, { status: 'active', tier: 'pro' });
});

function tenants(opts: { requireUsageKey?: boolean; client?: DynamoDBClient; verify?: boolean } = {}) {
  const client = opts.client ?? env.clients.dynamodb;
  const store = opts.verify === false ? undefined : new TenantStore(() => client, env.tableName, LOOKUP, Date.now);
  return new TenantCheck(store, { requireUsageKey: opts.requireUsageKey ?? false });
}

describe('tenant step', () => {
  it("answers a user's and an API key's active tenant with its record", async () => {
    const record = { tenantId: 'acme', status: 'active', tier: 'pro', usageKey: 'usage-acme' };

    await expect(tenants().tenantOf(user({ tenantId: 'acme' }))).resolves.toEqual(record);
    await expect(tenants().tenantOf(apiKey({ tenantId: 'acme' }))).resolves.toEqual(record);
  });

  it('reads nothing for services and signers, which belong to no tenant', async () => {
    await expect(tenants().tenantOf(service())).resolves.toBeUndefined();
    await expect(tenants().tenantOf(signer())).resolves.toBeUndefined();
    expect(env.clients.count('GetItemCommand')).toBe(0);
  });

  it('lets a user whose issuer does not require a tenant through without one', async () => {
    await expect(tenants().tenantOf(user({ tenantId: undefined, tenantRequired: false }))).resolves.toBeUndefined();
    expect(env.clients.count('GetItemCommand')).toBe(0);
  });

  it('refuses a user who must have a tenant and has none as TENANT_MISSING', async () => {
    expect(await reasonOf(() => tenants().tenantOf(user({ tenantId: undefined, tenantRequired: true })))).toBe('TENANT_MISSING');
  });

  it('refuses a tenant with no record as TENANT_UNKNOWN', async () => {
    expect(await reasonOf(() => tenants().tenantOf(user({ tenantId: 'nobody' })))).toBe('TENANT_UNKNOWN');
  });

  it('refuses a suspended tenant as TENANT_SUSPENDED', async () => {
    expect(await reasonOf(() => tenants().tenantOf(apiKey({ tenantId: 'frozen' })))).toBe('TENANT_SUSPENDED');
  });

  it('refuses a tenant with no usage-plan key as TENANT_NOT_ONBOARDED only when the configuration requires one', async () => {
    expect(await reasonOf(() => tenants({ requireUsageKey: true }).tenantOf(user({ tenantId: 'plain' })))).toBe('TENANT_NOT_ONBOARDED');
    await expect(tenants().tenantOf(user({ tenantId: 'plain' }))).resolves.toMatchObject({ tenantId: 'plain' });
    await expect(tenants({ requireUsageKey: true }).tenantOf(user({ tenantId: 'acme' }))).resolves.toMatchObject({ tenantId: 'acme' });
  });

  it('takes the tenant id as it is, reading nothing, when tenants are not verified', async () => {
    await expect(tenants({ verify: false }).tenantOf(user({ tenantId: 'nobody' }))).resolves.toBeUndefined();
    expect(env.clients.count('GetItemCommand')).toBe(0);
  });

  it('still refuses a user who must have a tenant and has none when tenants are not verified', async () => {
    expect(await reasonOf(() => tenants({ verify: false }).tenantOf(user({ tenantId: undefined, tenantRequired: true })))).toBe('TENANT_MISSING');
  });

  it("reads the tenant id exactly: Acme, ACME and acme are three tenants, a provider's organization id is one", async () => {
    await expect(tenants().tenantOf(user({ tenantId: 'Acme' }))).resolves.toEqual({ tenantId: 'Acme', status: 'active', tier: 'enterprise' });
    await expect(tenants().tenantOf(apiKey({ tenantId: 'acme' }))).resolves.toMatchObject({ tenantId: 'acme', tier: 'pro' });
    expect(await reasonOf(() => tenants().tenantOf(user({ tenantId: 'ACME' })))).toBe('TENANT_SUSPENDED');
    expect(await reasonOf(() => tenants().tenantOf(user({ tenantId: 'aCME' })))).toBe('TENANT_UNKNOWN');
    const clerk = PROVIDER_TENANT_IDS.clerk;
    await expect(tenants().tenantOf(user({ tenantId: clerk }))).resolves.toMatchObject({ tenantId: clerk, tier: 'pro' });
    expect(await reasonOf(() => tenants().tenantOf(user({ tenantId: clerk.toLowerCase() })))).toBe('TENANT_UNKNOWN');
  });

  it.each([
    // A token's tenant claim passes the looser identifier pattern; none of these can be a tenant id.
    ['a dot', 'acme.corp'],
    ['a colon', 'org:acme'],
    ['an at sign', 'acme@corp'],
    ['129 characters', 'a'.repeat(129)],
    ['a leading dash', '-acme'],
    ['a key separator (a stored record written by hand)', 'acme#CUSTOMERS'],
  ])('refuses a tenant id with %s as TENANT_UNKNOWN before any read, verified or not, without echoing it', async (_, tenantId) => {
    for (const verify of [true, false]) {
      const refusal = await refusalOf(() => tenants({ verify }).tenantOf(user({ tenantId })));
      expect(refusal.code).toBe('TENANT_UNKNOWN');
      expect(refusal.detail).toEqual({ tenantIdMalformed: true });
      expect(await reasonOf(() => tenants({ verify }).tenantOf(apiKey({ tenantId })))).toBe('TENANT_UNKNOWN');
    }
    expect(env.clients.count('GetItemCommand')).toBe(0);
  });

  it('fails closed as TENANT_STORE_UNAVAILABLE on a record it cannot decode, naming the field', async () => {
    const refusal = await refusalOf(() => tenants().tenantOf(user({ tenantId: 'garbled' })));

    expect(refusal.code).toBe('TENANT_STORE_UNAVAILABLE');
    expect(refusal.detail).toEqual({ tenantId: 'garbled', field: 'status' });
  });

  it('fails closed as TENANT_STORE_UNAVAILABLE when the table cannot be read', async () => {
    const client = unreachableDynamoDb();
    try {
      const refusal = await refusalOf(() => tenants({ client }).tenantOf(user({ tenantId: 'acme' })));

      expect(refusal.code).toBe('TENANT_STORE_UNAVAILABLE');
      expect(refusal.outcome).toBe('error');
    } finally {
      client.destroy();
    }
  });
});
