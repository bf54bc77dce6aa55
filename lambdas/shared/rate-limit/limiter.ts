/**
 * The per-tenant rate limiter: GCRA (the generic cell rate algorithm) on Gatehouse's DynamoDB table, taken from the
 * table in leases so that a busy tenant costs a write per batch of requests, not per request.
 *
 * GCRA is a token bucket of rate r per minute and capacity b kept as one number, the theoretical arrival time `tat`:
 * with interval I = 60 s / r, n requests at `now` are admitted iff tat' = max(tat, now) + nI satisfies
 * tat' - now <= b * I, and then `tat` becomes tat'. Each container (limiter instance) leases n tokens in one
 * conditional write and admits up to n requests of that tenant locally, for at most L (the lease TTL) after the
 * lease; unspent tokens are dropped. n follows the container's own request rate (rate x W, W the lease window),
 * between 1 and min(maxLease, b/8): a quiet tenant gets n = 1, which is the exact limiter (one write per request).
 *
 * Bounds (proved in lease.ts): admissions in any window [t0, t1] <= b + (t1 - t0 + L) * r, i.e. at most L/60 of the
 * tier per minute more than the exact limiter (1.7% at L = 1 s); a container that disappears holding m tokens delays
 * the others by at most mI. Monthly quota: never more than the quota; a container may hold up to n units it never
 * spends, so under-admission at the end of a month <= containers x n.
 *
 * | item           | pk            | sk               | attributes                                         |
 * | -------------- | ------------- | ---------------- | -------------------------------------------------- |
 * | bucket         | RATE#<tenant> | BUCKET           | tat (ms since the epoch, up to 3 decimals), ttl    |
 * | monthly quota  | RATE#<tenant> | MONTH#<yyyy-mm>  | count, ttl                                         |
 *
 * The items and their attributes are the exact limiter's, unchanged (a lease of 1 is its write), so containers of both
 * versions can share a bucket during a deployment, and IAM's `dynamodb:LeadingKeys` `RATE#*` still covers them.
 *
 * Writes (each one conditional UpdateItem, bucket-writes.ts):
 * | request                                          | writes                                                   |
 * | ------------------------------------------------ | -------------------------------------------------------- |
 * | served from this container's lease               | 0                                                        |
 * | lease needed, bucket busy with >= n tokens       | 1 (`SET tat = tat + nI` if `now < tat <= now + (b-n)I`)  |
 * | lease needed, bucket idle or missing             | 1 (`SET tat = now + nI` if `tat <= now`)                 |
 * | idle/busy guessed wrong (from the known tat and the other containers' share), or a cold container | 2 |
 * | bucket has ceil(n/2) <= k < n tokens             | 2 (the failed write returns tat: lease those k)          |
 * | bucket has fewer: denied                         | 1, then 0 until n tokens are due (+ a random backoff after 2+ such in a row) |
 * | bucket known empty (known tat > now + (b-1)I)    | 0: denied locally, Retry-After from the known tat        |
 * | monthly quota tier, admitted                     | + 1 per lease of n units (`ADD count n` if `count <= quota - n`); 0 once used up |
 * | the last lease was throttled (< 200 ms ago)      | 0: rejects with the same error (the tier's onLimiterError decides) |
 * A quiet tenant (n = 1, alone on its container) costs what the exact limiter cost: 1 write per admitted request, 2
 * with a quota, and its denials are exact (Retry-After to the first token). A denial while waiting for a batch says
 * Retry-After until this container leases again, never earlier than the exact one.
 *
 * Scale: a tenant sending R requests/s spread over C containers costs about min(R, C/W) writes/s on its item (each
 * busy container leases about once per window W; one sending under 2/W requests/s has n = 1). DynamoDB takes 1,000
 * writes/s per partition (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/warm-throughput-scenarios.html,
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-partition-key-design.html), so one item holds
 * up to about 1,000 x W = 500 containers busy with one tenant at once, at any rate (bench `limiter`: 600,000/min on
 * 20 containers, 44 writes/s; on 200 containers, about 415 writes/s). No sharding: k items of rate r/k would each
 * need a container to pick one, and a tenant whose traffic sits on few containers would get only their shards' share
 * of its tier (under-admission up to (k-1)/k), which costs more than it saves below that container count.

 * The arithmetic, and how times are written in the table, are in gcra.ts.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type GcraParams, type RateLimitDecision, type RateLimitPolicy, US_PER_MS, gcraParams, utcMonth } from './gcra';
import { leaseBucket, leaseQuota, type LimiterTable } from './bucket-writes';
import { type LeaseTuning, type TenantState, TenantStates } from './lease';

export type { RateLimitDecision, RateLimitPolicy } from './gcra';
export { RateLimiterContentionError, RateLimiterStateError } from './bucket-writes';

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
  /** Conditional writes per lease before giving up on a contended item (RateLimiterContentionError). @default 4 */
  readonly maxAttempts?: number;
  /** Tenants whose state (lease, last seen tat, rate) this instance keeps. @default 10000 */
  readonly tenantCapacity?: number;
  /** L: how long leased tokens may be spent; over-admission per minute is at most L/60 of the tier. @default 1000 */
  readonly leaseTtlMs?: number;
  /** W: a lease is sized to last this long at this container's request rate (< L). @default 500 */
  readonly leaseWindowMs?: number;
  /** The largest lease (the tier's burst / 8 caps it too). 1 = the exact limiter, one write per request. @default 1000 */
  readonly maxLease?: number;
  /** [0, 1) for the backoff after repeated failed leases (default: Math.random). Injected by tests and the bench. */
  readonly random?: () => number;
}

const positiveInt = (name: string, v: number, min = 1) => {
  if (!Number.isInteger(v) || v < min) throw new RangeError(`${name} must be an integer >= ${min}`);
  return v;
};

function tuningOf(options: RateLimiterOptions): LeaseTuning {
  const ttlMs = positiveInt('leaseTtlMs', options.leaseTtlMs ?? 1000);
  const windowMs = positiveInt('leaseWindowMs', options.leaseWindowMs ?? 500);
  if (windowMs > ttlMs) throw new RangeError('leaseWindowMs must not exceed leaseTtlMs (a lease would expire before it is spent)');
  return {
    ttlUs: ttlMs * US_PER_MS,
    windowUs: windowMs * US_PER_MS,
    rateTauUs: ttlMs * US_PER_MS,
    maxLease: positiveInt('maxLease', options.maxLease ?? 1000),
    maxBackoffUs: ttlMs * US_PER_MS,
  };
}

/** A leasing GCRA limiter on `tableName`. One instance per execution environment: its leases live in it. */
export function createRateLimiter(options: RateLimiterOptions): RateLimiter {
  const { dynamodb, tableName } = options;
  const clock = options.now ?? Date.now;
  const random = options.random ?? Math.random;
  const maxAttempts = positiveInt('maxAttempts', options.maxAttempts ?? 4, 2);
  const tuning = tuningOf(options);
  const table: LimiterTable = { dynamodb, tableName, maxAttempts };
  const states = new TenantStates(positiveInt('tenantCapacity', options.tenantCapacity ?? 10_000));

  return {
    async check(tenantId, policy, checkOptions = {}) {
      if (!tenantId) throw new Error('rate limiter: tenantId is empty');
      const p = gcraParams(policy);
      const nowMs = clock();
      const c: Check = { tenantId, p, nowMs, nowUs: Math.round(nowMs * US_PER_MS), signal: checkOptions.signal, state: states.get(tenantId) };
      c.state.observe(c.nowUs, tuning);
      const spent = policy.monthlyQuota === undefined ? undefined : monthSpent(c.state, policy.monthlyQuota, nowMs);
      if (spent) return spent;
      const decision = await minuteWindow(table, c, tuning, random);
      // The quota counts admitted requests only; a request the quota refuses has still used its place in the bucket.
      if (!decision.allowed || policy.monthlyQuota === undefined) return decision;
      return (await monthWindow(table, c, policy.monthlyQuota, tuning)) ?? decision;
    },
  };
}

/** One check: the tenant, the tier's parameters, the time of the request, and what this container knows. */
interface Check {
  readonly tenantId: string;
  readonly p: GcraParams;
  readonly nowMs: number;
  readonly nowUs: number;
  readonly signal: AbortSignal | undefined;
  readonly state: TenantState;
}

/**
 * The per-minute bucket: the lease if it has a token, a local denial if the bucket is known empty, else a lease.
 * One lease write per tenant at a time in this container: concurrent checks of the tenant (local mode, tests; a
 * Lambda container serves one request at a time) wait for it and then spend its tokens, instead of each leasing;
 * when it fails, they reject with its error.
 */
async function minuteWindow(table: LimiterTable, c: Check, tuning: LeaseTuning, random: () => number): Promise<RateLimitDecision> {
  const { state, p } = c;
  while (state.pending) {
    await state.pending;
    c.signal?.throwIfAborted();
  }
  if (state.throttled && c.nowUs < state.throttled.untilUs) throw state.throttled.error;
  const local = state.takeLeased(c.nowUs, p) ?? state.localDenial(c.nowUs, p);
  if (local) return local;
  const lease = leaseFor(table, c, tuning, random);
  const pending = lease.then(() => undefined);
  // The checks waiting on it see its failure (the table is failing: each fails as its own write would have, without
  // queueing one doomed write after another past the middleware's timeout); this handler only marks it as handled.
  pending.catch(() => undefined);
  state.pending = pending;
  try {
    return await lease;
  } catch (err) {
    // Throttled: the item's partition is over its writes per second. Writing again for every request (none of them
    // gets a lease) would keep it there; this container fails the tenant's checks with the same error, without a
    // write, for a moment (the tier's onLimiterError decides each, as for the write itself).
    if (THROTTLED.has((err as { name?: string } | null)?.name ?? '')) state.throttled = { error: err, untilUs: c.nowUs + THROTTLE_PAUSE_US };
    throw err;
  } finally {
    if (state.pending === pending) state.pending = undefined;
  }
}

/** One lease write (or two, see leaseBucket) for this check, and its decision. */
async function leaseFor(table: LimiterTable, c: Check, tuning: LeaseTuning, random: () => number): Promise<RateLimitDecision> {
  const { state, p, nowUs } = c;
  const wanted = state.batchSize(nowUs, p, tuning);
  const key = rateLimitItemKey(c.tenantId);
  const Key = { pk: { S: key.pk }, sk: { S: key.sk } };
  const got = await leaseBucket(table, { Key, p, nowUs, signal: c.signal }, wanted, state.guessIdle(nowUs));
  return got.granted > 0 ? state.leased(got.granted, got.tatUs, got.busy, nowUs, p, tuning) : state.empty(got.tatUs, wanted, nowUs, p, tuning, random);
}

/** DynamoDB's throttling errors (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Programming.Errors.html). */
const THROTTLED = new Set(['ProvisionedThroughputExceededException', 'ThrottlingException', 'RequestLimitExceeded']);
const THROTTLE_PAUSE_US = 200_000;

const monthDenial = (quota: number, nowMs: number): RateLimitDecision => {
  const { secondsToNext } = utcMonth(nowMs);
  return { allowed: false, limit: quota, remaining: 0, resetSeconds: secondsToNext, retryAfterSeconds: secondsToNext, window: 'month' };
};

/** The month's denial with no write, when this container has seen the month's quota used up. */
function monthSpent(state: TenantState, quota: number, nowMs: number): RateLimitDecision | undefined {
  const q = state.quota;
  return q?.exhausted && q.month === utcMonth(nowMs).month ? monthDenial(quota, nowMs) : undefined;
}

/** The monthly quota: a unit from this container's quota lease, else a lease of n units; a denial when used up. */
async function monthWindow(table: LimiterTable, c: Check, quota: number, tuning: LeaseTuning): Promise<RateLimitDecision | undefined> {
  const { month } = utcMonth(c.nowMs);
  const q = c.state.quota;
  if (q?.month === month && q.left > 0) {
    q.left--;
    return undefined;
  }
  const key = monthlyQuotaItemKey(c.tenantId, month);
  const wanted = c.state.wanted(c.p, tuning);
  const granted = await leaseQuota(table, { Key: { pk: { S: key.pk }, sk: { S: key.sk } }, quota, nowMs: c.nowMs, signal: c.signal }, wanted);
  c.state.quota = { month, left: Math.max(0, granted - 1), exhausted: granted === 0 };
  return granted === 0 ? monthDenial(quota, c.nowMs) : undefined;
}
