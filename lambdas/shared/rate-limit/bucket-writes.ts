/**
 * The limiter's conditional writes: lease n tokens from a tenant's GCRA bucket, or n units of its monthly quota, in
 * one UpdateItem each. DynamoDB applies conditional writes to one item one at a time, so the conditions below are
 * the whole of the limit across containers. A failed condition returns the stored item in the same answer
 * (`ReturnValuesOnConditionCheckFailure: ALL_OLD`,
 * https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_UpdateItem.html), so what is left is known
 * without a read; it still consumes write capacity
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/WorkingWithItems.html#WorkingWithItems.ConditionalUpdate).
 */
import {
  type AttributeValue,
  type DynamoDBClient,
  GetItemCommand,
  UpdateItemCommand,
  type UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import { TTL_ATTRIBUTE } from '../../../contract/table';
import { type GcraParams, US_PER_SECOND, microsToMillisNumber, millisNumberToMicros, utcMonth } from './gcra';

/** Thrown when a bucket kept changing under every attempt: the caller treats it like any limiter failure. */
export class RateLimiterContentionError extends Error {
  constructor(attempts: number) {
    super(`rate limit bucket still contended after ${attempts} conditional writes`);
    this.name = 'RateLimiterContentionError';
  }
}

/** Thrown when a bucket item holds something that is not a GCRA state (hand-edited, or another writer's item). */
export class RateLimiterStateError extends Error {
  constructor(what = 'rate limit bucket item has no numeric tat') {
    super(what);
    this.name = 'RateLimiterStateError';
  }
}

/** Idle buckets are deleted by TTL this long after they are full again (covers clock skew between writers). */
const TTL_MARGIN_SECONDS = 300;
/** Month items outlive their month by this much, so last month's count can still be read. */
const MONTH_TTL_MARGIN_SECONDS = 35 * 24 * 3600;

/** The table one limiter writes to. */
export interface LimiterTable {
  readonly dynamodb: DynamoDBClient;
  readonly tableName: string;
  /** Conditional writes per lease before giving up on a contended item. */
  readonly maxAttempts: number;
}

/** One lease on a tenant's bucket: its key, the tier's parameters, the time of the request. */
export interface BucketLease {
  readonly Key: Record<string, AttributeValue>;
  readonly p: GcraParams;
  readonly nowUs: number;
  readonly signal: AbortSignal | undefined;
}

/** What a bucket lease got: `granted` tokens (0: the bucket is empty) and the stored tat after (or as found). */
export interface BucketLeaseResult {
  readonly granted: number;
  readonly tatUs: number;
  /** The tokens were added to a busy bucket's tat (so tatUs - granted * I is what the lease found). */
  readonly busy: boolean;
}

// By name, not instanceof: a second copy of the SDK in a bundle would have its own class.
function conditionFailed(err: unknown): err is { name: 'ConditionalCheckFailedException'; Item?: Record<string, AttributeValue> } {
  return (err as { name?: unknown } | null)?.name === 'ConditionalCheckFailedException';
}

const N = (n: number | string): AttributeValue => ({ N: String(n) });
const ms = (us: number) => N(microsToMillisNumber(us));
const sendOptions = (signal: AbortSignal | undefined) => (signal ? { abortSignal: signal } : {});
const update = (table: LimiterTable, input: UpdateItemCommandInput, signal: AbortSignal | undefined) =>
  table.dynamodb.send(new UpdateItemCommand(input), sendOptions(signal));
// The TTL must never fall before the new tat, or DynamoDB could delete a bucket that still holds back requests.
const ttlAfter = (newTatBoundUs: number) => N(Math.ceil(newTatBoundUs / US_PER_SECOND) + TTL_MARGIN_SECONDS);
const BUCKET_NAMES = { '#tat': 'tat', '#ttl': TTL_ATTRIBUTE } as const;

/** Reads `tat` of a bucket item; `null` when the item or its tat is missing; throws when tat is not a number. */
function tatOf(item: Record<string, AttributeValue> | undefined): number | null {
  const raw = item?.tat;
  if (raw === undefined) return null;
  const us = raw.N === undefined ? undefined : millisNumberToMicros(raw.N);
  if (us === undefined) throw new RateLimiterStateError();
  return us;
}

/** The stored item a conditional write failed on: its ALL_OLD item, else (an emulator without it) a consistent read. */
async function itemAfterFailedWrite(table: LimiterTable, Key: Record<string, AttributeValue>, err: { Item?: Record<string, AttributeValue> }, signal: AbortSignal | undefined) {
  if (err.Item) return err.Item;
  const got = await table.dynamodb.send(new GetItemCommand({ TableName: table.tableName, Key, ConsistentRead: true }), sendOptions(signal));
  return got.Item;
}

/**
 * Leases up to `wanted` tokens (1 <= wanted <= b/8) from the bucket at `c.nowUs`:
 * - busy bucket: `SET tat = tat + nI` conditioned on `now < tat <= now + (b-n)I` (n tokens are there);
 * - idle or missing bucket: `SET tat = now + nI` conditioned on `tat <= now`.
 * `idleFirst` picks the write to try first (from the known tat). When the condition fails, the stored tat says how
 * many tokens there are: at least ceil(wanted/2) -> lease those (one more write); fewer -> `granted: 0` with the
 * stored tat, from which the caller computes the Retry-After (exact for wanted = 1: there is no token). Taking
 * fewer would have containers that compete for a nearly empty bucket write once for every token or two that drips
 * in; they wait for a batch instead (limiter.ts). Rejects with RateLimiterContentionError after maxAttempts writes.
 */
export async function leaseBucket(table: LimiterTable, c: BucketLease, wanted: number, idleFirst: boolean): Promise<BucketLeaseResult> {
  const { intervalUs: i, burst: b } = c.p;
  let idle = idleFirst;
  let n = wanted;
  for (let attempt = 0; attempt < table.maxAttempts; attempt++) {
    try {
      return idle ? await idleWrite(table, c, n) : await busyWrite(table, c, n);
    } catch (err) {
      if (!conditionFailed(err)) throw err;
      // The busy write fails with no item when there is no bucket (yet); the idle one only on an existing tat.
      const tatUs = err.Item || idle ? tatOf(await itemAfterFailedWrite(table, c.Key, err, c.signal)) : null;
      if (tatUs === null || tatUs <= c.nowUs) {
        // Missing or idle bucket. If the idle write itself just failed on this, the item must be malformed.
        if (idle && tatUs !== null) throw new RateLimiterStateError();
        idle = true;
        continue;
      }
      const available = Math.floor((c.nowUs + b * i - tatUs) / i);
      if (available < Math.ceil(wanted / 2)) return { granted: 0, tatUs, busy: true };
      n = Math.min(n, available);
      idle = false;
    }
  }
  throw new RateLimiterContentionError(table.maxAttempts);
}

async function idleWrite(table: LimiterTable, c: BucketLease, n: number): Promise<BucketLeaseResult> {
  const newTatUs = c.nowUs + n * c.p.intervalUs;
  await update(
    table,
    {
      TableName: table.tableName,
      Key: c.Key,
      UpdateExpression: 'SET #tat = :tat, #ttl = :ttl',
      ConditionExpression: 'attribute_not_exists(#tat) OR #tat <= :now',
      ExpressionAttributeNames: BUCKET_NAMES,
      ExpressionAttributeValues: { ':tat': ms(newTatUs), ':now': ms(c.nowUs), ':ttl': ttlAfter(newTatUs) },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    },
    c.signal,
  );
  return { granted: n, tatUs: newTatUs, busy: false };
}

async function busyWrite(table: LimiterTable, c: BucketLease, n: number): Promise<BucketLeaseResult> {
  const { intervalUs: i, burst: b } = c.p;
  const out = await update(
    table,
    {
      TableName: table.tableName,
      Key: c.Key,
      UpdateExpression: 'SET #tat = #tat + :lease, #ttl = :ttl',
      ConditionExpression: '#tat > :now AND #tat <= :max',
      ExpressionAttributeNames: BUCKET_NAMES,
      ExpressionAttributeValues: { ':lease': ms(n * i), ':now': ms(c.nowUs), ':max': ms(c.nowUs + (b - n) * i), ':ttl': ttlAfter(c.nowUs + b * i) },
      ReturnValues: 'UPDATED_NEW',
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    },
    c.signal,
  );
  // The write succeeded, so the new tat is in (now + nI, now + bI]; the answer says exactly where.
  const tatUs = tatOf(out.Attributes);
  if (tatUs === null) throw new RateLimiterStateError();
  return { granted: n, tatUs, busy: true };
}

/** One lease on a tenant's monthly quota item. */
export interface QuotaLease {
  readonly Key: Record<string, AttributeValue>;
  readonly quota: number;
  readonly nowMs: number;
  readonly signal: AbortSignal | undefined;
}

/**
 * Leases up to `wanted` units of the month's quota: `ADD count n` conditioned on `count <= quota - n`; when fewer
 * are left, those (one more write). Resolves to the units granted, 0 when the quota is used up.
 */
export async function leaseQuota(table: LimiterTable, q: QuotaLease, wanted: number): Promise<number> {
  let n = Math.min(wanted, q.quota);
  const ttl = N(utcMonth(q.nowMs).nextMonthStartSeconds + MONTH_TTL_MARGIN_SECONDS);
  for (let attempt = 0; attempt < table.maxAttempts; attempt++) {
    try {
      await update(
        table,
        {
          TableName: table.tableName,
          Key: q.Key,
          UpdateExpression: 'ADD #count :n SET #ttl = :ttl',
          ConditionExpression: 'attribute_not_exists(#count) OR #count <= :max',
          ExpressionAttributeNames: { '#count': 'count', '#ttl': TTL_ATTRIBUTE },
          ExpressionAttributeValues: { ':n': N(n), ':max': N(q.quota - n), ':ttl': ttl },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        },
        q.signal,
      );
      return n;
    } catch (err) {
      if (!conditionFailed(err)) throw err;
      const count = Number((await itemAfterFailedWrite(table, q.Key, err, q.signal))?.count?.N);
      if (!Number.isFinite(count)) throw new RateLimiterStateError('monthly quota item has no numeric count');
      const left = q.quota - count;
      if (left < 1) return 0;
      n = Math.min(n, left);
    }
  }
  throw new RateLimiterContentionError(table.maxAttempts);
}
