import type { AttributeValue, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { dynamodbSdk } from './aws';
import { Cooldown } from './cooldown';
import { TtlLru } from './lru';
import {
  type ApiKeyRecord,
  MEMBER_ROLES,
  type MemberRecord,
  type TenantRecord,
  TTL_ATTRIBUTE,
  apiKeyItemKey,
  memberItemKey,
  revokedSessionItemKey,
  tenantItemKey,
} from '../../contract/table';

type Item = Record<string, AttributeValue>;
/** What a cache holds: the record, or `null` for "looked up, not there" (the negative cache), and when it was read. */
type Cached<T> = { readonly value: T | null; readonly readAt: number };

export interface CachedLookupOptions {
  readonly maxEntries: number;
  readonly ttlSeconds: number;
  readonly negativeTtlSeconds: number;
  /**
   * When DynamoDB fails, answer from an entry up to this long past its TTL (a record or a miss alike), then fail.
   * 0 (the default): never. (`records.staleIfErrorSeconds`.)
   */
  readonly staleIfErrorSeconds?: number;
  /**
   * The table's cooldown, shared by its stores (a DynamoDB outage is the table's, and one decision may read a key and
   * a tenant): after a failed read, no read until it ends; answers come from the cache or fail at once. Default: none.
   */
  readonly cooldown?: Cooldown;
}

/** How a store reads one kind of item: its key, its cache key (ids only, never credential material), its decoder. */
interface ItemShape<K, T> {
  readonly key: (k: K) => { pk: string; sk: string };
  readonly cacheKey: (k: K) => string;
  /** Throws RecordInvalidError when the item does not have the shape Gatehouse writes. */
  readonly decode: (item: Item, k: K) => T;
}

/**
 * One GetItem per cache miss, a bounded LRU with a short TTL for hits and a shorter one for misses. Cache keys
 * are hashes or ids, never credential material. Errors (and invalid records) are not cached: the next request
 * tries again.
 *
 * Stale-if-error: an entry is kept `staleIfErrorSeconds` past its TTL, and used only when a read fails (or a failed
 * read is cooling down). It is the last answer DynamoDB gave, served as it was: a revoked key, a suspended tenant
 * or a miss stays refused, so stale serving never turns a refusal into an Allow; it only keeps known answers
 * standing through an outage, which extends the revocation bound by that long during one (contract/revocation.ts).
 * A failed read starts a cooldown (cooldown.ts) for the whole table: while DynamoDB is known to be failing, no
 * decision waits on it again, each answers from the cache or fails closed at once.
 */
class CachedLookup<K, T> {
  private readonly cache: TtlLru<string, Cached<T>>;
  private readonly inflight = new Map<string, Promise<T | null>>();
  private readonly cooldown: Cooldown;
  private readonly staleMs: number;

  constructor(
    private readonly client: () => DynamoDBClient,
    private readonly tableName: string,
    private readonly shape: ItemShape<K, T>,
    private readonly opts: CachedLookupOptions,
    private readonly now: () => number,
  ) {
    // The cache reads `now` on every access (never a cached reading), so an entry cannot outlive its TTL, whatever
    // the clock (injected in tests) or the timers do.
    this.cache = new TtlLru(opts.maxEntries, now);
    this.cooldown = opts.cooldown ?? new Cooldown(0, now);
    this.staleMs = (opts.staleIfErrorSeconds ?? 0) * 1000;
  }

  async get(k: K): Promise<T | null> {
    const id = this.shape.cacheKey(k);
    const hit = this.cache.get(id);
    if (hit && this.fresh(hit)) return hit.value;
    if (this.cooldown.blocked()) {
      if (hit) return hit.value;
      throw this.cooldown.failure;
    }
    const pending = this.inflight.get(id);
    if (pending) return pending;
    const p = this.fetch(k, id, hit).finally(() => this.inflight.delete(id));
    this.inflight.set(id, p);
    return p;
  }

  /** Whether `get` would answer from the cache now, without a read (a fresh record or a fresh miss). */
  cached(k: K): boolean {
    const hit = this.cache.get(this.shape.cacheKey(k));
    return hit !== undefined && this.fresh(hit);
  }

  /** Within its own TTL (the LRU holds it `staleIfErrorSeconds` longer). */
  private fresh(c: Cached<T>): boolean {
    const ttl = (c.value ? this.opts.ttlSeconds : this.opts.negativeTtlSeconds) * 1000;
    return this.now() - c.readAt <= ttl;
  }

  private async fetch(k: K, id: string, stale: Cached<T> | undefined): Promise<T | null> {
    const { pk, sk } = this.shape.key(k);
    const { GetItemCommand } = dynamodbSdk();
    const readAt = this.now();
    this.cooldown.attempt();
    let out;
    try {
      out = await this.client().send(new GetItemCommand({ TableName: this.tableName, Key: { pk: { S: pk }, sk: { S: sk } } }));
    } catch (err) {
      this.cooldown.failed(err);
      // `stale` came out of the LRU, so it is within its TTL plus staleIfErrorSeconds.
      if (stale) return stale.value;
      throw err;
    }
    this.cooldown.succeeded();
    // An invalid item throws here, is not cached, and drops a stale entry: DynamoDB answered, and not with that.
    this.cache.delete(id);
    const value = out.Item ? this.shape.decode(out.Item, k) : null;
    const ttl = (value ? this.opts.ttlSeconds : this.opts.negativeTtlSeconds) * 1000;
    if (ttl > 0) this.cache.set(id, { value, readAt }, ttl + this.staleMs);
    return value;
  }
}

const byId = (id: string) => id;

/** API key records by the SHA-256 of the key. */
export class ApiKeyStore extends CachedLookup<string, ApiKeyRecord> {
  constructor(client: () => DynamoDBClient, tableName: string, opts: CachedLookupOptions, now: () => number) {
    super(client, tableName, { key: apiKeyItemKey, cacheKey: byId, decode: decodeApiKey }, opts, now);
  }
}

/** Tenant records by tenant id. */
export class TenantStore extends CachedLookup<string, TenantRecord> {
  constructor(client: () => DynamoDBClient, tableName: string, opts: CachedLookupOptions, now: () => number) {
    super(client, tableName, { key: tenantItemKey, cacheKey: byId, decode: decodeTenant }, opts, now);
  }
}

/** Which member item to read: a user (issuer id and subject) in a tenant. */
export interface MemberKey {
  readonly tenantId: string;
  readonly issuer: string;
  readonly subject: string;
}

/**
 * Member records (membership mode) by tenant, issuer id and subject. None of the three can hold a NUL (tenant ids
 * match TENANT_ID_PATTERN, issuer ids a lowercase pattern, subjects the IDENTIFIER pattern), so the cache key is
 * unambiguous.
 */
export class MemberStore extends CachedLookup<MemberKey, MemberRecord> {
  constructor(client: () => DynamoDBClient, tableName: string, opts: CachedLookupOptions, now: () => number) {
    super(
      client,
      tableName,
      {
        key: (k) => memberItemKey(k.tenantId, k.issuer, k.subject),
        cacheKey: (k) => `${k.tenantId}\u0000${k.issuer}\u0000${k.subject}`,
        decode: decodeMember,
      },
      opts,
      now,
    );
  }
}

/** A revoked-session item: revoked until `expiresAt` (seconds since the epoch; absent = for good). */
export interface RevokedSession {
  readonly expiresAt?: number;
}

/**
 * The session deny list of one issuer: a revoked-session item by session id, or null when there is none. Hits and
 * misses are both cached for the issuer's `sessionCacheTtlSeconds`; the item's own `ttl` is checked by the caller
 * at use time (DynamoDB deletes expired items lazily, so an expired item may still be read).
 */
export class RevokedSessionStore extends CachedLookup<string, RevokedSession> {
  constructor(client: () => DynamoDBClient, tableName: string, issuer: string, opts: CachedLookupOptions, now: () => number) {
    super(client, tableName, { key: (sessionId) => revokedSessionItemKey(issuer, sessionId), cacheKey: byId, decode: decodeRevokedSession }, opts, now);
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

function decodeMember(item: Item, k: MemberKey): MemberRecord {
  // The item must be the one asked for: a record copied under another key is not trusted.
  for (const [name, expected] of [['tenantId', k.tenantId], ['issuer', k.issuer], ['subject', k.subject]] as const) {
    if (str(item, name) !== expected) throw new RecordInvalidError(name);
  }
  return {
    tenantId: k.tenantId,
    issuer: k.issuer,
    subject: k.subject,
    role: oneOf(item, 'role', MEMBER_ROLES),
    createdAt: str(item, 'createdAt', true) ?? '',
  };
}

function decodeRevokedSession(item: Item): RevokedSession {
  const raw = item[TTL_ATTRIBUTE]?.N;
  const expiresAt = raw === undefined ? undefined : Number(raw);
  // A deny-list item with an unreadable ttl still denies: revoked for good rather than not at all (fail closed).
  return expiresAt !== undefined && Number.isFinite(expiresAt) ? { expiresAt } : {};
}
