import { ConditionalCheckFailedException, QueryCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { randomBytes } from 'node:crypto';
import * as z from 'zod/mini';
import { generateApiKey, hashApiKey } from '../../contract/api-key';
import { type ApiKeyRecord, GSI1, apiKeyIndexKey, apiKeyItemKey } from '../../contract/table';
import { DirectoryError } from './errors';
import { claimSlot, slotLimit, withSlot } from './key-slots';
import { type KeyPage, type KeyPageInput, queryKeyPage } from './key-pages';
import { type DirectoryTable, type Item, keyAttrs, strings } from './table';
import { writeWithActiveTenant } from './tenants';
import * as v from './validate';

/** An API key as listed: everything but the hash under which it is stored. */
export type ApiKeyInfo = ApiKeyRecord & { readonly revokedAt?: string; readonly replacedBy?: string };

/** What {@link createApiKey} needs. */
export interface CreateApiKeyInput {
  readonly tenantId: string;
  readonly name: string;
  readonly scopes: readonly string[];
  /** The deployment's key prefix (the authorizer's `apiKeys.prefix`). */
  readonly prefix: string;
  readonly environment: 'live' | 'test';
  /** Seconds from now; absent = never expires. */
  readonly expiresInSeconds?: number;
  /** Live keys the tenant may hold (`apiKeys.maxPerTenant`); one more is KEY_LIMIT_REACHED. @default 100 */
  readonly maxKeysPerTenant?: number;
}

/** A key just created: the key itself and its stored record. */
export interface CreatedApiKey {
  /** The key itself: shown once, never stored. */
  readonly key: string;
  readonly record: ApiKeyInfo;
}

/** A new key for an active tenant. Returns the key (show it once) and the stored record; only the hash is kept. */
export async function createApiKey(t: DirectoryTable, input: CreateApiKeyInput): Promise<CreatedApiKey> {
  const tenantId = v.check(v.tenantId, input.tenantId, 'tenant');
  const name = v.check(v.keyName, input.name, 'name');
  const scopes = v.check(z.array(v.scope).check(z.maxLength(64)), [...input.scopes], 'scopes');
  const expiresIn = input.expiresInSeconds === undefined ? undefined : v.check(z.number().check(z.int(), z.minimum(1), z.maximum(10 * 366 * 86_400)), input.expiresInSeconds, 'expires');
  const key = generateApiKey(input.prefix, input.environment);
  const record: ApiKeyInfo = {
    keyId: `key_${randomBytes(8).toString('hex')}`,
    tenantId,
    name,
    scopes: [...new Set(scopes)],
    status: 'active',
    environment: input.environment,
    createdAt: t.iso(),
    ...(expiresIn ? { expiresAt: t.nowSeconds() + expiresIn } : {}),
  };
  const put = {
    Put: {
      TableName: t.name,
      Item: { ...keyAttrs(apiKeyItemKey(hashApiKey(key))), ...strings(apiKeyIndexKey(tenantId, record.keyId)), ...apiKeyToItem(record) },
      ConditionExpression: 'attribute_not_exists(pk)',
    },
  };
  // The key and its slot in one transaction (after the tenant check, item 0): the cap is exact (./key-slots.ts).
  const max = slotLimit(input.maxKeysPerTenant);
  const claim = claimSlot(t, tenantId, record.keyId, record.expiresAt, max);
  await withSlot(t, tenantId, max, 2, () => writeWithActiveTenant(t, tenantId, put, claim));
  return { key, record };
}

/** The tenant's keys (never the keys themselves, nor their hashes), newest first. */
export async function listApiKeys(t: DirectoryTable, id: string): Promise<ApiKeyInfo[]> {
  const tenantId = v.check(v.tenantId, id, 'tenant');
  const items = await t.queryAll({
    IndexName: GSI1.name,
    KeyConditionExpression: '#p = :p',
    ExpressionAttributeNames: { '#p': GSI1.partition },
    ExpressionAttributeValues: { ':p': { S: apiKeyIndexKey(tenantId, '').gsi1pk } },
  });
  return items.map(apiKeyFromItem).sort((a, b) => b.createdAt.localeCompare(a.createdAt));
}

/** One page of the tenant's keys in key id order, after the cursor (./key-pages.ts says why it is safe). */
export async function listApiKeyPage(t: DirectoryTable, id: string, input: KeyPageInput = {}): Promise<KeyPage<ApiKeyInfo>> {
  const tenantId = v.check(v.tenantId, id, 'tenant');
  const page = await queryKeyPage(t, tenantId, input);
  return { ...page, items: page.items.map(apiKeyFromItem) };
}

/**
 * Revokes a key of this tenant. A key of another tenant is "not found", exactly like a key that does not exist,
 * so a caller learns nothing about other tenants. Revoking a revoked key is a no-op that returns it.
 */
export async function revokeApiKey(t: DirectoryTable, tenant: string, key: string): Promise<ApiKeyInfo> {
  const { tenantId, keyId, pk } = await findKey(t, tenant, key);
  try {
    const out = await t.db.send(
      new UpdateItemCommand({
        TableName: t.name,
        Key: { pk: { S: pk }, sk: { S: apiKeyItemKey('').sk } },
        UpdateExpression: 'SET #s = :revoked, revokedAt = if_not_exists(revokedAt, :now)',
        ConditionExpression: 'tenantId = :t AND keyId = :k',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: { ':revoked': { S: 'revoked' }, ':now': { S: t.iso() }, ':t': { S: tenantId }, ':k': { S: keyId } },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return apiKeyFromItem(out.Attributes!);
  } catch (err) {
    if (err instanceof ConditionalCheckFailedException) throw new DirectoryError('KEY_NOT_FOUND', `no key ${keyId} in tenant ${tenantId}`);
    throw err;
  }
}

/**
 * A new key with the same name, scopes and environment; the old one keeps working for `graceSeconds` (0: it
 * stops now), then expires. The old key's expiry only ever moves earlier.
 */
export async function rotateApiKey(
  t: DirectoryTable,
  tenant: string,
  key: string,
  graceSeconds: number,
  prefix: string,
  maxKeysPerTenant?: number,
): Promise<CreatedApiKey & { readonly old: ApiKeyInfo }> {
  const grace = v.check(v.graceSeconds, graceSeconds, 'grace');
  const { tenantId, keyId, pk, record } = await findKey(t, tenant, key);
  if (record.status !== 'active') throw new DirectoryError('KEY_REVOKED', `key ${keyId} is revoked: create a new key instead`);
  const created = await createApiKey(t, {
    tenantId,
    name: record.name,
    scopes: record.scopes,
    prefix,
    environment: record.environment,
    ...(record.expiresAt ? { expiresInSeconds: Math.max(1, record.expiresAt - t.nowSeconds()) } : {}),
    // The new key needs a slot like any other: during the grace period the tenant holds both.
    ...(maxKeysPerTenant !== undefined ? { maxKeysPerTenant } : {}),
  });
  const until = t.nowSeconds() + grace;
  const expiresAt = record.expiresAt !== undefined ? Math.min(record.expiresAt, until) : until;
  const out = await t.db.send(
    new UpdateItemCommand({
      TableName: t.name,
      Key: { pk: { S: pk }, sk: { S: apiKeyItemKey('').sk } },
      UpdateExpression: grace === 0 ? 'SET expiresAt = :e, replacedBy = :n, #s = :revoked, revokedAt = :now' : 'SET expiresAt = :e, replacedBy = :n',
      ConditionExpression: 'tenantId = :t AND keyId = :k',
      ExpressionAttributeValues: {
        ':e': { N: String(expiresAt) },
        ':n': { S: created.record.keyId },
        ':t': { S: tenantId },
        ':k': { S: keyId },
        ...(grace === 0 ? { ':revoked': { S: 'revoked' }, ':now': { S: t.iso() } } : {}),
      },
      ...(grace === 0 ? { ExpressionAttributeNames: { '#s': 'status' } } : {}),
      ReturnValues: 'ALL_NEW',
    }),
  );
  return { ...created, old: apiKeyFromItem(out.Attributes!) };
}

async function findKey(t: DirectoryTable, tenant: string, key: string): Promise<{ tenantId: string; keyId: string; pk: string; record: ApiKeyInfo }> {
  const tenantId = v.check(v.tenantId, tenant, 'tenant');
  const keyId = v.check(v.keyId, key, 'key');
  const index = apiKeyIndexKey(tenantId, keyId);
  const out = await t.db.send(
    new QueryCommand({
      TableName: t.name,
      IndexName: GSI1.name,
      KeyConditionExpression: '#p = :p AND #s = :s',
      ExpressionAttributeNames: { '#p': GSI1.partition, '#s': GSI1.sort },
      ExpressionAttributeValues: { ':p': { S: index.gsi1pk }, ':s': { S: index.gsi1sk } },
    }),
  );
  const item = out.Items?.[0];
  // The index is keyed by tenant: another tenant's key id finds nothing here, the same as an unknown one.
  if (!item || item.tenantId?.S !== tenantId) throw new DirectoryError('KEY_NOT_FOUND', `no key ${keyId} in tenant ${tenantId}`);
  return { tenantId, keyId, pk: item.pk!.S!, record: apiKeyFromItem(item) };
}

function apiKeyToItem(r: ApiKeyInfo): Item {
  return {
    ...strings({ keyId: r.keyId, tenantId: r.tenantId, name: r.name, status: r.status, environment: r.environment, createdAt: r.createdAt }),
    scopes: { L: r.scopes.map((s) => ({ S: s })) },
    ...(r.expiresAt !== undefined ? { expiresAt: { N: String(r.expiresAt) } } : {}),
  };
}

function apiKeyFromItem(item: Item): ApiKeyInfo {
  const s = (n: string) => item[n]?.S;
  const expires = item.expiresAt?.N;
  return {
    keyId: s('keyId') ?? '',
    tenantId: s('tenantId') ?? '',
    name: s('name') ?? '',
    scopes: (item.scopes?.L ?? []).map((x) => x.S ?? '').concat(item.scopes?.SS ?? []),
    status: s('status') === 'active' ? 'active' : 'revoked',
    environment: s('environment') === 'live' ? 'live' : 'test',
    createdAt: s('createdAt') ?? '',
    ...(expires !== undefined ? { expiresAt: Number(expires) } : {}),
    ...(s('lastUsedAt') ? { lastUsedAt: s('lastUsedAt')! } : {}),
    ...(s('revokedAt') ? { revokedAt: s('revokedAt')! } : {}),
    ...(s('replacedBy') ? { replacedBy: s('replacedBy')! } : {}),
  };
}
