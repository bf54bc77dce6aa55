/**
 * GCRA (the generic cell rate algorithm) in memory: the arithmetic of one decision, and how its times are written in
 * DynamoDB. The limiter (limiter.ts) runs the same steps as conditional writes on the table.
 *
 * GCRA is a token bucket of rate r per minute and capacity b kept as one number, the theoretical arrival time `tat`:
 * with interval I = 60 s / r, a request at `now` is admitted iff tat' = max(tat, now) + I satisfies
 * tat' - now <= b * I, and then `tat` becomes tat'.
 *
 * Times are whole microseconds inside (exact integer arithmetic in JavaScript) and milliseconds with at most three
 * decimals in the table (exact decimal arithmetic in DynamoDB). The interval is rounded UP to a whole microsecond
 * (60,000,000 / r, exact for every r dividing 60,000,000, e.g. 100 or 1,000 per minute), so rounding can only make
 * the limiter stricter, never admit more than the rate.
 */

/** What a tier allows: a sustained rate, a burst, and optionally a number of requests per calendar month (UTC). */
export interface RateLimitPolicy {
  /** Sustained rate: integer >= 1. */
  readonly requestsPerMinute: number;
  /** Bucket capacity: how many requests an idle tenant may send at once. Integer >= 1. */
  readonly burst: number;
  /** Requests per calendar month (UTC); absent = no monthly quota. */
  readonly monthlyQuota?: number;
}

/** The limiter's answer, in the units of the RateLimit-* and Retry-After headers (integers). */
export interface RateLimitDecision {
  readonly allowed: boolean;
  /** The burst (bucket capacity) for the minute window; the quota for the month window. */
  readonly limit: number;
  /** Requests that could still be sent right now (after this one, when admitted). */
  readonly remaining: number;
  /** Seconds until the bucket is full again (month window: until the quota renews), rounded up. */
  readonly resetSeconds: number;
  /** On a denial: whole seconds (>= 1) after which a request will be admitted (minute window) or the quota renews. */
  readonly retryAfterSeconds?: number;
  /** Which limit decided: the per-minute bucket, or (a denial only) the monthly quota. */
  readonly window: 'minute' | 'month';
}

/** Microseconds per millisecond: the limiter's unit inside, and the table's. */
export const US_PER_MS = 1000;
/** Microseconds per second. */
export const US_PER_SECOND = 1_000_000;
const US_PER_MINUTE = 60 * US_PER_SECOND;

/** GCRA parameters in whole microseconds. */
export interface GcraParams {
  readonly intervalUs: number;
  readonly burst: number;
}

/** The emission interval of `requestsPerMinute`, rounded up to a whole microsecond (never admits more than the rate). */
export function intervalMicros(requestsPerMinute: number): number {
  if (!Number.isInteger(requestsPerMinute) || requestsPerMinute < 1) {
    throw new RangeError(`requestsPerMinute must be an integer >= 1, got ${requestsPerMinute}`);
  }
  return Math.ceil(US_PER_MINUTE / requestsPerMinute);
}

/** A tier's parameters in whole microseconds; throws a RangeError for a rate or burst that is not an integer >= 1. */
export function gcraParams(policy: RateLimitPolicy): GcraParams {
  if (!Number.isInteger(policy.burst) || policy.burst < 1) throw new RangeError(`burst must be an integer >= 1, got ${policy.burst}`);
  return { intervalUs: intervalMicros(policy.requestsPerMinute), burst: policy.burst };
}

const ceilDiv = (a: number, b: number) => Math.ceil(a / b);

/** The decision for an admitted request that moved the bucket to `newTatUs` at `nowUs`. */
export function admitted(newTatUs: number, nowUs: number, p: GcraParams): RateLimitDecision {
  const { intervalUs: i, burst: b } = p;
  const ahead = newTatUs - nowUs;
  return {
    allowed: true,
    limit: b,
    remaining: Math.max(0, Math.floor((b * i - ahead) / i)),
    resetSeconds: Math.max(0, ceilDiv(ahead, US_PER_SECOND)),
    window: 'minute',
  };
}

/**
 * The decision for a request denied at `nowUs` by a bucket at `tatUs` (tat - now > (b-1)I). It would be admitted
 * at tat - (b-1)I: Retry-After is that, rounded up to a whole second (at least 1), so honouring it always succeeds
 * unless someone else spends the capacity first.
 */
export function denied(tatUs: number, nowUs: number, p: GcraParams): RateLimitDecision {
  const { intervalUs: i, burst: b } = p;
  const waitUs = tatUs - (b - 1) * i - nowUs;
  return {
    allowed: false,
    limit: b,
    remaining: 0,
    resetSeconds: Math.max(0, ceilDiv(tatUs - nowUs, US_PER_SECOND)),
    retryAfterSeconds: Math.max(1, ceilDiv(waitUs, US_PER_SECOND)),
    window: 'minute',
  };
}

/**
 * One GCRA step in memory: the reference model the DynamoDB implementation follows (and the tests compare it with).
 * `tatUs` undefined = no bucket yet.
 */
export function gcraStep(tatUs: number | undefined, nowUs: number, p: GcraParams): { decision: RateLimitDecision; tatUs: number | undefined } {
  const next = Math.max(tatUs ?? nowUs, nowUs) + p.intervalUs;
  if (next - nowUs <= p.burst * p.intervalUs) return { decision: admitted(next, nowUs, p), tatUs: next };
  return { decision: denied(tatUs!, nowUs, p), tatUs };
}

/** Microseconds as a DynamoDB number of milliseconds with at most three decimals, exactly. */
export function microsToMillisNumber(us: number): string {
  if (!Number.isSafeInteger(us) || us < 0) throw new RangeError(`time out of range: ${us} us`);
  const ms = Math.floor(us / US_PER_MS);
  const frac = us % US_PER_MS;
  return frac === 0 ? String(ms) : `${ms}.${String(frac).padStart(3, '0').replace(/0+$/, '')}`;
}

/**
 * A DynamoDB number of milliseconds back to whole microseconds, parsed as a decimal (no floating-point error). A
 * value with more than three decimals (not written by this module) is rounded up, so it errs on the strict side.
 */
export function millisNumberToMicros(n: string): number | undefined {
  const m = /^(\d+)(?:\.(\d*))?$/.exec(n.trim());
  if (!m) {
    // DynamoDB answers in plain decimal notation; anything else is read approximately.
    const ms = Number(n);
    return Number.isFinite(ms) && ms >= 0 ? Math.ceil(ms * US_PER_MS) : undefined;
  }
  const frac = m[2] ?? '';
  const us = Number(m[1]) * US_PER_MS + Number(frac.slice(0, 3).padEnd(3, '0')) + (/[1-9]/.test(frac.slice(3)) ? 1 : 0);
  return Number.isSafeInteger(us) ? us : undefined;
}

/** `yyyy-mm` of a time in UTC, and the seconds from it to the first instant of the next month. */
export function utcMonth(nowMs: number): { month: string; secondsToNext: number; nextMonthStartSeconds: number } {
  const d = new Date(nowMs);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth();
  const next = Date.UTC(y, m + 1, 1);
  return {
    month: `${String(y).padStart(4, '0')}-${String(m + 1).padStart(2, '0')}`,
    secondsToNext: Math.max(1, Math.ceil((next - nowMs) / 1000)),
    nextMonthStartSeconds: next / 1000,
  };
}
