import {
  type AttributeValue,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  type QueryCommandInput,
  TransactionCanceledException,
  TransactWriteItemsCommand,
  UpdateItemCommand,
  DeleteItemCommand,
} from '@aws-sdk/client-dynamodb';
import { randomBytes } from 'node:crypto';
import { generateApiKey, hashApiKey } from '../../contract/api-key';
import {
  type ApiKeyRecord,
  GSI1,
  MEMBER_ROLES,
  MEMBER_SK_PREFIX,
  type MemberRecord,
  type MemberRole,
  type TenantRecord,
  TTL_ATTRIBUTE,
  apiKeyIndexKey,
  apiKeyItemKey,
  memberIndexKey,
  memberItemKey,
  revokedSessionItemKey,
  tenantIndexKey,
  tenantItemKey,
} from '../../contract/table';
import { DirectoryError } from './errors';
import * as v from './validate';
import * as z from 'zod/mini';

type Item = Record<string, AttributeValue>;

/** An API key as listed: everything but the hash under which it is stored. */
export type ApiKeyInfo = ApiKeyRecord & { readonly revokedAt?: string; readonly replacedBy?: string };

export interface TenantInfo extends TenantRecord {
  /** The id of the tenant's API Gateway API key (its value is `usageKey`), for moving it between usage plans. */
  readonly usageKeyId?: string;
  readonly name?: string;
  readonly createdAt: string;
  readonly updatedAt?: string;
}

export interface CreateApiKeyInput {
  readonly tenantId: string;
  readonly name: string;
  readonly scopes: readonly string[];
  /** The deployment's key prefix (the authorizer's `apiKeys.prefix`). */
  readonly prefix: string;
  readonly environment: 'live' | 'test';
  /** Seconds from now; absent = never expires. */
  readonly expiresInSeconds?: number;
}

export interface CreatedApiKey {
  /** The key itself: shown once, never stored. */
  readonly key: string;
  readonly record: ApiKeyInfo;
}

export interface CreateTenantInput {
  readonly tenantId: string;
  readonly tier: string;
  readonly name?: string;
  /** The tenant's API Gateway usage key (its value), returned by the authorizer as `usageIdentifierKey`. */
  readonly usageKey?: string;
  readonly usageKeyId?: string;
}

/**
 * Tenants, API keys, members and revoked sessions in Gatehouse's table: what the command-line tool and the
 * self-service handler share. Every write is conditional, so a racing writer or a wrong tenant never silently
 * changes another record; every input is validated before any I/O. Item shapes: ../table.ts.
 */
export class Directory {
  constructor(
    private readonly db: DynamoDBClient,
    private readonly tableName: string,
    private readonly now: () => number = Date.now,
  ) {}

  // ---- tenants -------------------------------------------------------------------------------------------------

  async createTenant(input: CreateTenantInput): Promise<TenantInfo> {
    const tenantId = v.check(v.tenantId, input.tenantId, 'tenant');
    const tier = v.check(v.tier, input.tier, 'tier');
    const name = input.name === undefined ? undefined : v.check(v.keyName, input.name, 'name');
    const createdAt = this.iso();
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
      await this.db.send(
        new PutItemCommand({
          TableName: this.tableName,
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

  async getTenant(id: string): Promise<TenantInfo> {
    const tenantId = v.check(v.tenantId, id, 'tenant');
    const out = await this.db.send(new GetItemCommand({ TableName: this.tableName, Key: keyAttrs(tenantItemKey(tenantId)), ConsistentRead: true }));
    if (!out.Item) throw new DirectoryError('TENANT_NOT_FOUND', `no tenant ${tenantId}`);
    return tenantFromItem(out.Item);
  }

  async listTenants(): Promise<TenantInfo[]> {
    const items = await this.queryAll({
      IndexName: GSI1.name,
      KeyConditionExpression: '#p = :p',
      ExpressionAttributeNames: { '#p': GSI1.partition },
      ExpressionAttributeValues: { ':p': { S: tenantIndexKey('').gsi1pk } },
    });
    return items.map(tenantFromItem);
  }

  /** Changes a tenant's tier (the caller moves its usage-plan key to the tier's plan first). */
  async setTenantTier(id: string, newTier: string): Promise<TenantInfo> {
    return this.updateTenant(id, { tier: v.check(v.tier, newTier, 'tier') });
  }

  /** Suspends or resumes a tenant. Idempotent: suspending a suspended tenant changes nothing but `updatedAt`. */
  async setTenantStatus(id: string, status: TenantRecord['status']): Promise<TenantInfo> {
    return this.updateTenant(id, { status });
  }

  /** Records the tenant's usage-plan key (value and id), e.g. for a tenant created before usage plans. */
  async setTenantUsageKey(id: string, usageKey: string, usageKeyId: string): Promise<TenantInfo> {
    return this.updateTenant(id, { usageKey, usageKeyId });
  }

  /** Sets attributes of an existing tenant (and `updatedAt`); an unknown tenant is TENANT_NOT_FOUND. */
  private async updateTenant(id: string, attributes: Readonly<Record<string, string>>): Promise<TenantInfo> {
    const tenantId = v.check(v.tenantId, id, 'tenant');
    const names = Object.keys(attributes);
    try {
      const out = await this.db.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: keyAttrs(tenantItemKey(tenantId)),
          UpdateExpression: `SET ${names.map((_, i) => `#a${i} = :v${i}`).join(', ')}, updatedAt = :u`,
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: Object.fromEntries(names.map((n, i) => [`#a${i}`, n])),
          ExpressionAttributeValues: { ...Object.fromEntries(names.map((n, i) => [`:v${i}`, { S: attributes[n]! }])), ':u': { S: this.iso() } },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return tenantFromItem(out.Attributes!);
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) throw new DirectoryError('TENANT_NOT_FOUND', `no tenant ${tenantId}`);
      throw err;
    }
  }

  // ---- API keys ------------------------------------------------------------------------------------------------

  /** A new key for an active tenant. Returns the key (show it once) and the stored record; only the hash is kept. */
  async createApiKey(input: CreateApiKeyInput): Promise<CreatedApiKey> {
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
      createdAt: this.iso(),
      ...(expiresIn ? { expiresAt: Math.floor(this.now() / 1000) + expiresIn } : {}),
    };
    await this.writeWithActiveTenant(tenantId, {
      Put: {
        TableName: this.tableName,
        Item: { ...keyAttrs(apiKeyItemKey(hashApiKey(key))), ...strings(apiKeyIndexKey(tenantId, record.keyId)), ...apiKeyToItem(record) },
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    });
    return { key, record };
  }

  /** The tenant's keys (never the keys themselves, nor their hashes), newest first. */
  async listApiKeys(id: string): Promise<ApiKeyInfo[]> {
    const tenantId = v.check(v.tenantId, id, 'tenant');
    const items = await this.queryAll({
      IndexName: GSI1.name,
      KeyConditionExpression: '#p = :p',
      ExpressionAttributeNames: { '#p': GSI1.partition },
      ExpressionAttributeValues: { ':p': { S: apiKeyIndexKey(tenantId, '').gsi1pk } },
    });
    return items.map(apiKeyFromItem).sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }

  /**
   * Revokes a key of this tenant. A key of another tenant is "not found", exactly like a key that does not exist,
   * so a caller learns nothing about other tenants. Revoking a revoked key is a no-op that returns it.
   */
  async revokeApiKey(tenant: string, key: string): Promise<ApiKeyInfo> {
    const { tenantId, keyId, pk } = await this.findKey(tenant, key);
    try {
      const out = await this.db.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { pk: { S: pk }, sk: { S: apiKeyItemKey('').sk } },
          UpdateExpression: 'SET #s = :revoked, revokedAt = if_not_exists(revokedAt, :now)',
          ConditionExpression: 'tenantId = :t AND keyId = :k',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: { ':revoked': { S: 'revoked' }, ':now': { S: this.iso() }, ':t': { S: tenantId }, ':k': { S: keyId } },
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
  async rotateApiKey(tenant: string, key: string, graceSeconds: number, prefix: string): Promise<CreatedApiKey & { readonly old: ApiKeyInfo }> {
    const grace = v.check(v.graceSeconds, graceSeconds, 'grace');
    const { tenantId, keyId, pk, record } = await this.findKey(tenant, key);
    if (record.status !== 'active') throw new DirectoryError('KEY_REVOKED', `key ${keyId} is revoked: create a new key instead`);
    const created = await this.createApiKey({
      tenantId,
      name: record.name,
      scopes: record.scopes,
      prefix,
      environment: record.environment,
      ...(record.expiresAt ? { expiresInSeconds: Math.max(1, record.expiresAt - Math.floor(this.now() / 1000)) } : {}),
    });
    const until = Math.floor(this.now() / 1000) + grace;
    const expiresAt = record.expiresAt !== undefined ? Math.min(record.expiresAt, until) : until;
    const out = await this.db.send(
      new UpdateItemCommand({
        TableName: this.tableName,
        Key: { pk: { S: pk }, sk: { S: apiKeyItemKey('').sk } },
        UpdateExpression: grace === 0 ? 'SET expiresAt = :e, replacedBy = :n, #s = :revoked, revokedAt = :now' : 'SET expiresAt = :e, replacedBy = :n',
        ConditionExpression: 'tenantId = :t AND keyId = :k',
        ExpressionAttributeValues: {
          ':e': { N: String(expiresAt) },
          ':n': { S: created.record.keyId },
          ':t': { S: tenantId },
          ':k': { S: keyId },
          ...(grace === 0 ? { ':revoked': { S: 'revoked' }, ':now': { S: this.iso() } } : {}),
        },
        ...(grace === 0 ? { ExpressionAttributeNames: { '#s': 'status' } } : {}),
        ReturnValues: 'ALL_NEW',
      }),
    );
    return { ...created, old: apiKeyFromItem(out.Attributes!) };
  }

  // ---- members (membership mode) -----------------------------------------------------------------------------

  /** Adds a user to an active tenant, or changes their role there. */
  async addMember(tenant: string, issuer: string, sub: string, role: string): Promise<MemberRecord> {
    const tenantId = v.check(v.tenantId, tenant, 'tenant');
    const member: MemberRecord = {
      tenantId,
      issuer: v.check(v.issuerId, issuer, 'issuer'),
      subject: v.check(v.subject, sub, 'user'),
      role: v.check(z.enum(MEMBER_ROLES), role, 'role'),
      createdAt: this.iso(),
    };
    await this.writeWithActiveTenant(tenantId, {
      Put: {
        TableName: this.tableName,
        Item: {
          ...keyAttrs(memberItemKey(tenantId, member.issuer, member.subject)),
          ...strings(memberIndexKey(tenantId, member.issuer, member.subject)),
          ...strings({ tenantId, issuer: member.issuer, subject: member.subject, role: member.role, createdAt: member.createdAt }),
        },
      },
    });
    return member;
  }

  async removeMember(tenant: string, issuer: string, sub: string): Promise<void> {
    const tenantId = v.check(v.tenantId, tenant, 'tenant');
    const key = memberItemKey(tenantId, v.check(v.issuerId, issuer, 'issuer'), v.check(v.subject, sub, 'user'));
    try {
      await this.db.send(new DeleteItemCommand({ TableName: this.tableName, Key: keyAttrs(key), ConditionExpression: 'attribute_exists(pk)' }));
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) throw new DirectoryError('MEMBER_NOT_FOUND', `${issuer}:${sub} is not a member of ${tenantId}`);
      throw err;
    }
  }

  async listMembers(tenant: string): Promise<MemberRecord[]> {
    const tenantId = v.check(v.tenantId, tenant, 'tenant');
    const items = await this.queryAll({
      KeyConditionExpression: 'pk = :p AND begins_with(sk, :m)',
      ExpressionAttributeValues: { ':p': { S: tenantItemKey(tenantId).pk }, ':m': { S: MEMBER_SK_PREFIX } },
      ConsistentRead: true,
    });
    return items.map(memberFromItem);
  }

  // ---- sessions ------------------------------------------------------------------------------------------------

  /**
   * Denies a session (Supabase `session_id`, or the issuer's mapped session claim) until `ttlSeconds` from now,
   * which should be at least the issuer's token lifetime; DynamoDB deletes the record some time after that.
   */
  async revokeSession(issuer: string, session: string, ttlSeconds: number): Promise<{ issuer: string; sessionId: string; until: number }> {
    const iss = v.check(v.issuerId, issuer, 'issuer');
    const sessionId = v.check(v.sessionId, session, 'session');
    const ttl = v.check(z.number().check(z.int(), z.minimum(60), z.maximum(366 * 86_400)), ttlSeconds, 'ttl');
    const until = Math.floor(this.now() / 1000) + ttl;
    await this.db.send(
      new PutItemCommand({
        TableName: this.tableName,
        Item: { ...keyAttrs(revokedSessionItemKey(iss, sessionId)), issuer: { S: iss }, sessionId: { S: sessionId }, revokedAt: { S: this.iso() }, [TTL_ATTRIBUTE]: { N: String(until) } },
      }),
    );
    return { issuer: iss, sessionId, until };
  }

  // ---- helpers ---------------------------------------------------------------------------------------------------

  private async findKey(tenant: string, key: string): Promise<{ tenantId: string; keyId: string; pk: string; record: ApiKeyInfo }> {
    const tenantId = v.check(v.tenantId, tenant, 'tenant');
    const keyId = v.check(v.keyId, key, 'key');
    const index = apiKeyIndexKey(tenantId, keyId);
    const out = await this.db.send(
      new QueryCommand({
        TableName: this.tableName,
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

  /** One write, conditional on the tenant existing and being active (a transaction with a condition check). */
  private async writeWithActiveTenant(tenantId: string, write: NonNullable<ConstructorParameters<typeof TransactWriteItemsCommand>[0]['TransactItems']>[number]) {
    try {
      await this.db.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            {
              ConditionCheck: {
                TableName: this.tableName,
                Key: keyAttrs(tenantItemKey(tenantId)),
                ConditionExpression: 'attribute_exists(pk) AND #s = :active',
                ExpressionAttributeNames: { '#s': 'status' },
                ExpressionAttributeValues: { ':active': { S: 'active' } },
              },
            },
            write,
          ],
        }),
      );
    } catch (err) {
      if (err instanceof TransactionCanceledException) {
        // Say which condition failed: read the tenant (a key collision of 256 random bits does not happen).
        const tenant = await this.getTenant(tenantId);
        if (tenant.status !== 'active') throw new DirectoryError('TENANT_SUSPENDED', `tenant ${tenantId} is suspended: resume it first`);
      }
      throw err;
    }
  }

  private async queryAll(input: Omit<QueryCommandInput, 'TableName'>): Promise<Item[]> {
    const items: Item[] = [];
    let start: Item | undefined;
    do {
      const page = await this.db.send(new QueryCommand({ TableName: this.tableName, ...input, ...(start ? { ExclusiveStartKey: start } : {}) }));
      items.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey;
    } while (start);
    return items;
  }

  private iso(): string {
    return new Date(this.now()).toISOString();
  }
}

function keyAttrs(k: { pk: string; sk: string }): Item {
  return { pk: { S: k.pk }, sk: { S: k.sk } };
}

function strings(o: Record<string, string>): Item {
  return Object.fromEntries(Object.entries(o).map(([k, s]) => [k, { S: s }]));
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

function memberFromItem(item: Item): MemberRecord {
  const s = (n: string) => item[n]?.S ?? '';
  const role = s('role') as MemberRole;
  return { tenantId: s('tenantId'), issuer: s('issuer'), subject: s('subject'), role: MEMBER_ROLES.includes(role) ? role : 'member', createdAt: s('createdAt') };
}
