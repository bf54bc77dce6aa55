import { DeleteItemCommand } from '@aws-sdk/client-dynamodb';
import { randomBytes } from 'node:crypto';
import { Directory } from '../../../control/directory/directory';
import { apiKeySlotsItemKey } from '../../../contract/table';
import { createGatehouseTable } from '../../../local/create-table';
import { dynamoClient, uniqueName } from '../../support/aws';
import { directoryFailure } from '../../support/directory-error';

const db = dynamoClient();
let table: string;
let clock = Date.parse('2026-12-01T12:00:00Z');
let dir: Directory;

beforeAll(async () => {
  table = await createGatehouseTable(db, uniqueName('key-slots'));
  dir = new Directory(db, table, () => clock);
});
afterAll(() => db.destroy());

async function freshTenant(): Promise<string> {
  const tenantId = `t-${randomBytes(6).toString('hex')}`;
  await dir.createTenant({ tenantId, tier: 'default' });
  return tenantId;
}

const create = (tenantId: string, max: number, expiresInSeconds?: number) =>
  dir.createApiKey({ tenantId, name: 'k', scopes: [], prefix: 'gh', environment: 'test', maxKeysPerTenant: max, ...(expiresInSeconds ? { expiresInSeconds } : {}) });
const live = async (tenantId: string) => (await dir.listApiKeys(tenantId)).filter((k) => k.status === 'active' && (k.expiresAt === undefined || k.expiresAt * 1000 > clock)).length;

describe('the per-tenant key cap', () => {
  it('refuses the key past the cap with KEY_LIMIT_REACHED, naming the tenant and the cap', async () => {
    // Prepare
    const tenantId = await freshTenant();
    for (let i = 0; i < 3; i++) await create(tenantId, 3);

    // Act
    const refused = await directoryFailure(create(tenantId, 3));

    // Assert
    expect(refused.code).toBe('KEY_LIMIT_REACHED');
    expect(refused.message).toContain(tenantId);
    expect(refused.message).toContain('(3)');
    expect(await live(tenantId)).toBe(3);
  });

  it('does not count revoked or expired keys', async () => {
    // Prepare
    const tenantId = await freshTenant();
    const [a] = [await create(tenantId, 3), await create(tenantId, 3, 60), await create(tenantId, 3)];

    // Act
    await dir.revokeApiKey(tenantId, a.record.keyId);
    clock += 61_000;
    const afterBoth = [await create(tenantId, 3), await create(tenantId, 3)];

    // Assert
    expect(afterBoth).toHaveLength(2);
    expect((await directoryFailure(create(tenantId, 3))).code).toBe('KEY_LIMIT_REACHED');
    expect(await live(tenantId)).toBe(3);
  });

  it('lets exactly one of several concurrent creates at cap-1 through', async () => {
    // Prepare
    const tenantId = await freshTenant();
    for (let i = 0; i < 4; i++) await create(tenantId, 5);
    // DynamoDB applies each request atomically; moto does not apply concurrent transactions atomically (it copies
    // the whole table before one and restores the copy when one is cancelled, undoing the others' writes). So the
    // emulator gets one request at a time, as DynamoDB would apply them, while the six creates interleave freely
    // between their requests (claim, refusal, reconciliation, retry): the race is the directory's, not moto's.
    const serialDb = dynamoClient();
    let queue: Promise<unknown> = Promise.resolve();
    serialDb.middlewareStack.add(
      (next) => (args) => {
        const run = queue.then(() => next(args));
        queue = run.catch(() => undefined);
        return run;
      },
      { step: 'initialize', name: 'oneRequestAtATime' },
    );
    const racing = new Directory(serialDb, table, () => clock);

    // Act
    const results = await Promise.allSettled(
      Array.from({ length: 6 }, () => racing.createApiKey({ tenantId, name: 'k', scopes: [], prefix: 'gh', environment: 'test', maxKeysPerTenant: 5 })),
    );
    serialDb.destroy();

    // Assert
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const codes = await Promise.all(results.filter((r) => r.status === 'rejected').map((r) => directoryFailure(Promise.reject((r as PromiseRejectedResult).reason))));
    expect(codes.every((c) => c.code === 'KEY_LIMIT_REACHED' || c.code === 'KEY_SLOTS_BUSY')).toBe(true);
    expect(await live(tenantId)).toBe(5);
  });

  it('counts the keys of a tenant created before the cap existed (no slots item yet)', async () => {
    // Prepare
    const tenantId = await freshTenant();
    for (let i = 0; i < 2; i++) await create(tenantId, 10);
    await db.send(new DeleteItemCommand({ TableName: table, Key: { pk: { S: apiKeySlotsItemKey(tenantId).pk }, sk: { S: apiKeySlotsItemKey(tenantId).sk } } }));

    // Act
    const refused = await directoryFailure(create(tenantId, 2));
    const third = await create(tenantId, 3);

    // Assert
    expect(refused.code).toBe('KEY_LIMIT_REACHED');
    expect(third.record.tenantId).toBe(tenantId);
    expect((await directoryFailure(create(tenantId, 3))).code).toBe('KEY_LIMIT_REACHED');
  });

  it('counts a rotated key like a new one; a suspended tenant is still TENANT_SUSPENDED', async () => {
    // Prepare
    const tenantId = await freshTenant();
    const first = await create(tenantId, 1);

    // Act
    const rotate = await directoryFailure(dir.rotateApiKey(tenantId, first.record.keyId, 60, 'gh', 1));
    await dir.setTenantStatus(tenantId, 'suspended');
    const suspended = await directoryFailure(create(tenantId, 5));

    // Assert
    expect(rotate.code).toBe('KEY_LIMIT_REACHED');
    expect(suspended.code).toBe('TENANT_SUSPENDED');
  });
});
