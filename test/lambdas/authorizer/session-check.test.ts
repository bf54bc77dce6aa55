import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SessionCheck } from '../../../lambdas/authorizer/session-check';
import { RevokedSessionStore } from '../../../lambdas/authorizer/store';
import { revokeSession } from './records';
import { emulatorTable, LOOKUP, reasonOf, refusalOf, unreachableDynamoDb, user } from './steps';

/** The session deny-list step alone: SessionCheck over the supabase issuer's RevokedSessionStore on the emulator. */
const env = emulatorTable('gatehouse-sessions');

const NOW = Date.UTC(2030, 0, 1);
function check(opts: { client?: DynamoDBClient; now?: () => number } = {}) {
  const client = opts.client ?? env.clients.dynamodb;
  const now = opts.now ?? (() => NOW);
  return new SessionCheck(new Map([['supabase', new RevokedSessionStore(() => client, env.tableName, 'supabase', LOOKUP, now)]]), now);
}
let n = 0;
const session = () => `sess-${process.pid}-${n++}`;

describe('session deny-list step', () => {
  it('lets a session that is not on the list through', async () => {
    await expect(check().check(user({ sessionId: session() }))).resolves.toBeUndefined();
    expect(env.clients.count('GetItemCommand')).toBe(1);
  });

  it('refuses a session revoked for good as SESSION_REVOKED', async () => {
    const sessionId = session();
    await revokeSession(env.tableName, 'supabase', sessionId);

    expect(await reasonOf(() => check().check(user({ sessionId })))).toBe('SESSION_REVOKED');
  });

  it("refuses a revoked session until its item's ttl, then lets it through (DynamoDB deletes expired items late)", async () => {
    const sessionId = session();
    const ttl = NOW / 1000 + 30;
    await revokeSession(env.tableName, 'supabase', sessionId, ttl);

    expect(await reasonOf(() => check({ now: () => ttl * 1000 - 1 }).check(user({ sessionId })))).toBe('SESSION_REVOKED');
    await expect(check({ now: () => ttl * 1000 }).check(user({ sessionId }))).resolves.toBeUndefined();
  });

  it('refuses a user of an issuer with a deny list but no session id as SESSION_MISSING, without a lookup', async () => {
    const refusal = await refusalOf(() => check().check(user({ sessionId: undefined })));

    expect(refusal.code).toBe('SESSION_MISSING');
    expect(refusal.detail).toEqual({ issuer: 'supabase' });
    expect(env.clients.count('GetItemCommand')).toBe(0);
  });

  it('does not look up users of issuers without a deny list, session id or not', async () => {
    await expect(check().check(user({ issuerId: 'corp', sessionId: undefined }))).resolves.toBeUndefined();
    await expect(check().check(user({ issuerId: 'corp', sessionId: session() }))).resolves.toBeUndefined();
    expect(env.clients.count('GetItemCommand')).toBe(0);
  });

  it('fails closed as SESSION_STORE_UNAVAILABLE when the deny list cannot be read', async () => {
    const client = unreachableDynamoDb();
    try {
      const refusal = await refusalOf(() => check({ client }).check(user({ sessionId: session() })));

      expect(refusal.code).toBe('SESSION_STORE_UNAVAILABLE');
      expect(refusal.outcome).toBe('error');
    } finally {
      client.destroy();
    }
  });
});
