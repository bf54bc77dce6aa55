import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import * as z from 'zod/mini';
import { TTL_ATTRIBUTE, revokedSessionItemKey } from '../../contract/table';
import { type DirectoryTable, keyAttrs } from './table';
import * as v from './validate';

/** A revoked session: denied until `until` (seconds since the epoch). */
export interface RevokedSession {
  issuer: string;
  sessionId: string;
  until: number;
}

/**
 * Denies a session (Supabase `session_id`, or the issuer's mapped session claim) until `ttlSeconds` from now,
 * which should be at least the issuer's token lifetime; DynamoDB deletes the record some time after that.
 */
export async function revokeSession(t: DirectoryTable, issuer: string, session: string, ttlSeconds: number): Promise<RevokedSession> {
  const iss = v.check(v.issuerId, issuer, 'issuer');
  const sessionId = v.check(v.sessionId, session, 'session');
  const ttl = v.check(z.number().check(z.int(), z.minimum(60), z.maximum(366 * 86_400)), ttlSeconds, 'ttl');
  const until = t.nowSeconds() + ttl;
  await t.db.send(
    new PutItemCommand({
      TableName: t.name,
      Item: { ...keyAttrs(revokedSessionItemKey(iss, sessionId)), issuer: { S: iss }, sessionId: { S: sessionId }, revokedAt: { S: t.iso() }, [TTL_ATTRIBUTE]: { N: String(until) } },
    }),
  );
  return { issuer: iss, sessionId, until };
}
