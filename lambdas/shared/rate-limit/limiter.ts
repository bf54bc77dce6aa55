/**
 * The exact per-tenant rate limiter: GCRA (the generic cell rate algorithm) on Gatehouse's DynamoDB table.
 *
 * GCRA is a token bucket of rate r per minute and capacity b kept as one number, the theoretical arrival time `tat`:
 * with interval I = 60 s / r, a request at `now` is admitted iff tat' = max(tat, now) + I satisfies
 * tat' - now <= b * I, and then `tat` becomes tat'. `tat` only ever grows, and every admission advances it by
 * exactly I in one conditional write, so concurrent callers (any number of Lambda instances) can never admit more
 * than b + elapsed * r requests: DynamoDB serializes conditional writes to one item.
 *
 * | item           | pk            | sk               | attributes                                         |
 * | -------------- | ------------- | ---------------- | -------------------------------------------------- |
 * | bucket         | RATE#<tenant> | BUCKET           | tat (ms since the epoch, up to 3 decimals), ttl    |
 * | monthly quota  | RATE#<tenant> | MONTH#<yyyy-mm>  | count, ttl                                         |
 *
 * Round trips (each is one conditional UpdateItem):
 * - busy bucket (tat > now), admitted or denied: 1. The write `SET tat = tat + I` is conditioned on
 *   `now < tat <= now + (b-1)I`; when the condition fails, `ReturnValuesOnConditionCheckFailure: ALL_OLD` returns
 *   the stored tat in the same answer, so a denial is computed from it with no second call.
 * - idle or missing bucket (tat <= now): `SET tat = now + I` conditioned on `tat <= now`. The limiter remembers the
 *   last tat it saw per tenant (a lower bound, since tat only grows) and starts with this write when that tat is
 *   already past, so an idle bucket costs 1 call too; with no such memory (a cold instance) it costs 2.
 * - a race (another writer moved tat between our read and our write) costs one more call, bounded by maxAttempts.
 * - a tier with a monthly quota: one more call (`ADD count 1` conditioned on `count < quota`), only when admitted.
 *
 * The arithmetic, and how times are written in the table, are in gcra.ts.
 */
import {
  type AttributeValue,
  type DynamoDBClient,
  GetItemCommand,
  UpdateItemCommand,
  type UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import { TTL_ATTRIBUTE } from '../../../contract/table';
import {
  type GcraParams,
  type RateLimitDecision,
  type RateLimitPolicy,
  US_PER_MS,
  US_PER_SECOND,
  admitted,
  denied,
  gcraParams,
  microsToMillisNumber,
  millisNumberToMicros,
  utcMonth,
} from './gcra';

export type { RateLimitDecision, RateLimitPolicy } from './gcra';

export const RATE_LIMIT_PK_PREFIX = 'RATE#';
export const RATE_LIMIT_BUCKET_SK = 'BUCKET';
export const RATE_LIMIT_MONTH_SK_PREFIX = 'MONTH#';

/** The key of a tenant's GCRA bucket. IAM: `dynamodb:LeadingKeys` `RATE#*` covers it and the quota items. */
export const rateLimitItemKey = (tenantId: string) => ({ pk: `${RATE_LIMIT_PK_PREFIX}${tenantId}`, sk: RATE_LIMIT_BUCKET_SK });
/** The key of a tenant's request count for calendar month `month` (`yyyy-mm`, UTC). */
export const monthlyQuotaItemKey = (tenantId: string, month: string) => ({
  pk: `${RATE_LIMIT_PK_PREFIX}${tenantId}`,
  sk: `${RATE_LIMIT_MONTH_SK_PREFIX}${month}`,
});

export interface CheckOptions {
  /** Aborts the DynamoDB calls (e.g. `AbortSignal.timeout(ms)`); the check then rejects. */
  readonly signal?: AbortSignal;
}

export interface RateLimiter {
  /** Counts one request of `tenantId` under `policy` and says whether it is admitted. Rejects when the table fails. */
  check(tenantId: string, policy: RateLimitPolicy, options?: CheckOptions): Promise<RateLimitDecision>;
}

export interface RateLimiterOptions {
  readonly dynamodb: DynamoDBClient;
  readonly tableName: string;
  /** Milliseconds since the epoch (default: Date.now). Injected by tests. */
  readonly now?: () => number;
  /** Conditional writes per check before giving up on a contended bucket (RateLimiterContentionError). @default 4 */
  readonly maxAttempts?: number;
  /** Tenants whose last seen tat is remembered (to pick the first write). @default 10000 */
  readonly hintCapacity?: number;
}

/** Thrown when a bucket kept changing under every attempt: the caller treats it like any limiter failure. */
export class RateLimiterContentionError extends Error {
  constructor(attempts: number) {
    super(`rate limit bucket still contended after ${attempts} conditional writes`);
    this.name = 'RateLimiterContentionError';
  }
}

/** Thrown when a bucket item holds something that is not a GCRA state (hand-edited, or another writer's item). */
export class RateLimiterStateError extends Error {
  constructor() {
    super('rate limit bucket item has no numeric tat');
    this.name = 'RateLimiterStateError';
  }
}

/** Idle buckets are deleted by TTL this long after they are full again (covers clock skew between writers). */
const TTL_MARGIN_SECONDS = 300;
/** Month items outlive their month by this much, so last month's count can still be read. */
const MONTH_TTL_MARGIN_SECONDS = 35 * 24 * 3600;

// By name, not instanceof: a second copy of the SDK in a bundle would have its own class.
function conditionFailed(err: unknown): err is { name: 'ConditionalCheckFailedException'; Item?: Record<string, AttributeValue> } {
  return (err as { name?: unknown } | null)?.name === 'ConditionalCheckFailedException';
}

const NAMES = { '#tat': 'tat', '#ttl': TTL_ATTRIBUTE } as const;
const N = (n: number | string): AttributeValue => ({ N: String(n) });

/** Reads `tat` of a bucket item; `null` when the item or its tat is missing; throws when tat is not a number. */
function tatOf(item: Record<string, AttributeValue> | undefined): number | null {
  const raw = item?.tat;
  if (raw === undefined) return null;
  const us = raw.N === undefined ? undefined : millisNumberToMicros(raw.N);
  if (us === undefined) throw new RateLimiterStateError();
  return us;
}

/** A GCRA limiter on `tableName`. One instance per execution environment: it remembers recent buckets. */
export function createRateLimiter(options: RateLimiterOptions): RateLimiter {
  const { dynamodb, tableName } = options;
  const clock = options.now ?? Date.now;
  const maxAttempts = options.maxAttempts ?? 4;
  const hintCapacity = options.hintCapacity ?? 10_000;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 2) throw new RangeError('maxAttempts must be an integer >= 2');
  const table: LimiterTable = { dynamodb, tableName, maxAttempts, hints: new TatHints(hintCapacity) };

  return {
    async check(tenantId, policy, checkOptions = {}) {
      if (!tenantId) throw new Error('rate limiter: tenantId is empty');
      const p = gcraParams(policy);
      const nowMs = clock();
      const nowUs = Math.round(nowMs * US_PER_MS);
      const decision = await minuteWindow(table, tenantId, p, nowUs, checkOptions.signal);
      // The quota counts admitted requests only; a request the quota refuses has still used its place in the bucket.
      if (!decision.allowed || policy.monthlyQuota === undefined) return decision;
      return (await monthWindow(table, tenantId, policy.monthlyQuota, nowMs, checkOptions.signal)) ?? decision;
    },
  };
}

/**
 * Tenant -> the largest tat seen. tat never decreases, so this is a lower bound of the stored value: it only ever
 * picks which conditional write to try first, never decides anything by itself. Holds `capacity` tenants; the one
 * remembered longest ago goes first.
 */
class TatHints {
  private readonly tats = new Map<string, number>();

  constructor(private readonly capacity: number) {}

  get(tenantId: string): number | undefined {
    return this.tats.get(tenantId);
  }

  remember(tenantId: string, tatUs: number): void {
    const known = this.tats.get(tenantId);
    this.tats.delete(tenantId);
    this.tats.set(tenantId, Math.max(known ?? 0, tatUs));
    if (this.tats.size > this.capacity) this.tats.delete(this.tats.keys().next().value!);
  }
}

/** What one limiter instance works with: its table, its options, and its memory of recent buckets. */
interface LimiterTable {
  readonly dynamodb: DynamoDBClient;
  readonly tableName: string;
  readonly maxAttempts: number;
  readonly hints: TatHints;
}

/** One check's view of a tenant's bucket: its key, the tier's parameters and the time of the request. */
interface BucketCheck {
  readonly tenantId: string;
  readonly Key: Record<string, AttributeValue>;
  readonly p: GcraParams;
  readonly nowUs: number;
  /** `nowUs` as the table's number of milliseconds. */
  readonly now: AttributeValue;
  readonly signal: AbortSignal | undefined;
}

const sendOptions = (signal: AbortSignal | undefined) => (signal ? { abortSignal: signal } : {});

const update = (table: LimiterTable, input: UpdateItemCommandInput, signal: AbortSignal | undefined) =>
  table.dynamodb.send(new UpdateItemCommand(input), sendOptions(signal));

// The TTL must never fall before the new tat, or DynamoDB could delete a bucket that still holds back requests.
const ttlAfter = (newTatBoundUs: number) => N(Math.ceil(newTatBoundUs / US_PER_SECOND) + TTL_MARGIN_SECONDS);

/**
 * The per-minute bucket: conditional writes, at most `maxAttempts`, starting with the one the remembered tat points
 * to. Resolves to the decision; rejects with RateLimiterContentionError, RateLimiterStateError or the table's error.
 */
async function minuteWindow(
  table: LimiterTable,
  tenantId: string,
  p: GcraParams,
  nowUs: number,
  signal: AbortSignal | undefined,
): Promise<RateLimitDecision> {
  const key = rateLimitItemKey(tenantId);
  const Key = { pk: { S: key.pk }, sk: { S: key.sk } };
  const bucket: BucketCheck = { tenantId, Key, p, nowUs, now: N(microsToMillisNumber(nowUs)), signal };
  const { intervalUs: i, burst: b } = p;
  const hint = table.hints.get(tenantId);
  let idle = hint !== undefined && hint <= nowUs;
  for (let attempt = 0; attempt < table.maxAttempts; attempt++) {
    try {
      return idle ? await idleWrite(table, bucket) : await busyWrite(table, bucket);
    } catch (err) {
      if (!conditionFailed(err)) throw err;
      const tatUs = await tatAfterFailedWrite(table, bucket, err, idle);
      if (tatUs !== null) table.hints.remember(tenantId, tatUs);
      if (tatUs === null || tatUs <= nowUs) {
        // Missing or idle bucket. If the idle write itself just failed on this, the item must be malformed.
        if (idle && tatUs !== null) throw new RateLimiterStateError();
        idle = true;
      } else if (tatUs > nowUs + (b - 1) * i) {
        // Over the limit: the stored tat gives the exact wait, with no further call.
        return denied(tatUs, nowUs, p);
      } else {
        idle = false;
      }
    }
  }
  throw new RateLimiterContentionError(table.maxAttempts);
}

/** The write for an idle or missing bucket (tat <= now): `SET tat = now + I`, conditioned on `tat <= now`. */
async function idleWrite(table: LimiterTable, c: BucketCheck): Promise<RateLimitDecision> {
  const newTatUs = c.nowUs + c.p.intervalUs;
  await update(
    table,
    {
      TableName: table.tableName,
      Key: c.Key,
      UpdateExpression: 'SET #tat = :tat, #ttl = :ttl',
      ConditionExpression: 'attribute_not_exists(#tat) OR #tat <= :now',
      ExpressionAttributeNames: NAMES,
      ExpressionAttributeValues: { ':tat': N(microsToMillisNumber(newTatUs)), ':now': c.now, ':ttl': ttlAfter(newTatUs) },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    },
    c.signal,
  );
  table.hints.remember(c.tenantId, newTatUs);
  return admitted(newTatUs, c.nowUs, c.p);
}

/** The write for a busy bucket: `SET tat = tat + I`, conditioned on `now < tat <= now + (b-1)I`. */
async function busyWrite(table: LimiterTable, c: BucketCheck): Promise<RateLimitDecision> {
  const { intervalUs: i, burst: b } = c.p;
  const out = await update(
    table,
    {
      TableName: table.tableName,
      Key: c.Key,
      UpdateExpression: 'SET #tat = #tat + :interval, #ttl = :ttl',
      ConditionExpression: '#tat > :now AND #tat <= :max',
      ExpressionAttributeNames: NAMES,
      ExpressionAttributeValues: {
        ':interval': N(microsToMillisNumber(i)),
        ':now': c.now,
        ':max': N(microsToMillisNumber(c.nowUs + (b - 1) * i)),
        ':ttl': ttlAfter(c.nowUs + b * i),
      },
      ReturnValues: 'UPDATED_NEW',
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    },
    c.signal,
  );
  // The write succeeded, so the new tat is in (now + I, now + bI]; the answer says exactly where.
  const newTatUs = tatOf(out.Attributes);
  if (newTatUs === null) throw new RateLimiterStateError();
  table.hints.remember(c.tenantId, newTatUs);
  return admitted(newTatUs, c.nowUs, c.p);
}

/** The stored tat a conditional write failed on (`null`: no bucket), from the failure's ALL_OLD item or a read. */
async function tatAfterFailedWrite(
  table: LimiterTable,
  c: BucketCheck,
  err: { Item?: Record<string, AttributeValue> },
  idle: boolean,
): Promise<number | null> {
  if (err.Item) return tatOf(err.Item);
  if (!idle) return null; // the busy write failed with no item: there is no bucket (yet)
  // The idle write fails only on an existing numeric tat: no ALL_OLD item means the table did not return
  // it (an emulator without ReturnValuesOnConditionCheckFailure). Read it, consistently.
  const read = new GetItemCommand({ TableName: table.tableName, Key: c.Key, ConsistentRead: true });
  const got = await table.dynamodb.send(read, sendOptions(c.signal));
  return tatOf(got.Item);
}

/** The monthly quota: one conditional `ADD count 1`; a denial when the month's count is already at the quota. */
async function monthWindow(
  table: LimiterTable,
  tenantId: string,
  quota: number,
  nowMs: number,
  signal: AbortSignal | undefined,
): Promise<RateLimitDecision | undefined> {
  const m = utcMonth(nowMs);
  const key = monthlyQuotaItemKey(tenantId, m.month);
  try {
    await update(
      table,
      {
        TableName: table.tableName,
        Key: { pk: { S: key.pk }, sk: { S: key.sk } },
        UpdateExpression: 'ADD #count :one SET #ttl = :ttl',
        ConditionExpression: 'attribute_not_exists(#count) OR #count < :quota',
        ExpressionAttributeNames: { '#count': 'count', '#ttl': TTL_ATTRIBUTE },
        ExpressionAttributeValues: { ':one': N(1), ':quota': N(quota), ':ttl': N(m.nextMonthStartSeconds + MONTH_TTL_MARGIN_SECONDS) },
      },
      signal,
    );
    return undefined;
  } catch (err) {
    if (!conditionFailed(err)) throw err;
    return { allowed: false, limit: quota, remaining: 0, resetSeconds: m.secondsToNext, retryAfterSeconds: m.secondsToNext, window: 'month' };
  }
}
