import { type AttributeValue, DeleteItemCommand, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { hashApiKey } from '../../../contract/api-key';
import { type MemberRole, TTL_ATTRIBUTE, apiKeyItemKey, memberIndexKey, memberItemKey, revokedSessionItemKey, tenantItemKey } from '../../../contract/table';

/**
 * API key, tenant, member and revoked-session items on the emulator, written with the table's own key helpers
 * (contract/table.ts), as the management tools write them. Shared by the membership and session tests (authorizer
 * and local gateway) and the unit tests of the authorizer's steps.
 */
type Item = Record<string, AttributeValue>;

function send<T>(fn: (db: DynamoDBClient) => Promise<T>): Promise<T> {
  const db = new DynamoDBClient({});
  return fn(db).finally(() => db.destroy());
}

export interface MemberItem {
  readonly tenantId: string;
  readonly issuer: string;
  readonly subject: string;
  readonly role: MemberRole | string;
}

/** Writes a member item; `overrides` replace (or, as `undefined`, drop) attributes, to store a corrupted record. */
export async function putMember(tableName: string, m: MemberItem, overrides: Record<string, AttributeValue | undefined> = {}): Promise<void> {
  const item: Record<string, AttributeValue | undefined> = {
    ...s(memberItemKey(m.tenantId, m.issuer, m.subject)),
    ...s(memberIndexKey(m.tenantId, m.issuer, m.subject)),
    tenantId: { S: m.tenantId },
    issuer: { S: m.issuer },
    subject: { S: m.subject },
    role: { S: m.role },
    createdAt: { S: new Date().toISOString() },
    ...overrides,
  };
  const defined = Object.fromEntries(Object.entries(item).filter(([, v]) => v !== undefined)) as Item;
  await send((db) => db.send(new PutItemCommand({ TableName: tableName, Item: defined })));
}

export async function deleteMember(tableName: string, m: Omit<MemberItem, 'role'>): Promise<void> {
  await send((db) => db.send(new DeleteItemCommand({ TableName: tableName, Key: s(memberItemKey(m.tenantId, m.issuer, m.subject)) })));
}

/** Puts a session on an issuer's deny list, until `ttl` (seconds since the epoch) or for good; `ttl` may be raw. */
export async function revokeSession(tableName: string, issuer: string, sessionId: string, ttl?: number | AttributeValue): Promise<void> {
  const ttlAttr: Item = ttl === undefined ? {} : { [TTL_ATTRIBUTE]: typeof ttl === 'number' ? { N: String(ttl) } : ttl };
  await send((db) =>
    db.send(new PutItemCommand({ TableName: tableName, Item: { ...s(revokedSessionItemKey(issuer, sessionId)), revokedAt: { S: new Date().toISOString() }, ...ttlAttr } })),
  );
}

/** Writes an API key item under the key's hash; `attrs` are its string attributes (keyId, tenantId, status, ...). */
export async function putApiKeyItem(tableName: string, key: string, attrs: Record<string, string>, extra: Item = {}): Promise<void> {
  await send((db) => db.send(new PutItemCommand({ TableName: tableName, Item: { ...s(apiKeyItemKey(hashApiKey(key))), ...s(attrs), ...extra } })));
}

/** Writes a tenant item; `attrs` are its string attributes (status, tier, usageKey), as given (a bad one stays bad). */
export async function putTenantItem(tableName: string, tenantId: string, attrs: Record<string, string>): Promise<void> {
  await send((db) => db.send(new PutItemCommand({ TableName: tableName, Item: { ...s(tenantItemKey(tenantId)), tenantId: { S: tenantId }, ...s(attrs) } })));
}

function s(attrs: Record<string, string>): Item {
  return Object.fromEntries(Object.entries(attrs).map(([k, v]) => [k, { S: v }]));
}
