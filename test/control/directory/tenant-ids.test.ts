import { GetItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { TENANT_ID_MESSAGE } from '../../../contract/patterns';
import { tenantItemKey } from '../../../contract/table';
import { Directory } from '../../../control/directory/directory';
import { directoryFailure } from '../../support/directory-error';
import { createGatehouseTable } from '../../../local/create-table';
import { dynamoClient, uniqueName } from '../../support/aws';
import { PROVIDER_TENANT_IDS } from '../../support/tenant-ids';

/**
 * Tenant ids as identity providers issue them, through the directory on the emulator: created, read, listed and
 * keyed exactly as given; ids that differ only in case are different tenants.
 */
const db = dynamoClient();
let table: string;
let dir: Directory;

beforeAll(async () => {
  table = await createGatehouseTable(db, uniqueName('tenant-ids'));
  dir = new Directory(db, table);
});
afterAll(() => db.destroy());

const failure = directoryFailure;

describe.each(Object.entries(PROVIDER_TENANT_IDS))('a %s organization id (%s) as a tenant id', (_, id) => {
  it('is created, read and listed exactly as given, under the key TENANT#<id>', async () => {
    expect(await dir.createTenant({ tenantId: id, tier: 'default', name: 'Org' })).toMatchObject({ tenantId: id, status: 'active' });
    expect(await dir.getTenant(id)).toMatchObject({ tenantId: id, tier: 'default', name: 'Org' });
    expect((await dir.listTenants()).map((t) => t.tenantId)).toContain(id);
    const item = await db.send(new GetItemCommand({ TableName: table, Key: { pk: { S: `TENANT#${id}` }, sk: { S: 'TENANT' } } }));
    expect(item.Item?.tenantId?.S).toBe(id);
    expect(tenantItemKey(id).pk).toBe(`TENANT#${id}`);
  });

  it('gets API keys and members, listed under it and found only under it', async () => {
    const { record } = await dir.createApiKey({ tenantId: id, name: 'server', scopes: ['customers:read'], prefix: 'gh', environment: 'test' });
    expect(record.tenantId).toBe(id);
    expect((await dir.listApiKeys(id)).map((k) => k.keyId)).toEqual([record.keyId]);
    await dir.addMember(id, 'supabase', 'user-1', 'admin');
    expect(await dir.listMembers(id)).toEqual([expect.objectContaining({ tenantId: id, subject: 'user-1', role: 'admin' })]);

    // The same id in another case names no tenant: nothing of this one is found under it.
    const other = id.toUpperCase() === id ? id.toLowerCase() : id.toUpperCase();
    expect(await dir.listApiKeys(other)).toEqual([]);
    expect(await dir.listMembers(other)).toEqual([]);
    expect((await failure(dir.revokeApiKey(other, record.keyId))).code).toBe('KEY_NOT_FOUND');
    expect((await failure(dir.getTenant(other))).code).toBe('TENANT_NOT_FOUND');
    expect((await dir.revokeApiKey(id, record.keyId)).status).toBe('revoked');
  });
});

describe('case-sensitive tenant ids', () => {
  it('keeps Acme, acme and ACME apart: three tenants, each with its own tier, status, keys and members', async () => {
    await dir.createTenant({ tenantId: 'Acme', tier: 'pro' });
    await dir.createTenant({ tenantId: 'acme', tier: 'default' });
    await dir.createTenant({ tenantId: 'ACME', tier: 'default' });
    expect((await failure(dir.createTenant({ tenantId: 'Acme', tier: 'default' }))).code).toBe('TENANT_EXISTS');

    const upper = await dir.createApiKey({ tenantId: 'Acme', name: 'k', scopes: [], prefix: 'gh', environment: 'test' });
    await dir.addMember('acme', 'supabase', 'user-lower', 'member');
    await dir.setTenantStatus('ACME', 'suspended');

    expect(await dir.getTenant('Acme')).toMatchObject({ tenantId: 'Acme', tier: 'pro', status: 'active' });
    expect(await dir.getTenant('acme')).toMatchObject({ tenantId: 'acme', tier: 'default', status: 'active' });
    expect(await dir.getTenant('ACME')).toMatchObject({ tenantId: 'ACME', status: 'suspended' });
    expect((await dir.listApiKeys('Acme')).map((k) => k.keyId)).toEqual([upper.record.keyId]);
    expect(await dir.listApiKeys('acme')).toEqual([]);
    expect(await dir.listMembers('Acme')).toEqual([]);
    expect((await dir.listMembers('acme')).map((m) => m.subject)).toEqual(['user-lower']);
    expect((await failure(dir.revokeApiKey('acme', upper.record.keyId))).code).toBe('KEY_NOT_FOUND');
    expect((await failure(dir.createApiKey({ tenantId: 'ACME', name: 'k', scopes: [], prefix: 'gh', environment: 'test' }))).code).toBe('TENANT_SUSPENDED');
    expect((await failure(dir.createApiKey({ tenantId: 'aCmE', name: 'k', scopes: [], prefix: 'gh', environment: 'test' }))).code).toBe('TENANT_NOT_FOUND');
    expect((await dir.listTenants()).map((t) => t.tenantId).filter((t) => t.toLowerCase() === 'acme').sort()).toEqual(['ACME', 'Acme', 'acme']);
  });
});

describe('malformed tenant ids', () => {
  it.each([
    ['a key separator', 'a#b'],
    ['a wildcard', 'a*'],
    ['a slash', 'a/b'],
    ['a space', 'a b'],
    ['a tab', 'a\tb'],
    ['a NUL', 'a\u0000b'],
    ['a dot', 'a.b'],
    ['nothing', ''],
    ['129 characters', 'a'.repeat(129)],
    ['a leading dash', '-acme'],
    ['a leading underscore', '_acme'],
    ['non-ASCII', 'tenänt'],
  ])(
    'refuses an id with %s everywhere with the rule, before writing anything',
    async (_, id) => {
      const before = (await db.send(new ScanCommand({ TableName: table, Select: 'COUNT' }))).Count;
      const attempts = [
        dir.createTenant({ tenantId: id, tier: 'default' }),
        dir.getTenant(id),
        dir.setTenantStatus(id, 'suspended'),
        dir.createApiKey({ tenantId: id, name: 'k', scopes: [], prefix: 'gh', environment: 'test' }),
        dir.listApiKeys(id),
        dir.addMember(id, 'supabase', 'user-1', 'member'),
        dir.listMembers(id),
      ];
      for (const attempt of attempts) expect(await failure(attempt)).toEqual({ code: 'INVALID_INPUT', message: `tenant: ${TENANT_ID_MESSAGE}` });
      expect((await db.send(new ScanCommand({ TableName: table, Select: 'COUNT' }))).Count).toBe(before);
    },
  );
});
