/**
 * The item shapes of Gatehouse's DynamoDB table (one table, string keys `pk` and `sk`, one generic index `gsi1`),
 * shared by the authorizer, the handlers and the command-line tools so that they can never disagree on a name.
 *
 * | item            | pk                              | sk                       | gsi1pk                    | gsi1sk    |
 * | --------------- | ------------------------------- | ------------------------ | ------------------------- | --------- |
 * | API key         | APIKEY#<sha256 of the key>      | APIKEY                   | TENANT#<t>#APIKEYS        | <keyId>   |
 * | key slots       | APIKEY#TENANT#<t>               | KEYSLOTS                 | -                         | -         |
 * | tenant          | TENANT#<t>                      | TENANT                   | TENANTS                   | <t>       |
 * | member          | TENANT#<t>                      | MEMBER#<issuer>#<sub>    | USER#<issuer>#<sub>       | <t>       |
 * | revoked session | SESSION#<issuer>#<session id>   | REVOKED                  | -                         | -         |
 * | rate bucket     | RATE#<t>                        | BUCKET, MONTH#<yyyy-mm>  | -                         | -         |
 * | signed nonce    | NONCE#<signer>#<nonce>          | NONCE                    | -                         | -         |
 *
 * The authorizer reads single items by key (GetItem) and writes one kind: a signed request's nonce (a conditional
 * PutItem that fails if the nonce was seen; the item's `ttl` is past the timestamp window). Listing goes through `gsi1` or a Query on the
 * tenant's partition, from management tools and the self-service handler. Rate buckets belong to the handlers'
 * limiter (rate-limit/limiter.ts).
 */
export const TABLE_KEYS = { partition: 'pk', sort: 'sk' } as const;
export const GSI1 = { name: 'gsi1', partition: 'gsi1pk', sort: 'gsi1sk' } as const;
/** The table's TTL attribute (seconds since the epoch): DynamoDB deletes the item some time after it. */
export const TTL_ATTRIBUTE = 'ttl';

/** An API key, stored under the SHA-256 of the key; the key itself is never stored. */
export interface ApiKeyRecord {
  readonly keyId: string;
  readonly tenantId: string;
  readonly name: string;
  readonly scopes: readonly string[];
  readonly status: 'active' | 'revoked';
  readonly environment: 'live' | 'test';
  /** ISO-8601. */
  readonly createdAt: string;
  /** Seconds since the epoch; absent = never expires. */
  readonly expiresAt?: number;
  /** ISO-8601; written by management tools, not on the request path. */
  readonly lastUsedAt?: string;
}

export interface TenantRecord {
  readonly tenantId: string;
  readonly status: 'active' | 'suspended';
  readonly tier: string;
  /** The value of the tenant's API Gateway API key, returned as `usageIdentifierKey` for its usage plan. */
  readonly usageKey?: string;
}

export const MEMBER_ROLES = ['admin', 'member'] as const;
export type MemberRole = (typeof MEMBER_ROLES)[number];

/** Membership mode: a user (by issuer id and `sub`) belongs to a tenant with a role. */
export interface MemberRecord {
  readonly tenantId: string;
  /** The issuer's `id` in the authorizer configuration (e.g. `supabase`), so equal `sub`s of two issuers differ. */
  readonly issuer: string;
  readonly subject: string;
  readonly role: MemberRole;
  /** ISO-8601. */
  readonly createdAt: string;
}

/** Partition-key prefixes, spelled once: the key builders below and the stack's IAM conditions (dynamodb:LeadingKeys) use them. */
export const APIKEY_PK_PREFIX = 'APIKEY#';
export const TENANT_PK_PREFIX = 'TENANT#';
export const SESSION_PK_PREFIX = 'SESSION#';
/** The `gsi1pk` suffix of a tenant's API keys in the index (`TENANT#<t>#APIKEYS`). */
export const APIKEYS_INDEX_SUFFIX = '#APIKEYS';

/**
 * The partition keys the authorizer reads (GetItem), as IAM `StringLike` patterns: API keys, tenant records and
 * their members (both under `TENANT#<t>`), revoked sessions. Tenant ids hold no `#` (contract/patterns.ts), so
 * {@link TENANT_SUBPARTITIONS} matches every partition below a tenant (its customers, its key index) and never a
 * tenant's own: the stack refuses those with a `StringNotLike` next to these.
 */
export const AUTHORIZER_READ_PK_PATTERNS = [`${APIKEY_PK_PREFIX}*`, `${TENANT_PK_PREFIX}*`, `${SESSION_PK_PREFIX}*`] as const;
/** Partitions under a tenant (`TENANT#<t>#...`: customers, data), as an IAM `StringLike` pattern. */
export const TENANT_SUBPARTITIONS = `${TENANT_PK_PREFIX}*#*`;

export const apiKeyItemKey = (hash: string) => ({ pk: `${APIKEY_PK_PREFIX}${hash}`, sk: 'APIKEY' });
export const apiKeyIndexKey = (tenantId: string, keyId: string) => ({ gsi1pk: `${TENANT_PK_PREFIX}${tenantId}${APIKEYS_INDEX_SUFFIX}`, gsi1sk: keyId });
/**
 * The tenant's key slots: a map of live key id -> expiresAt (0: never), claimed in the same transaction as the
 * key (control/directory/key-slots.ts). Under `APIKEY#` so the writers of keys may write it; no key hash (64
 * hex digits) can be `TENANT#...`, and its sort key is not `APIKEY`, so no key lookup can ever land on it.
 */
export const apiKeySlotsItemKey = (tenantId: string) => ({ pk: `${APIKEY_PK_PREFIX}${TENANT_PK_PREFIX}${tenantId}`, sk: 'KEYSLOTS' });
/**
 * How many live API keys a tenant may hold (`apiKeys.maxPerTenant`): by default, and at most. The most is set by
 * the slots item: about 30 bytes a key, rewritten (one write unit per KB) on every create.
 */
export const API_KEYS_PER_TENANT = { default: 100, max: 1000 } as const;
export const tenantItemKey = (tenantId: string) => ({ pk: `${TENANT_PK_PREFIX}${tenantId}`, sk: 'TENANT' });
export const tenantIndexKey = (tenantId: string) => ({ gsi1pk: 'TENANTS', gsi1sk: tenantId });
export const MEMBER_SK_PREFIX = 'MEMBER#';
export const memberItemKey = (tenantId: string, issuer: string, subject: string) => ({
  pk: `${TENANT_PK_PREFIX}${tenantId}`,
  sk: `${MEMBER_SK_PREFIX}${issuer}#${subject}`,
});
export const memberIndexKey = (tenantId: string, issuer: string, subject: string) => ({ gsi1pk: `USER#${issuer}#${subject}`, gsi1sk: tenantId });
export const revokedSessionItemKey = (issuer: string, sessionId: string) => ({ pk: `${SESSION_PK_PREFIX}${issuer}#${sessionId}`, sk: 'REVOKED' });

/** A signed request's nonce, recorded once (lambdas/authorizer/signed-requests.ts): a second use is a replay. */
export const NONCE_PK_PREFIX = 'NONCE#';
export const nonceItemKey = (signer: string, nonce: string) => ({ pk: `${NONCE_PK_PREFIX}${signer}#${nonce}`, sk: 'NONCE' });
