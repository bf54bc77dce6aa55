/**
 * Customer items in Gatehouse's single table. Every key is derived from the caller's tenant id (which comes only
 * from the authorizer context), so a request can only ever address its own tenant's partition.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';

/** A customer as the API returns it. */
export interface Customer {
  /** Server-generated UUID. */
  readonly id: string;
  readonly name: string;
  readonly email?: string;
  /** ISO-8601. */
  readonly createdAt: string;
  /** ISO-8601. */
  readonly updatedAt: string;
}

/** The sort-key prefix of customer items; list queries use `begins_with` on it. */
export const CUSTOMER_SORT_PREFIX = 'CUSTOMER#';

/**
 * The partition holding a tenant's customers: `TENANT#<tenantId>#CUSTOMERS`. A fixed prefix and suffix make the
 * mapping one-to-one, so no tenant id can name another tenant's partition. Throws on an empty tenant id: a
 * principal without a tenant (a service) must never share one partition with every other tenantless caller.
 */
export function customersPartitionKey(tenantId: string): string {
  if (!tenantId) throw new Error('customers are tenant-scoped: tenantId is required');
  return `TENANT#${tenantId}#CUSTOMERS`;
}

/** The key of one customer of one tenant. */
export function customerItemKey(tenantId: string, customerId: string): { pk: string; sk: string } {
  return { pk: customersPartitionKey(tenantId), sk: `${CUSTOMER_SORT_PREFIX}${customerId}` };
}

/** The same key as DynamoDB attribute values. */
export function customerKeyAttributes(tenantId: string, customerId: string): Record<string, AttributeValue> {
  const { pk, sk } = customerItemKey(tenantId, customerId);
  return { pk: { S: pk }, sk: { S: sk } };
}

/** The item stored for `customer` of `tenantId` (the tenant id is kept on the item for audits and exports). */
export function customerToItem(tenantId: string, customer: Customer): Record<string, AttributeValue> {
  return {
    ...customerKeyAttributes(tenantId, customer.id),
    tenantId: { S: tenantId },
    id: { S: customer.id },
    name: { S: customer.name },
    ...(customer.email !== undefined ? { email: { S: customer.email } } : {}),
    createdAt: { S: customer.createdAt },
    updatedAt: { S: customer.updatedAt },
  };
}

/** Reads a stored customer item; throws when it lacks a field Gatehouse always writes (refuse, do not guess). */
export function customerFromItem(item: Record<string, AttributeValue>): Customer {
  const s = (name: string) => {
    const v = item[name]?.S;
    if (v === undefined) throw new Error(`stored customer item has no string ${name}`);
    return v;
  };
  const email = item.email?.S;
  return { id: s('id'), name: s('name'), ...(email !== undefined ? { email } : {}), createdAt: s('createdAt'), updatedAt: s('updatedAt') };
}
