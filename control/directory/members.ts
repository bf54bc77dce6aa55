import { ConditionalCheckFailedException, DeleteItemCommand } from '@aws-sdk/client-dynamodb';
import * as z from 'zod/mini';
import { MEMBER_ROLES, MEMBER_SK_PREFIX, type MemberRecord, type MemberRole, memberIndexKey, memberItemKey, tenantItemKey } from '../../contract/table';
import { DirectoryError } from './errors';
import { type DirectoryTable, type Item, keyAttrs, strings } from './table';
import { writeWithActiveTenant } from './tenants';
import * as v from './validate';

/** Adds a user to an active tenant, or changes their role there. */
export async function addMember(t: DirectoryTable, tenant: string, issuer: string, sub: string, role: string): Promise<MemberRecord> {
  const tenantId = v.check(v.tenantId, tenant, 'tenant');
  const member: MemberRecord = {
    tenantId,
    issuer: v.check(v.issuerId, issuer, 'issuer'),
    subject: v.check(v.subject, sub, 'user'),
    role: v.check(z.enum(MEMBER_ROLES), role, 'role'),
    createdAt: t.iso(),
  };
  await writeWithActiveTenant(t, tenantId, {
    Put: {
      TableName: t.name,
      Item: {
        ...keyAttrs(memberItemKey(tenantId, member.issuer, member.subject)),
        ...strings(memberIndexKey(tenantId, member.issuer, member.subject)),
        ...strings({ tenantId, issuer: member.issuer, subject: member.subject, role: member.role, createdAt: member.createdAt }),
      },
    },
  });
  return member;
}

/** Removes a user from a tenant; one who is not a member is MEMBER_NOT_FOUND. */
export async function removeMember(t: DirectoryTable, tenant: string, issuer: string, sub: string): Promise<void> {
  const tenantId = v.check(v.tenantId, tenant, 'tenant');
  const key = memberItemKey(tenantId, v.check(v.issuerId, issuer, 'issuer'), v.check(v.subject, sub, 'user'));
  try {
    await t.db.send(new DeleteItemCommand({ TableName: t.name, Key: keyAttrs(key), ConditionExpression: 'attribute_exists(pk)' }));
  } catch (err) {
    if (err instanceof ConditionalCheckFailedException) throw new DirectoryError('MEMBER_NOT_FOUND', `${issuer}:${sub} is not a member of ${tenantId}`);
    throw err;
  }
}

/** The tenant's members (a consistent read of the tenant's partition). */
export async function listMembers(t: DirectoryTable, tenant: string): Promise<MemberRecord[]> {
  const tenantId = v.check(v.tenantId, tenant, 'tenant');
  const items = await t.queryAll({
    KeyConditionExpression: 'pk = :p AND begins_with(sk, :m)',
    ExpressionAttributeValues: { ':p': { S: tenantItemKey(tenantId).pk }, ':m': { S: MEMBER_SK_PREFIX } },
    ConsistentRead: true,
  });
  return items.map(memberFromItem);
}

function memberFromItem(item: Item): MemberRecord {
  const s = (n: string) => item[n]?.S ?? '';
  const role = s('role') as MemberRole;
  return { tenantId: s('tenantId'), issuer: s('issuer'), subject: s('subject'), role: MEMBER_ROLES.includes(role) ? role : 'member', createdAt: s('createdAt') };
}
