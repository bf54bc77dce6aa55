import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { MemberCheck } from '../../../lambdas/authorizer/member-check';
import { MemberStore } from '../../../lambdas/authorizer/store';
import { createTable, uniqueName } from '../../support/aws';
import { putMember } from './records';
import { LOOKUP, reasonOf, refusalOf, unreachableDynamoDb, user } from './steps';

/** The member step alone (membership mode, after the tenant check): MemberCheck over a MemberStore on the emulator. */
let tableName: string;
let client: DynamoDBClient;
beforeAll(async () => {
  tableName = await createTable(uniqueName('gatehouse-members'));
  client = new DynamoDBClient({});
  await putMember(tableName, { tenantId: 'tenant-a', issuer: 'supabase', subject: 'user-1', role: 'admin' });
  await putMember(tableName, { tenantId: 'tenant-b', issuer: 'supabase', subject: 'user-1', role: 'member' });
  await putMember(tableName, { tenantId: 'tenant-c', issuer: 'supabase', subject: 'user-1', role: 'owner' });
  await putMember(tableName, { tenantId: 'tenant-d', issuer: 'supabase', subject: 'user-1', role: 'member' }, { subject: { S: 'user-2' } });
});
afterAll(() => client.destroy());

const members = (c: DynamoDBClient = client) => new MemberCheck(new MemberStore(() => c, tableName, LOOKUP, Date.now));
const claimed = (tenantId: string) => user({ tenantId, roles: ['owner'], tenantRequired: true });

describe('member step', () => {
  it("gives the user the member item's role in the tenant named, whatever roles the token claimed", async () => {
    await expect(members().member(claimed('tenant-a'))).resolves.toMatchObject({ tenantId: 'tenant-a', roles: ['admin'] });
    await expect(members().member(claimed('tenant-b'))).resolves.toMatchObject({ tenantId: 'tenant-b', roles: ['member'] });
  });

  it('keys members by issuer too: the same subject of another issuer is not a member', async () => {
    expect(await reasonOf(() => members().member({ ...claimed('tenant-a'), issuerId: 'corp' }))).toBe('MEMBERSHIP_NOT_FOUND');
  });

  it('refuses a user with no member item in the tenant as MEMBERSHIP_NOT_FOUND, naming the tenant', async () => {
    const refusal = await refusalOf(() => members().member(claimed('tenant-z')));

    expect(refusal.code).toBe('MEMBERSHIP_NOT_FOUND');
    expect(refusal.detail).toEqual({ tenantId: 'tenant-z' });
  });

  it('fails closed as MEMBERSHIP_RECORD_INVALID on a role it does not know', async () => {
    const refusal = await refusalOf(() => members().member(claimed('tenant-c')));

    expect(refusal.code).toBe('MEMBERSHIP_RECORD_INVALID');
    expect(refusal.detail).toEqual({ tenantId: 'tenant-c', field: 'role' });
  });

  it('fails closed as MEMBERSHIP_RECORD_INVALID on an item copied under another member key', async () => {
    expect(await reasonOf(() => members().member(claimed('tenant-d')))).toBe('MEMBERSHIP_RECORD_INVALID');
  });

  it('fails closed as MEMBERSHIP_STORE_UNAVAILABLE when the table cannot be read', async () => {
    const dead = unreachableDynamoDb();
    try {
      const refusal = await refusalOf(() => members(dead).member(claimed('tenant-a')));

      expect(refusal.code).toBe('MEMBERSHIP_STORE_UNAVAILABLE');
      expect(refusal.outcome).toBe('error');
    } finally {
      dead.destroy();
    }
  });

  it('leaves the user as it is when there is no member store', async () => {
    const u = claimed('tenant-a');

    await expect(new MemberCheck(undefined).member(u)).resolves.toBe(u);
  });
});
