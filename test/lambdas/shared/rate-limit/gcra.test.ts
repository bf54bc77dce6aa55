/**
 * The GCRA arithmetic: hand-computed remaining / reset / Retry-After values, the number formats stored in DynamoDB,
 * and properties over random arrival sequences, in memory and against the emulator.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import fc from 'fast-check';
import {
  type GcraParams,
  type RateLimitDecision,
  admitted,
  denied,
  gcraParams,
  gcraStep,
  intervalMicros,
  microsToMillisNumber,
  millisNumberToMicros,
  utcMonth,
} from '../../../../lambdas/shared/rate-limit/gcra';
import { createRateLimiter } from '../../../../lambdas/shared/rate-limit/limiter';
import { rateLimitTable, readBucket, settableClock, tenant } from './support';

const S = 1_000_000; // microseconds per second
const DEFAULT = gcraParams({ requestsPerMinute: 100, burst: 200 });

/** Runs the in-memory model over arrivals (microseconds), returning every decision. */
function model(p: GcraParams, arrivals: readonly number[]): RateLimitDecision[] {
  let tat: number | undefined;
  return arrivals.map((now) => {
    const step = gcraStep(tat, now, p);
    tat = step.tatUs;
    return step.decision;
  });
}

/** Whether the admitted arrivals in every window [a_i, a_j] number at most burst + (a_j - a_i) / interval. */
function withinBound(p: GcraParams, arrivals: readonly number[], decisions: readonly RateLimitDecision[]): boolean {
  const times = arrivals.filter((_, k) => decisions[k]!.allowed);
  for (let i = 0; i < times.length; i++) {
    for (let j = i; j < times.length; j++) {
      // Admissions i..j inclusive, within (t_j - t_i) of elapsed time.
      if (j - i + 1 > p.burst + Math.floor((times[j]! - times[i]!) / p.intervalUs)) return false;
    }
  }
  return true;
}

describe('GCRA arithmetic (hand-computed)', () => {
  const t0 = 1_800_000_000 * S;

  it('derives the interval in whole microseconds, rounding up', () => {
    expect(intervalMicros(100)).toBe(600_000);
    expect(intervalMicros(60)).toBe(1_000_000);
    expect(intervalMicros(7)).toBe(8_571_429); // 8571428.57... up
    expect(intervalMicros(100_000)).toBe(600);
    expect(() => intervalMicros(0)).toThrow('requestsPerMinute');
    expect(() => gcraParams({ requestsPerMinute: 10, burst: 0 })).toThrow('burst');
  });

  it('first request on an empty default bucket: 199 left, full again in 0.6 s (1 s)', () => {
    expect(gcraStep(undefined, t0, DEFAULT)).toEqual({
      tatUs: t0 + 600_000,
      decision: { allowed: true, limit: 200, remaining: 199, resetSeconds: 1, window: 'minute' },
    });
  });

  it('200th request at one instant: 0 left, full again in 120 s; the 201st waits 0.6 s (Retry-After 1)', () => {
    expect(admitted(t0 + 200 * 600_000, t0, DEFAULT)).toEqual({ allowed: true, limit: 200, remaining: 0, resetSeconds: 120, window: 'minute' });
    expect(gcraStep(t0 + 200 * 600_000, t0, DEFAULT).decision).toEqual({
      allowed: false,
      limit: 200,
      remaining: 0,
      resetSeconds: 120,
      retryAfterSeconds: 1,
      window: 'minute',
    });
  });

  it('an emptied bucket 1.5 s later has dripped back two requests', () => {
    // tat = t0 + 120 s; at t0 + 1.5 s: tat' - now = 119.1 s <= 120 s, remaining floor(0.9 / 0.6) = 1.
    const now = t0 + 1_500_000;
    const first = gcraStep(t0 + 120 * S, now, DEFAULT);
    expect(first.decision).toMatchObject({ allowed: true, remaining: 1, resetSeconds: 120 });
    const second = gcraStep(first.tatUs, now, DEFAULT);
    expect(second.decision).toMatchObject({ allowed: true, remaining: 0, resetSeconds: 120 });
    // tat = t0 + 121.2 s: admitted again at tat - 199 * 0.6 s = t0 + 1.8 s, 0.3 s away -> 1.
    expect(gcraStep(second.tatUs, now, DEFAULT).decision).toMatchObject({ allowed: false, retryAfterSeconds: 1, resetSeconds: 120 });
  });

  it('7 per minute, bursts of 3: three at once, the fourth waits one interval (8.57 s -> 9)', () => {
    const p = gcraParams({ requestsPerMinute: 7, burst: 3 });
    const ds = model(p, [t0, t0, t0, t0]);
    expect(ds.map((d) => [d.allowed, d.remaining, d.resetSeconds, d.retryAfterSeconds])).toEqual([
      [true, 2, 9, undefined],
      [true, 1, 18, undefined],
      [true, 0, 26, undefined],
      [false, 0, 26, 9],
    ]);
  });

  it('1 per minute, burst 1: Retry-After counts down and the request passes exactly when it says', () => {
    const p = gcraParams({ requestsPerMinute: 1, burst: 1 });
    const tat = t0 + 60 * S;
    expect(denied(tat, t0, p)).toMatchObject({ retryAfterSeconds: 60, resetSeconds: 60 });
    expect(denied(tat, t0 + 30 * S, p)).toMatchObject({ retryAfterSeconds: 30, resetSeconds: 30 });
    expect(denied(tat, t0 + 59_999_999, p)).toMatchObject({ retryAfterSeconds: 1 });
    expect(gcraStep(tat, t0 + 60 * S, p).decision).toEqual({ allowed: true, limit: 1, remaining: 0, resetSeconds: 60, window: 'minute' });
  });

  it('writes and reads milliseconds with three decimals exactly', () => {
    expect(microsToMillisNumber(1_800_000_000_000_000)).toBe('1800000000000');
    expect(microsToMillisNumber(1_800_000_025_714_287)).toBe('1800000025714.287');
    expect(microsToMillisNumber(1_800_000_000_000_500)).toBe('1800000000000.5');
    expect(millisNumberToMicros('1800000025714.287')).toBe(1_800_000_025_714_287);
    expect(millisNumberToMicros('1800000025714.2871')).toBe(1_800_000_025_714_288); // foreign precision: rounded up
    expect(millisNumberToMicros('1.8E+12')).toBe(1_800_000_000_000_000);
    expect(millisNumberToMicros('-5')).toBeUndefined();
    expect(() => microsToMillisNumber(-1)).toThrow(RangeError);
    fc.assert(fc.property(fc.integer({ min: 0, max: 4_000_000_000_000_000 }), (us) => millisNumberToMicros(microsToMillisNumber(us)) === us));
  });

  it('names calendar months in UTC and counts the seconds to the next', () => {
    expect(utcMonth(Date.UTC(2026, 11, 31, 23, 59, 59, 500))).toEqual({ month: '2026-12', secondsToNext: 1, nextMonthStartSeconds: Date.UTC(2027, 0, 1) / 1000 });
    expect(utcMonth(Date.UTC(2026, 1, 1))).toMatchObject({ month: '2026-02', secondsToNext: 28 * 86400 });
  });
});

describe('GCRA properties', () => {
  const policy = fc.record({ requestsPerMinute: fc.integer({ min: 1, max: 100_000 }), burst: fc.integer({ min: 1, max: 300 }) });
  // Gaps between arrivals: often zero (bursts), sometimes a fraction of an interval, sometimes long silences.
  const gaps = fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 2_000_000 }), fc.integer({ min: 0, max: 600 * S })), { maxLength: 120 });
  const arrivalsOf = (start: number, gs: readonly number[]) => gs.reduce<number[]>((acc, g) => [...acc, (acc.at(-1) ?? start) + g], []);

  it('never admits more than burst + elapsed * rate in any window, and always admits after a full refill', () => {
    fc.assert(
      fc.property(policy, gaps, (pol, gs) => {
        const p = gcraParams(pol);
        const arrivals = arrivalsOf(1_800_000_000 * S, gs);
        const ds = model(p, arrivals);
        const refilled = ds.every((d, k) => k === 0 || arrivals[k]! - arrivals[k - 1]! < p.burst * p.intervalUs || d.allowed);
        const consistent = ds.every((d) =>
          d.allowed ? d.remaining >= 0 && d.remaining < p.burst && d.retryAfterSeconds === undefined : d.remaining === 0 && d.retryAfterSeconds! >= 1,
        );
        return (ds[0]?.allowed ?? true) && refilled && consistent && withinBound(p, arrivals, ds);
      }),
      { numRuns: 500 },
    );
  });

  it('honouring a Retry-After always succeeds when nobody else sends meanwhile', () => {
    fc.assert(
      fc.property(policy, gaps, (pol, gs) => {
        const p = gcraParams(pol);
        const arrivals = arrivalsOf(1_800_000_000 * S, gs);
        let tat: number | undefined;
        for (const now of arrivals) {
          const step = gcraStep(tat, now, p);
          tat = step.tatUs;
          if (!step.decision.allowed && !gcraStep(tat, now + step.decision.retryAfterSeconds! * S, p).decision.allowed) return false;
        }
        return true;
      }),
      { numRuns: 500 },
    );
  });

  describe('against the emulator', () => {
    let tableName: string;
    let client: DynamoDBClient;
    beforeAll(async () => {
      ({ tableName, client } = await rateLimitTable());
    });
    afterAll(() => client.destroy());

    it('decides exactly as the model over random arrival sequences, within the bound, and stores the model tat', async () => {
      // Whole milliseconds: what Date.now() gives a Lambda.
      const msGaps = fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 2000 }), fc.integer({ min: 0, max: 300_000 })), { maxLength: 40 });
      const smallPolicy = fc.record({ requestsPerMinute: fc.integer({ min: 1, max: 1000 }), burst: fc.integer({ min: 1, max: 8 }) });
      await fc.assert(
        fc.asyncProperty(smallPolicy, msGaps, async (pol, gs) => {
          const p = gcraParams(pol);
          const clock = settableClock();
          const limiter = createRateLimiter({ dynamodb: client, tableName, now: clock.now });
          const t = tenant('prop');
          const arrivalsMs = arrivalsOf(clock.start, gs);
          const got: RateLimitDecision[] = [];
          for (const ms of arrivalsMs) {
            clock.set(ms);
            got.push(await limiter.check(t, pol));
          }
          const arrivalsUs = arrivalsMs.map((ms) => ms * 1000);
          const want = model(p, arrivalsUs);
          expect(got).toEqual(want);
          expect(withinBound(p, arrivalsUs, got)).toBe(true);
          // The stored tat is the model's (nothing stored for an empty sequence). Compared as numbers: moto keeps
          // trailing zeros of decimal sums ("139.050") where DynamoDB normalizes them.
          let tat: number | undefined;
          for (const now of arrivalsUs) tat = gcraStep(tat, now, p).tatUs;
          const stored = (await readBucket(client, tableName, t))?.tat?.N;
          expect(stored === undefined ? undefined : millisNumberToMicros(stored)).toBe(tat);
        }),
        { numRuns: 25 },
      );
    }, 60_000);
  });
});
