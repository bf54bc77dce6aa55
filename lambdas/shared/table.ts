/**
 * The item shapes of Gatehouse's DynamoDB table (one table, string keys `pk` and `sk`), shared by the authorizer,
 * the handlers and the command-line tools so that they can never disagree on a name.
 */
export const TABLE_KEYS = { partition: 'pk', sort: 'sk' } as const;

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

export const apiKeyItemKey = (hash: string) => ({ pk: `APIKEY#${hash}`, sk: 'APIKEY' });
export const tenantItemKey = (tenantId: string) => ({ pk: `TENANT#${tenantId}`, sk: 'TENANT' });
