import { ConditionalCheckFailedException, GetItemCommand, PutItemCommand, TransactionCanceledException, TransactWriteItemsCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { GSI1, type TenantRecord, tenantIndexKey, tenantItemKey } from '../../contract/table';
import { DirectoryError } from './errors';
import { type DirectoryTable, type Item, keyAttrs, strings } from './table';
import * as v from './validate';

/** A tenant as stored and listed. */
export interface TenantInfo extends TenantRecord {
  /** The id of the tenant's API Gateway API key (its value is `usageKey`), for moving it between usage plans. */
  readonly usageKeyId?: string;
  readonly name?: string;
  readonly createdAt: string;
  readonly updatedAt?: string;
}

/** What {@link createTenant} needs: the id and tier, and optionally a display name and the usage-plan key. */
export interface CreateTenantInput {
  readonly tenantId: string;
  readonly tier: string;
  readonly name?: string;
  /** The tenant's API Gateway usage key (its value), returned by the authorizer as `usageIdentifierKey`. */
  readonly usageKey?: string;
  readonly usageKeyId?: string;
}

/** Creates an active tenant; an existing id is TENANT_EXISTS. */
export async function createTenant(t: DirectoryTable, input: CreateTenantInput): Promise<TenantInfo> {
  const tenantId = v.check(v.tenantId, input.tenantId, 'tenant');
  const tier = v.check(v.tier, input.tier, 'tier');
  const name = input.name === undefined ? undefined : v.check(v.keyName, input.name, 'name');
  const createdAt = t.iso();
  const tenant: TenantInfo = {
    tenantId,
    status: 'active',
    tier,
    createdAt,
    ...(name ? { name } : {}),
    ...(input.usageKey ? { usageKey: input.usageKey } : {}),
    ...(input.usageKeyId ? { usageKeyId: input.usageKeyId } : {}),
  };
  try {
    await t.db.send(
      new PutItemCommand({
        TableName: t.name,
        Item: { ...keyAttrs(tenantItemKey(tenantId)), ...strings(tenantIndexKey(tenantId)), ...tenantToItem(tenant) },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  } catch (err) {
    if (err instanceof ConditionalCheckFailedException) throw new DirectoryError('TENANT_EXISTS', `tenant ${tenantId} already exists`);
    throw err;
  }
  return tenant;
}

/** One tenant (a consistent read); an unknown one is TENANT_NOT_FOUND. */
export async function getTenant(t: DirectoryTable, id: string): Promise<TenantInfo> {
  const tenantId = v.check(v.tenantId, id, 'tenant');
  const out = await t.db.send(new GetItemCommand({ TableName: t.name, Key: keyAttrs(tenantItemKey(tenantId)), ConsistentRead: true }));
  if (!out.Item) throw new DirectoryError('TENANT_NOT_FOUND', `no tenant ${tenantId}`);
  return tenantFromItem(out.Item);
}

/** Every tenant (from the tenants' index partition). */
export async function listTenants(t: DirectoryTable): Promise<TenantInfo[]> {
  const items = await t.queryAll({
    IndexName: GSI1.name,
    KeyConditionExpression: '#p = :p',
    ExpressionAttributeNames: { '#p': GSI1.partition },
    ExpressionAttributeValues: { ':p': { S: tenantIndexKey('').gsi1pk } },
  });
  return items.map(tenantFromItem);
}

/** Changes a tenant's tier (the caller moves its usage-plan key to the tier's plan first). */
export async function setTenantTier(t: DirectoryTable, id: string, newTier: string): Promise<TenantInfo> {
  return updateTenant(t, id, { tier: v.check(v.tier, newTier, 'tier') });
}

/** Suspends or resumes a tenant. Idempotent: suspending a suspended tenant changes nothing but `updatedAt`. */
export async function setTenantStatus(t: DirectoryTable, id: string, status: TenantRecord['status']): Promise<TenantInfo> {
  return updateTenant(t, id, { status });
}

/** Records the tenant's usage-plan key (value and id), e.g. for a tenant created before usage plans. */
export async function setTenantUsageKey(t: DirectoryTable, id: string, usageKey: string, usageKeyId: string): Promise<TenantInfo> {
  return updateTenant(t, id, { usageKey, usageKeyId });
}

/** Sets attributes of an existing tenant (and `updatedAt`); an unknown tenant is TENANT_NOT_FOUND. */
async function updateTenant(t: DirectoryTable, id: string, attributes: Readonly<Record<string, string>>): Promise<TenantInfo> {
  const tenantId = v.check(v.tenantId, id, 'tenant');
  const names = Object.keys(attributes);
  try {
    const out = await t.db.send(
      new UpdateItemCommand({
        TableName: t.name,
        Key: keyAttrs(tenantItemKey(tenantId)),
        UpdateExpression: `SET ${names.map((_, i) => `#a${i} = :v${i}`).join(', ')}, updatedAt = :u`,
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeNames: Object.fromEntries(names.map((n, i) => [`#a${i}`, n])),
        ExpressionAttributeValues: { ...Object.fromEntries(names.map((n, i) => [`:v${i}`, { S: attributes[n]! }])), ':u': { S: t.iso() } },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return tenantFromItem(out.Attributes!);
  } catch (err) {
    if (err instanceof ConditionalCheckFailedException) throw new DirectoryError('TENANT_NOT_FOUND', `no tenant ${tenantId}`);
    throw err;
  }
}

/** One item of a TransactWriteItems request. */
export type TransactWrite = NonNullable<ConstructorParameters<typeof TransactWriteItemsCommand>[0]['TransactItems']>[number];

/**
 * Writes (one transaction), conditional on the tenant existing and being active (the condition check is the
 * transaction's first item, the writes follow in order). A suspended tenant is TENANT_SUSPENDED, an unknown one
 * TENANT_NOT_FOUND; any other cancellation is thrown as it is, for the caller to read its reasons.
 */
export async function writeWithActiveTenant(t: DirectoryTable, tenantId: string, ...writes: TransactWrite[]): Promise<void> {
  try {
    await t.db.send(
      new TransactWriteItemsCommand({
        TransactItems: [
          {
            ConditionCheck: {
              TableName: t.name,
              Key: keyAttrs(tenantItemKey(tenantId)),
              ConditionExpression: 'attribute_exists(pk) AND #s = :active',
              ExpressionAttributeNames: { '#s': 'status' },
              ExpressionAttributeValues: { ':active': { S: 'active' } },
            },
          },
          ...writes,
        ],
      }),
    );
  } catch (err) {
    if (err instanceof TransactionCanceledException) {
      // Say which condition failed: read the tenant (a key collision of 256 random bits does not happen).
      const tenant = await getTenant(t, tenantId);
      if (tenant.status !== 'active') throw new DirectoryError('TENANT_SUSPENDED', `tenant ${tenantId} is suspended: resume it first`);
    }
    throw err;
  }
}

function tenantToItem(t: TenantInfo): Item {
  return strings({
    tenantId: t.tenantId,
    status: t.status,
    tier: t.tier,
    createdAt: t.createdAt,
    ...(t.name ? { name: t.name } : {}),
    ...(t.usageKey ? { usageKey: t.usageKey } : {}),
    ...(t.usageKeyId ? { usageKeyId: t.usageKeyId } : {}),
  });
}

function tenantFromItem(item: Item): TenantInfo {
  const s = (n: string) => item[n]?.S;
  return {
    tenantId: s('tenantId') ?? '',
    status: s('status') === 'active' ? 'active' : 'suspended',
    tier: s('tier') ?? 'default',
    createdAt: s('createdAt') ?? '',
    ...(s('name') ? { name: s('name')! } : {}),
    ...(s('usageKey') ? { usageKey: s('usageKey')! } : {}),
    ...(s('usageKeyId') ? { usageKeyId: s('usageKeyId')! } : {}),
    ...(s('updatedAt') ? { updatedAt: s('updatedAt')! } : {}),
  };
}
