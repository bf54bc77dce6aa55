import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { MemberRecord, TenantRecord } from '../../contract/table';
import { type ApiKeyInfo, type CreateApiKeyInput, type CreatedApiKey, createApiKey, listApiKeyPage, listApiKeys, revokeApiKey, rotateApiKey } from './api-keys';
import type { KeyPage, KeyPageInput } from './key-pages';
import { addMember, listMembers, removeMember } from './members';
import { type RevokedSession, revokeSession } from './sessions';
import { DirectoryTable } from './table';
import { type CreateTenantInput, type TenantInfo, createTenant, getTenant, listTenants, setTenantStatus, setTenantTier, setTenantUsageKey } from './tenants';

export type { ApiKeyInfo, CreateApiKeyInput, CreatedApiKey } from './api-keys';
export type { KeyPage, KeyPageInput } from './key-pages';
export type { RevokedSession } from './sessions';
export type { CreateTenantInput, TenantInfo } from './tenants';

/**
 * Tenants, API keys, members and revoked sessions in Gatehouse's table: what the command-line tool and the
 * self-service handler share. Every write is conditional, so a racing writer or a wrong tenant never silently
 * changes another record; every input is validated before any I/O. Item shapes: contract/table.ts.
 *
 * The operations live by concept in tenants.ts, api-keys.ts, members.ts and sessions.ts; this class is their one
 * entry point, bound to a table.
 */
export class Directory {
  private readonly table: DirectoryTable;

  constructor(db: DynamoDBClient, tableName: string, now: () => number = Date.now) {
    this.table = new DirectoryTable(db, tableName, now);
  }

  // ---- tenants -------------------------------------------------------------------------------------------------

  /** Creates an active tenant; an existing id is TENANT_EXISTS. */
  createTenant(input: CreateTenantInput): Promise<TenantInfo> {
    return createTenant(this.table, input);
  }

  /** One tenant; an unknown one is TENANT_NOT_FOUND. */
  getTenant(id: string): Promise<TenantInfo> {
    return getTenant(this.table, id);
  }

  /** Every tenant. */
  listTenants(): Promise<TenantInfo[]> {
    return listTenants(this.table);
  }

  /** Changes a tenant's tier (the caller moves its usage-plan key to the tier's plan first). */
  setTenantTier(id: string, newTier: string): Promise<TenantInfo> {
    return setTenantTier(this.table, id, newTier);
  }

  /** Suspends or resumes a tenant. Idempotent: suspending a suspended tenant changes nothing but `updatedAt`. */
  setTenantStatus(id: string, status: TenantRecord['status']): Promise<TenantInfo> {
    return setTenantStatus(this.table, id, status);
  }

  /** Records the tenant's usage-plan key (value and id), e.g. for a tenant created before usage plans. */
  setTenantUsageKey(id: string, usageKey: string, usageKeyId: string): Promise<TenantInfo> {
    return setTenantUsageKey(this.table, id, usageKey, usageKeyId);
  }

  // ---- API keys ------------------------------------------------------------------------------------------------

  /** A new key for an active tenant, within the tenant's cap (KEY_LIMIT_REACHED beyond). Returns the key (show it once). */
  createApiKey(input: CreateApiKeyInput): Promise<CreatedApiKey> {
    return createApiKey(this.table, input);
  }

  /** The tenant's keys (never the keys themselves, nor their hashes), newest first. */
  listApiKeys(tenantId: string): Promise<ApiKeyInfo[]> {
    return listApiKeys(this.table, tenantId);
  }

  /** One page of the tenant's keys in key id order: `limit` 1-100 (default 50), `cursor` the previous `nextCursor`. */
  listApiKeyPage(tenantId: string, page: KeyPageInput = {}): Promise<KeyPage<ApiKeyInfo>> {
    return listApiKeyPage(this.table, tenantId, page);
  }

  /** Revokes a key of this tenant; another tenant's key is KEY_NOT_FOUND, like an unknown one. Idempotent. */
  revokeApiKey(tenant: string, key: string): Promise<ApiKeyInfo> {
    return revokeApiKey(this.table, tenant, key);
  }

  /** A new key like the old one; the old one keeps working for `graceSeconds` (0: it stops now), then expires. */
  rotateApiKey(tenant: string, key: string, graceSeconds: number, prefix: string, maxKeysPerTenant?: number): Promise<CreatedApiKey & { readonly old: ApiKeyInfo }> {
    return rotateApiKey(this.table, tenant, key, graceSeconds, prefix, maxKeysPerTenant);
  }

  // ---- members (membership mode) -----------------------------------------------------------------------------

  /** Adds a user to an active tenant, or changes their role there. */
  addMember(tenant: string, issuer: string, sub: string, role: string): Promise<MemberRecord> {
    return addMember(this.table, tenant, issuer, sub, role);
  }

  /** Removes a user from a tenant; one who is not a member is MEMBER_NOT_FOUND. */
  removeMember(tenant: string, issuer: string, sub: string): Promise<void> {
    return removeMember(this.table, tenant, issuer, sub);
  }

  /** The tenant's members. */
  listMembers(tenant: string): Promise<MemberRecord[]> {
    return listMembers(this.table, tenant);
  }

  // ---- sessions ------------------------------------------------------------------------------------------------

  /** Denies a session until `ttlSeconds` from now (at least the issuer's token lifetime). */
  revokeSession(issuer: string, session: string, ttlSeconds: number): Promise<RevokedSession> {
    return revokeSession(this.table, issuer, session, ttlSeconds);
  }
}
