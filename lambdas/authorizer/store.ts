import { type AttributeValue, type DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { LRUCache } from 'lru-cache';
import { type ApiKeyRecord, type TenantRecord, apiKeyItemKey, tenantItemKey } from '../shared/table';

type Item = Record<string, AttributeValue>;
/** What a cache holds: the record, or `null` for "looked up, not there" (the negative cache). */
type Cached<T> = { readonly value: T | null };

export interface CachedLookupOptions {
  readonly maxEntries: number;
  readonly ttlSeconds: number;
  readonly negativeTtlSeconds: number;
}

/**
 * One GetItem per cache miss, a bounded LRU with a short TTL for hits and a shorter one for misses. Cache keys
 * are hashes or ids, never credential material. Errors are not cached: the next request tries again.
 */
class CachedLookup<T> {
  private readonly cache: LRUCache<string, Cached<T>>;
  private readonly inflight = new Map<string, Promise<T | null>>();

  constructor(
    private readonly client: () => DynamoDBClient,
    private readonly tableName: string,
    private readonly key: (id: string) => Record<string, string>,
    private readonly decode: (item: Item) => T,
    private readonly opts: CachedLookupOptions,
    now: () => number,
  ) {
    this.cache = new LRUCache({ max: opts.maxEntries, ttl: Math.max(1, opts.ttlSeconds * 1000), ttlAutopurge: false, perf: { now } });
  }

  async get(id: string): Promise<T | null> {
    const hit = this.cache.get(id);
    if (hit) return hit.value;
    const pending = this.inflight.get(id);
    if (pending) return pending;
    const p = this.fetch(id).finally(() => this.inflight.delete(id));
    this.inflight.set(id, p);
    return p;
  }

  private async fetch(id: string): Promise<T | null> {
    const k = this.key(id);
    const out = await this.client().send(
      new GetItemCommand({ TableName: this.tableName, Key: { pk: { S: k.pk! }, sk: { S: k.sk! } } }),
    );
    const value = out.Item ? this.decode(out.Item) : null;
    const ttl = (value ? this.opts.ttlSeconds : this.opts.negativeTtlSeconds) * 1000;
    if (ttl > 0) this.cache.set(id, { value }, { ttl });
    return value;
  }
}

/** API key records by the SHA-256 of the key. */
export class ApiKeyStore extends CachedLookup<ApiKeyRecord> {
  constructor(client: () => DynamoDBClient, tableName: string, opts: CachedLookupOptions, now: () => number) {
    super(client, tableName, apiKeyItemKey, decodeApiKey, opts, now);
  }
}

/** Tenant records by tenant id. */
export class TenantStore extends CachedLookup<TenantRecord> {
  constructor(client: () => DynamoDBClient, tableName: string, opts: CachedLookupOptions, now: () => number) {
    super(client, tableName, tenantItemKey, decodeTenant, opts, now);
  }
}

/** Thrown when a stored item does not have the shape Gatehouse writes: refuse, do not guess. */
export class RecordInvalidError extends Error {
  constructor(readonly field: string) {
    super(`stored record has an invalid ${field}`);
    this.name = 'RecordInvalidError';
  }
}

function str(item: Item, name: string, optional = false): string | undefined {
  const v = item[name]?.S;
  if (v === undefined && !optional) throw new RecordInvalidError(name);
  return v;
}

function oneOf<T extends string>(item: Item, name: string, values: readonly T[]): T {
  const v = str(item, name)!;
  if (!values.includes(v as T)) throw new RecordInvalidError(name);
  return v as T;
}

function decodeApiKey(item: Item): ApiKeyRecord {
  const scopesAttr = item.scopes;
  const scopes = scopesAttr?.SS ?? scopesAttr?.L?.map((v) => v.S) ?? [];
  if (scopes.some((s) => typeof s !== 'string')) throw new RecordInvalidError('scopes');
  const expires = item.expiresAt?.N;
  const expiresAt = expires === undefined ? undefined : Number(expires);
  if (expiresAt !== undefined && !Number.isFinite(expiresAt)) throw new RecordInvalidError('expiresAt');
  const lastUsedAt = str(item, 'lastUsedAt', true);
  return {
    keyId: str(item, 'keyId')!,
    tenantId: str(item, 'tenantId')!,
    name: str(item, 'name', true) ?? '',
    scopes: scopes as string[],
    status: oneOf(item, 'status', ['active', 'revoked']),
    environment: oneOf(item, 'environment', ['live', 'test']),
    createdAt: str(item, 'createdAt', true) ?? '',
    ...(expiresAt !== undefined ? { expiresAt } : {}),
    ...(lastUsedAt !== undefined ? { lastUsedAt } : {}),
  };
}

function decodeTenant(item: Item): TenantRecord {
  const usageKey = str(item, 'usageKey', true);
  return {
    tenantId: str(item, 'tenantId')!,
    status: oneOf(item, 'status', ['active', 'suspended']),
    tier: str(item, 'tier', true) ?? 'default',
    ...(usageKey ? { usageKey } : {}),
  };
}
