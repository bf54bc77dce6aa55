/**
 * A deterministic simulation for the `limiter` section: the real limiter (lambdas/shared/rate-limit) in many
 * "containers" on a virtual clock, against an in-memory model of the DynamoDB items it writes. The model implements
 * exactly the conditional UpdateItems the limiter sends (bucket-writes.ts), applies them one at a time as DynamoDB
 * does on one item, and throttles the bucket's partition above 1,000 writes per second (conditional writes that
 * fail count too: they consume write capacity). A simulation, not a measurement of DynamoDB.
 */
import { type AttributeValue, type DynamoDBClient, GetItemCommand, UpdateItemCommand, type UpdateItemCommandInput } from '@aws-sdk/client-dynamodb';
import { microsToMillisNumber, millisNumberToMicros } from '../lambdas/shared/rate-limit/gcra';
import { type RateLimitPolicy, createRateLimiter } from '../lambdas/shared/rate-limit/limiter';
import { seeded } from './stats';

/** DynamoDB's write throughput per partition (and so per item). */
export const PARTITION_WCU_PER_SECOND = 1000;

const us = (v: AttributeValue | undefined) => (v?.N === undefined ? undefined : millisNumberToMicros(v.N)!);
const N = (n: number): AttributeValue => ({ N: String(n) });

function conditionFailed(model: ItemModel, item: Record<string, AttributeValue> | undefined): Error {
  model.failedConditions++;
  return Object.assign(new Error('The conditional request failed'), { name: 'ConditionalCheckFailedException', ...(item ? { Item: { ...item } } : {}) });
}

/** The items of one tenant, the writes they took per virtual second, and the writes refused for capacity. */
class ItemModel {
  private readonly items = new Map<string, Record<string, AttributeValue>>();
  /** Writes (conditional ones that failed included) on the bucket item, per whole virtual second. */
  readonly bucketWritesPerSecond = new Map<number, number>();
  /** Writes sent to the bucket item per whole virtual second, throttled ones included. */
  readonly bucketAttemptsPerSecond = new Map<number, number>();
  throttled = 0;
  writes = 0;
  failedConditions = 0;

  constructor(
    private readonly nowMs: () => number,
    private readonly writesPerSecond: number,
  ) {}

  /** What the limiter's DynamoDBClient sees: `send` for UpdateItem and GetItem. */
  client(): DynamoDBClient {
    const send = async (command: unknown) => {
      if (command instanceof UpdateItemCommand) return this.update(command.input);
      if (command instanceof GetItemCommand) return { Item: this.items.get(JSON.stringify(command.input.Key)) };
      throw new Error('simulated table: unexpected command');
    };
    return { send } as unknown as DynamoDBClient;
  }

  private update(input: UpdateItemCommandInput): Record<string, unknown> {
    const key = JSON.stringify(input.Key);
    const second = Math.floor(this.nowMs() / 1000);
    const bucket = input.Key?.sk?.S === 'BUCKET';
    if (bucket) {
      this.bucketAttemptsPerSecond.set(second, (this.bucketAttemptsPerSecond.get(second) ?? 0) + 1);
      const used = this.bucketWritesPerSecond.get(second) ?? 0;
      if (used >= this.writesPerSecond) {
        this.throttled++;
        throw Object.assign(new Error('throughput exceeds the partition'), { name: 'ProvisionedThroughputExceededException' });
      }
      this.bucketWritesPerSecond.set(second, used + 1);
    }
    this.writes++;
    const item = this.items.get(key);
    const v = input.ExpressionAttributeValues!;
    const next = { ...(item ?? (input.Key as Record<string, AttributeValue>)) };
    switch (input.UpdateExpression) {
      case 'SET #tat = :tat, #ttl = :ttl': {
        const tat = us(item?.tat);
        if (tat !== undefined && tat > us(v[':now'])!) throw conditionFailed(this, item);
        this.items.set(key, { ...next, tat: v[':tat']!, ttl: v[':ttl']! });
        return {};
      }
      case 'SET #tat = #tat + :lease, #ttl = :ttl': {
        const tat = us(item?.tat);
        if (tat === undefined || !(tat > us(v[':now'])! && tat <= us(v[':max'])!)) throw conditionFailed(this, item);
        const tatNew = { N: microsToMillisNumber(tat + us(v[':lease'])!) };
        this.items.set(key, { ...next, tat: tatNew, ttl: v[':ttl']! });
        return { Attributes: { tat: tatNew } };
      }
      case 'ADD #count :n SET #ttl = :ttl': {
        const count = item?.count?.N === undefined ? undefined : Number(item.count.N);
        if (count !== undefined && count > Number(v[':max']!.N)) throw conditionFailed(this, item);
        this.items.set(key, { ...next, count: N((count ?? 0) + Number(v[':n']!.N)), ttl: v[':ttl']! });
        return {};
      }
      default:
        throw new Error(`simulated table: unexpected update ${input.UpdateExpression}`);
    }
  }

  /** The most writes sent to the bucket item in one second from `fromSecond` on, throttled ones included. */
  peakBucketWritesPerSecond(fromSecond = -Infinity): number {
    return Math.max(0, ...[...this.bucketAttemptsPerSecond].filter(([second]) => second >= fromSecond).map(([, n]) => n));
  }
}

export interface Scenario {
  readonly policy: RateLimitPolicy;
  readonly containers: number;
  /** Requests per second offered to each container (Poisson arrivals, seeded). */
  readonly ratePerContainer: number;
  readonly seconds: number;
  /** Leading seconds left out of the steady-state figures. */
  readonly warmupSeconds: number;
  /** 1: the exact limiter (every token leased by the request that spends it). */
  readonly maxLease?: number;
  readonly seed?: number;
  /** Writes per second the bucket's partition takes. @default PARTITION_WCU_PER_SECOND */
  readonly partitionWritesPerSecond?: number;
}

export interface Outcome {
  readonly offered: number;
  readonly admitted: number;
  /** Admitted after the warm-up, and bucket writes after the warm-up (quota writes apart). */
  readonly steadyAdmitted: number;
  readonly steadyWrites: number;
  /** The most admissions in any 60 s window (sliding, to the millisecond). */
  readonly maxPerMinute: number;
  /** The most writes sent to the bucket item in one virtual second, throttled ones included. */
  readonly peakWritesPerSecond: number;
  /** The same after the warm-up. */
  readonly steadyPeakWritesPerSecond: number;
  /** Writes the partition refused (over 1,000 in a second). */
  readonly throttled: number;
  /** Checks that rejected (the middleware would fail open or closed). */
  readonly errors: number;
  /** Conditional writes that failed (a lease that found fewer tokens, or a stale guess of idle or busy). */
  readonly failedConditions: number;
}

/** Every container's arrival times (ms from the start), merged in time order. */
function arrivals(s: Scenario): { atMs: number; container: number }[] {
  const random = seeded(s.seed ?? 1);
  const out: { atMs: number; container: number }[] = [];
  for (let c = 0; c < s.containers; c++) {
    let t = random() * (1000 / s.ratePerContainer);
    while (t < s.seconds * 1000) {
      out.push({ atMs: t, container: c });
      t += (-Math.log(1 - random()) * 1000) / s.ratePerContainer;
    }
  }
  return out.sort((a, b) => a.atMs - b.atMs || a.container - b.container);
}

/** The largest number of timestamps (ascending) within any window of `windowMs`. */
function maxInWindow(sortedMs: readonly number[], windowMs: number): number {
  let best = 0;
  for (let lo = 0, hi = 0; hi < sortedMs.length; hi++) {
    while (sortedMs[hi]! - sortedMs[lo]! >= windowMs) lo++;
    best = Math.max(best, hi - lo + 1);
  }
  return best;
}

/** Runs one scenario: each arrival is checked by its container's limiter at its virtual time, one at a time. */
export async function simulate(s: Scenario): Promise<Outcome> {
  const startMs = Date.UTC(2026, 10, 3, 12, 0, 0);
  let nowMs = startMs;
  const model = new ItemModel(() => nowMs, s.partitionWritesPerSecond ?? PARTITION_WCU_PER_SECOND);
  const dynamodb = model.client();
  const random = seeded((s.seed ?? 1) + 7);
  const limiters = Array.from({ length: s.containers }, () =>
    createRateLimiter({ dynamodb, tableName: 'sim', now: () => nowMs, random, ...(s.maxLease ? { maxLease: s.maxLease } : {}) }),
  );
  const admittedAt: number[] = [];
  let errors = 0;
  let steadyWritesFrom = 0;
  const list = arrivals(s);
  for (const a of list) {
    if (steadyWritesFrom === 0 && a.atMs >= s.warmupSeconds * 1000) steadyWritesFrom = model.writes;
    nowMs = startMs + a.atMs;
    try {
      if ((await limiters[a.container]!.check('tenant', s.policy)).allowed) admittedAt.push(a.atMs);
    } catch {
      errors++;
    }
  }
  return {
    offered: list.length,
    admitted: admittedAt.length,
    steadyAdmitted: admittedAt.filter((t) => t >= s.warmupSeconds * 1000).length,
    steadyWrites: model.writes - steadyWritesFrom,
    maxPerMinute: maxInWindow(admittedAt, 60_000),
    peakWritesPerSecond: model.peakBucketWritesPerSecond(),
    steadyPeakWritesPerSecond: model.peakBucketWritesPerSecond(Math.floor(startMs / 1000) + s.warmupSeconds),
    throttled: model.throttled,
    errors,
    failedConditions: model.failedConditions,
  };
}
