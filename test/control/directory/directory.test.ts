import { GetItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { hashApiKey, parseApiKey } from '../../../contract/api-key';
import { Directory } from '../../../control/directory/directory';
import { directoryFailure } from '../../support/directory-error';
import { apiKeyItemKey, revokedSessionItemKey } from '../../../contract/table';
import { createGatehouseTable } from '../../../local/create-table';
import { dynamoClient, uniqueName } from '../../support/aws';

const db = dynamoClient();
let table: string;
let clock = Date.parse('2026-11-23T12:00:00Z');
let dir: Directory;

beforeAll(async () => {
  table = await createGatehouseTable(db, uniqueName('directory'));
  dir = new Directory(db, table, () => clock);
  await dir.createTenant({ tenantId: 'acme', tier: 'default', name: 'Acme' });
  await dir.createTenant({ tenantId: 'globex', tier: 'pro' });
});
afterAll(() => db.destroy());

const code = directoryFailure;

describe('tenants', () => {
  it('creates, reads, lists, suspends and resumes', async () => {
    expect(await dir.getTenant('acme')).toMatchObject({ tenantId: 'acme', tier: 'default', status: 'active', name: 'Acme' });
    expect((await dir.listTenants()).map((t) => t.tenantId).sort()).toEqual(['acme', 'globex']);
    await dir.createTenant({ tenantId: 'initech', tier: 'default' });
    expect((await dir.setTenantStatus('initech', 'suspended')).status).toBe('suspended');
    expect((await dir.getTenant('initech')).status).toBe('suspended');
    expect((await dir.setTenantStatus('initech', 'active')).status).toBe('active');
  });

  it('refuses a duplicate, an unknown tenant and a malformed id, naming the field', async () => {
    expect((await code(dir.createTenant({ tenantId: 'acme', tier: 'default' }))).code).toBe('TENANT_EXISTS');
    expect((await code(dir.setTenantStatus('nobody', 'suspended'))).code).toBe('TENANT_NOT_FOUND');
    const bad = await code(dir.createTenant({ tenantId: 'x#CUSTOMERS', tier: 'default' }));
    expect(bad.code).toBe('INVALID_INPUT');
    expect(bad.message).toMatch(/^tenant: /);
    expect(bad.message).not.toContain('CUSTOMERS');
  });
});

describe('API keys', () => {
  it('stores only the hash, shows the key once, and lists without keys or hashes', async () => {
    const { key, record } = await dir.createApiKey({ tenantId: 'acme', name: 'ci', scopes: ['customers:read', 'customers:read'], prefix: 'gh', environment: 'test' });
    expect(parseApiKey(key, 'gh').ok).toBe(true);
    expect(record.scopes).toEqual(['customers:read']);
    const stored = await db.send(new GetItemCommand({ TableName: table, Key: { pk: { S: apiKeyItemKey(hashApiKey(key)).pk }, sk: { S: 'APIKEY' } } }));
    expect(stored.Item?.keyId?.S).toBe(record.keyId);
    const everything = JSON.stringify((await db.send(new ScanCommand({ TableName: table }))).Items);
    expect(everything).not.toContain(key);
    const listed = await dir.listApiKeys('acme');
    expect(listed.map((k) => k.keyId)).toContain(record.keyId);
    expect(JSON.stringify(listed)).not.toContain(hashApiKey(key));
  });

  it('refuses keys for unknown or suspended tenants', async () => {
    expect((await code(dir.createApiKey({ tenantId: 'nobody', name: 'x', scopes: [], prefix: 'gh', environment: 'test' }))).code).toBe('TENANT_NOT_FOUND');
    await dir.createTenant({ tenantId: 'paused', tier: 'default' });
    await dir.setTenantStatus('paused', 'suspended');
    expect((await code(dir.createApiKey({ tenantId: 'paused', name: 'x', scopes: [], prefix: 'gh', environment: 'test' }))).code).toBe('TENANT_SUSPENDED');
  });

  it('revokes a key of its own tenant only; another tenant sees "not found"', async () => {
    const { record } = await dir.createApiKey({ tenantId: 'acme', name: 'to revoke', scopes: [], prefix: 'gh', environment: 'test' });
    expect((await code(dir.revokeApiKey('globex', record.keyId))).code).toBe('KEY_NOT_FOUND');
    expect((await dir.listApiKeys('acme')).find((k) => k.keyId === record.keyId)?.status).toBe('active');
    const revoked = await dir.revokeApiKey('acme', record.keyId);
    expect(revoked.status).toBe('revoked');
    // Idempotent: the first revocation time is kept.
    clock += 5000;
    expect((await dir.revokeApiKey('acme', record.keyId)).revokedAt).toBe(revoked.revokedAt);
    expect((await code(dir.revokeApiKey('acme', 'key_0000000000000000'))).code).toBe('KEY_NOT_FOUND');
  });

  it('rotates: a new key with the same scopes; the old one expires after the grace period, never later than before', async () => {
    const { record } = await dir.createApiKey({ tenantId: 'acme', name: 'rotating', scopes: ['a'], prefix: 'gh', environment: 'test', expiresInSeconds: 600 });
    const rotated = await dir.rotateApiKey('acme', record.keyId, 3600, 'gh');
    expect(rotated.record).toMatchObject({ name: 'rotating', scopes: ['a'], status: 'active' });
    expect(rotated.record.keyId).not.toBe(record.keyId);
    expect(rotated.old).toMatchObject({ keyId: record.keyId, replacedBy: rotated.record.keyId, expiresAt: record.expiresAt, status: 'active' });

    const { record: r2 } = await dir.createApiKey({ tenantId: 'acme', name: 'no expiry', scopes: [], prefix: 'gh', environment: 'test' });
    const rot2 = await dir.rotateApiKey('acme', r2.keyId, 120, 'gh');
    expect(rot2.old.expiresAt).toBe(Math.floor(clock / 1000) + 120);
    expect(rot2.record.expiresAt).toBeUndefined();

    const rot3 = await dir.rotateApiKey('acme', rot2.record.keyId, 0, 'gh');
    expect(rot3.old.status).toBe('revoked');
    expect((await code(dir.rotateApiKey('acme', rot3.old.keyId, 60, 'gh'))).code).toBe('KEY_REVOKED');
  });
});

describe('members and sessions', () => {
  it('adds, changes the role of, lists and removes members', async () => {
    await dir.addMember('acme', 'supabase', 'user-1', 'member');
    await dir.addMember('acme', 'supabase', 'user-1', 'admin');
    await dir.addMember('acme', 'workos', 'user-1', 'member');
    const members = await dir.listMembers('acme');
    expect(members.map((m) => `${m.issuer}:${m.subject}:${m.role}`).sort()).toEqual(['supabase:user-1:admin', 'workos:user-1:member']);
    await dir.removeMember('acme', 'workos', 'user-1');
    expect(await dir.listMembers('acme')).toHaveLength(1);
    expect((await code(dir.removeMember('acme', 'workos', 'user-1'))).code).toBe('MEMBER_NOT_FOUND');
    expect((await code(dir.addMember('acme', 'supabase', 'user-2', 'owner'))).code).toBe('INVALID_INPUT');
    expect((await code(dir.addMember('nobody', 'supabase', 'user-2', 'member'))).code).toBe('TENANT_NOT_FOUND');
    expect((await code(dir.addMember('acme', 'supabase', 'a#b', 'member'))).code).toBe('INVALID_INPUT');
  });

  it('records a revoked session with a TTL', async () => {
    const r = await dir.revokeSession('supabase', 'b6a3c1f0-session', 3600);
    const item = await db.send(new GetItemCommand({ TableName: table, Key: { pk: { S: revokedSessionItemKey('supabase', 'b6a3c1f0-session').pk }, sk: { S: 'REVOKED' } } }));
    expect(Number(item.Item?.ttl?.N)).toBe(r.until);
    expect(r.until).toBe(Math.floor(clock / 1000) + 3600);
  });
});
