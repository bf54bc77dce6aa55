import { QueryCommand } from '@aws-sdk/client-dynamodb';
import * as z from 'zod/mini';
import { GSI1, apiKeyIndexKey } from '../../contract/table';
import { KEY_ID_PATTERN, TENANT_ID_PATTERN } from '../../contract/patterns';
import { DirectoryError } from './errors';
import type { DirectoryTable, Item } from './table';
import * as v from './validate';

/** How many keys a page holds: `limit` defaults to 50 and may be 1-100. */
export const KEY_PAGE_LIMIT = { default: 50, max: 100 } as const;

/** One page of a tenant's keys, in key id order; `nextCursor` is absent on the last page. */
export interface KeyPage<T> {
  readonly items: T[];
  readonly nextCursor?: string;
}

/** What {@link queryKeyPage} reads: at most `limit` keys after the cursor's key. */
export interface KeyPageInput {
  readonly limit?: number;
  readonly cursor?: string;
}

/**
 * One page of the tenant's key items from the index, after the key the cursor names. The cursor is not
 * DynamoDB's LastEvaluatedKey: that holds the table key `APIKEY#<sha256 of the key>`, a hash the listing never
 * shows. It holds only the tenant and the last key id, and the page is read with `gsi1sk > :after` in the
 * caller's own partition: the tenant always comes from the caller, so no cursor can reach another tenant's keys;
 * one naming another tenant is refused (CURSOR_INVALID) rather than silently re-read as the caller's.
 */
export async function queryKeyPage(t: DirectoryTable, tenantId: string, input: KeyPageInput): Promise<KeyPage<Item>> {
  const limit = v.check(z.number().check(z.int(), z.minimum(1), z.maximum(KEY_PAGE_LIMIT.max)), input.limit ?? KEY_PAGE_LIMIT.default, 'limit');
  const after = input.cursor === undefined ? undefined : decodeKeyCursor(input.cursor, tenantId);
  const out = await t.db.send(
    new QueryCommand({
      TableName: t.name,
      IndexName: GSI1.name,
      KeyConditionExpression: after === undefined ? '#p = :p' : '#p = :p AND #s > :after',
      ExpressionAttributeNames: { '#p': GSI1.partition, ...(after === undefined ? {} : { '#s': GSI1.sort }) },
      ExpressionAttributeValues: { ':p': { S: apiKeyIndexKey(tenantId, '').gsi1pk }, ...(after === undefined ? {} : { ':after': { S: after } }) },
      // One more than the page: whether it comes back says whether there is a next page, so the last page has
      // no cursor (DynamoDB's LastEvaluatedKey would be set on a page that is exactly full).
      Limit: limit + 1,
    }),
  );
  const read = out.Items ?? [];
  const items = read.slice(0, limit);
  const more = read.length > limit || out.LastEvaluatedKey !== undefined;
  const last = items.at(-1)?.[GSI1.sort]?.S;
  return { items, ...(more && last !== undefined ? { nextCursor: encodeKeyCursor(tenantId, last) } : {}) };
}

const CURSOR_SHAPE = /^[A-Za-z0-9_-]{1,400}$/;
const cursorBody = z.strictObject({ v: z.literal(1), t: z.string().check(z.regex(TENANT_ID_PATTERN)), k: z.string().check(z.regex(KEY_ID_PATTERN)) });

/** The opaque cursor after key `keyId` of `tenantId`: base64url JSON (opaque to clients, not secret). */
export function encodeKeyCursor(tenantId: string, keyId: string): string {
  return Buffer.from(JSON.stringify({ v: 1, t: tenantId, k: keyId }), 'utf8').toString('base64url');
}

/** The key id a cursor resumes after, or CURSOR_INVALID (garbage, another shape, another tenant's listing). */
function decodeKeyCursor(cursor: string, tenantId: string): string {
  const invalid = () => new DirectoryError('CURSOR_INVALID', 'cursor: not a cursor of this listing (pass nextCursor from the previous page as it is)');
  if (!CURSOR_SHAPE.test(cursor)) throw invalid();
  let body: unknown;
  try {
    body = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  const parsed = cursorBody.safeParse(body);
  if (!parsed.success || parsed.data.t !== tenantId) throw invalid();
  return parsed.data.k;
}
