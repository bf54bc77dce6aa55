import { APIGatewayClient, CreateRestApiCommand, CreateUsagePlanCommand, GetApiKeyCommand, GetApiKeysCommand, GetUsagePlanKeysCommand } from '@aws-sdk/client-api-gateway';
import { TENANT_ID_MESSAGE } from '../../contract/patterns';
import { DirectoryError } from '../../control/directory/errors';
import { UsageKeys } from '../../control/usage-keys';
import { uniqueName } from '../support/aws';
import { PROVIDER_TENANT_IDS } from '../support/tenant-ids';

/**
 * Tenants' usage-plan keys on the emulator's API Gateway: one API key per tenant, named after the tenant id exactly
 * as given (API Gateway allows any characters in a key's name, up to 1024), in its tier's plan.
 */
const api = new APIGatewayClient({ maxAttempts: 2 });
let restApiId: string;
let planId: string;
let keys: UsageKeys;

beforeAll(async () => {
  const name = uniqueName('usage-keys');
  restApiId = (await api.send(new CreateRestApiCommand({ name }))).id!;
  const plan = await api.send(new CreateUsagePlanCommand({ name: `${name}-tier-default`, apiStages: [{ apiId: restApiId, stage: 'prod' }] }));
  planId = plan.id!;
  keys = new UsageKeys(api, restApiId, 'prod');
});
afterAll(() => api.destroy());

const keysOfThisApi = async () =>
  ((await api.send(new GetApiKeysCommand({ limit: 500 }))).items ?? []).filter((k) => k.name?.startsWith(`gatehouse-${restApiId}-`));

describe('usage-plan keys of tenants', () => {
  it.each([...Object.entries(PROVIDER_TENANT_IDS), ['slug', 'acme'], ['longest', `Z${'_'.repeat(126)}9`]])(
    'tenant id %s (%s): a key named after it exactly, in its tier plan',
    async (_, tenantId) => {
      const { usageKey, usageKeyId } = await keys.create(tenantId, 'default');
      const key = await api.send(new GetApiKeyCommand({ apiKey: usageKeyId }));
      expect(key.name).toBe(`gatehouse-${restApiId}-${tenantId}`);
      expect(key.description).toContain(`tenant ${tenantId} `);
      expect(usageKey).toMatch(/^[A-Za-z0-9]{20,128}$/);
      const inPlan = await api.send(new GetUsagePlanKeysCommand({ usagePlanId: planId, limit: 500 }));
      expect(inPlan.items?.map((k) => k.id)).toContain(usageKeyId);
    },
  );

  it('gives Acme, acme and ACME a key each, each named after its own id', async () => {
    const created = await Promise.all(['Acme', 'acme', 'ACME'].map((t) => keys.create(t, 'default')));
    expect(new Set(created.map((c) => c.usageKeyId)).size).toBe(3);
    const names = await Promise.all(created.map(async (c) => (await api.send(new GetApiKeyCommand({ apiKey: c.usageKeyId }))).name));
    expect(names).toEqual(['Acme', 'acme', 'ACME'].map((t) => `gatehouse-${restApiId}-${t}`));
  });

  it.each([
    ['a key separator', 'a#b'],
    ['a slash', 'a/b'],
    ['a space', 'a b'],
    ['a dot', 'a.b'],
    ['nothing', ''],
    ['129 characters', 'a'.repeat(129)],
    ['a leading underscore', '_acme'],
  ])('refuses a tenant id with %s before creating anything in API Gateway', async (_, tenantId) => {
    const before = (await keysOfThisApi()).length;
    const err = await keys.create(tenantId, 'default').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DirectoryError);
    expect(err).toMatchObject({ code: 'INVALID_INPUT', message: `tenant: ${TENANT_ID_MESSAGE}` });
    expect((await keysOfThisApi()).length).toBe(before);
  });
});
