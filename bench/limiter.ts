/**
 * Section "limiter": what the leasing rate limiter writes and admits, against the exact limiter (the same code with
 * leases of 1: one conditional write per admitted request), in a deterministic simulation (limiter-sim.ts): virtual
 * clock, seeded Poisson arrivals, an in-memory model of the DynamoDB item with 1,000 writes/s per partition.
 */
import type { RateLimitPolicy } from '../lambdas/shared/rate-limit/limiter';
import { type Outcome, PARTITION_WCU_PER_SECOND, type Scenario, simulate } from './limiter-sim';
import type { SectionContext } from './section';
import { int, met, num, table } from './stats';

/** A busy tenant: 20 containers, 1,000 requests/s in all, on a 60,000/min tier (bursts of 1,000). */
const BUSY: Scenario = { policy: { requestsPerMinute: 60_000, burst: 1_000 }, containers: 20, ratePerContainer: 50, seconds: 60, warmupSeconds: 10 };
/** The cost figure: the same, with a partition that takes any number of writes (the exact limiter's 1,000/s would be throttled). */
const BUSY_COST: Scenario = { ...BUSY, partitionWritesPerSecond: Infinity };
/** The same 1,000 requests/s against a tier of 30,000/min (bursts of 500), for three minutes. */
const OVER: Scenario = { policy: { requestsPerMinute: 30_000, burst: 500 }, containers: 20, ratePerContainer: 50, seconds: 180, warmupSeconds: 0 };
/** 600,000/min (10,000 requests/s), bursts of 10,000: 20 containers at 500/s, and 200 at 50/s. */
const BIG_POLICY: RateLimitPolicy = { requestsPerMinute: 600_000, burst: 10_000 };
const BIG_FEW: Scenario = { policy: BIG_POLICY, containers: 20, ratePerContainer: 500, seconds: 20, warmupSeconds: 2 };
const BIG_MANY: Scenario = { policy: BIG_POLICY, containers: 200, ratePerContainer: 50, seconds: 20, warmupSeconds: 2 };

const exact = (s: Scenario): Scenario => ({ ...s, maxLease: 1 });
const writesPerAdmitted = (o: Outcome) => o.steadyWrites / o.steadyAdmitted;
const pct = (v: number) => `${(v * 100).toFixed(2)}%`;

export async function limiterSection(ctx: SectionContext): Promise<string> {
  const run = async (name: string, s: Scenario) => {
    const [leased, baseline] = [await simulate(s), await simulate(exact(s))];
    ctx.log(`limiter: ${name} simulated`);
    return { leased, baseline };
  };
  const busy = await run('busy tenant', BUSY_COST);
  const busyThrottled = await run('busy tenant, 1,000 writes/s', BUSY);
  const over = await run('over the limit', OVER);
  const few = await run('600,000/min, 20 containers', BIG_FEW);
  const many = await run('600,000/min, 200 containers', BIG_MANY);

  const { requestsPerMinute: r, burst: b } = OVER.policy;
  const bound = b + r; // GCRA: the most any 60 s window may admit (a full bucket plus a minute of rate)
  const overBy = (o: Outcome) => (o.maxPerMinute - bound) / r;
  const underBy = (o: Outcome) => (over.baseline.admitted - o.admitted) / over.baseline.admitted;
  const wps = (o: Outcome, s: Scenario) => (o.throttled + o.steadyWrites) / (s.seconds - s.warmupSeconds);
  const writesPerAdmittedLeased = writesPerAdmitted(busy.leased);
  const rows: string[][] = [
    ['(1) writes per admitted request, busy tenant, steady state (after 10 s)', num(writesPerAdmittedLeased, 3), num(writesPerAdmitted(busy.baseline), 3), '≤ 0.05', met(writesPerAdmittedLeased <= 0.05)],
    ['(1) admitted of 60 s offered, busy tenant', int(busy.leased.admitted), int(busy.baseline.admitted), `= exact (offered ${int(busy.leased.offered)})`, met(busy.leased.admitted >= busy.baseline.admitted)],
    ['(1) writes throttled at 1,000/s per partition, busy tenant (60 s)', int(busyThrottled.leased.throttled), int(busyThrottled.baseline.throttled), '0', met(busyThrottled.leased.throttled === 0)],
    [`(2) most admitted in any 60 s, 1,000/s offered to a ${int(r)}/min tier (bound b + r = ${int(bound)})`, int(over.leased.maxPerMinute), int(over.baseline.maxPerMinute), `≤ ${int(bound + 0.02 * r)}`, met(over.leased.maxPerMinute <= bound + 0.02 * r)],
    ['(2) over-admission: most in 60 s minus (b + r), % of the tier (over if > 0)', pct(overBy(over.leased)), pct(overBy(over.baseline)), '≤ 2%', met(overBy(over.leased) <= 0.02)],
    ['(2) under-admission: admitted in 180 s, short of the exact limiter', pct(underBy(over.leased)), pct(0), '≤ 2%', met(underBy(over.leased) <= 0.02)],
    ['(2) writes/s on the item, over the limit (mean)', num(wps(over.leased, OVER), 0), num(wps(over.baseline, OVER), 0), '—', met(undefined)],
    ['(3) peak writes/s on the item, 600,000/min, 20 containers x 500/s (after 2 s)', int(few.leased.steadyPeakWritesPerSecond), int(few.baseline.steadyPeakWritesPerSecond), `≤ ${int(PARTITION_WCU_PER_SECOND)}`, met(few.leased.steadyPeakWritesPerSecond <= PARTITION_WCU_PER_SECOND)],
    ['(3) peak writes/s on the item, 600,000/min, 200 containers x 50/s (after 2 s)', int(many.leased.steadyPeakWritesPerSecond), int(many.baseline.steadyPeakWritesPerSecond), `≤ ${int(PARTITION_WCU_PER_SECOND)}`, met(many.leased.steadyPeakWritesPerSecond <= PARTITION_WCU_PER_SECOND)],
    ['(3) writes sent in the first second (all containers cold), 20 / 200 containers', `${int(few.leased.peakWritesPerSecond)} / ${int(many.leased.peakWritesPerSecond)}`, `${int(few.baseline.peakWritesPerSecond)} / ${int(many.baseline.peakWritesPerSecond)}`, `≤ ${int(PARTITION_WCU_PER_SECOND)}`, met(Math.max(few.leased.peakWritesPerSecond, many.leased.peakWritesPerSecond) <= PARTITION_WCU_PER_SECOND)],
    ['(3) writes throttled in 20 s, 20 / 200 containers', `${int(few.leased.throttled)} / ${int(many.leased.throttled)}`, `${int(few.baseline.throttled)} / ${int(many.baseline.throttled)}`, '0', met(few.leased.throttled + many.leased.throttled === 0)],
  ];
  return [
    'The real limiter in N simulated containers on a virtual clock (seeded Poisson arrivals, one check at a time), against an in-memory model of the DynamoDB item that applies the same conditional UpdateItems and refuses writes past 1,000 per second (failed conditional writes count: they consume capacity). "Exact baseline" is the same code with leases of 1 (`maxLease: 1`): one conditional write per admitted request, as the limiter it replaces (which also wrote once per denial: 1,000 writes/s whenever 1,000 requests/s arrive). A check whose write is throttled rejects (then onLimiterError of the tier decides) and its container sends no write for that tenant for 200 ms, in both columns. Deterministic: the same figures every run. Lease TTL L = 1 s, window W = 0.5 s, leases of at most b/8.',
    '',
    table(['figure', 'leased', 'exact baseline', 'target', 'met'], rows),
  ].join('\n');
}
