/**
 * What one limiter instance (one container) knows about a tenant's bucket between writes: the tokens it has leased
 * and not spent yet, the largest `tat` it has seen, its own request rate, and until when it knows the bucket is
 * empty. Pure in-memory state and arithmetic; the writes are in bucket-writes.ts, the orchestration in limiter.ts.
 *
 * Why the bound holds (admissions in any window [t0, t1] <= b + (t1 - t0 + L) * r, L the lease TTL):
 * 1. Leases. Every token this module hands out was taken from the bucket by one conditional write at some instant s
 *    (the `now` of that write), which moved the stored tat forward by exactly I per token (busy bucket) or set it to
 *    s + mI from tat <= s (idle bucket), and only if the new tat <= s + bI. Take the leases with s in [u0, u1] and k
 *    the last of them that found the bucket idle (if none, the first one). Before k, tat grew by at least I per token
 *    from above u0 and stayed <= s_k (k found it idle); from k on it grew by exactly I per token from s_k and ended
 *    <= u1 + bI. So tokens leased in [u0, u1] <= (s_k - u0)/I + (u1 + bI - s_k)/I = b + (u1 - u0) * r: GCRA's own
 *    bound, because leasing n tokens at s is the same as n admissions at s.
 * 2. Expiry. A token leased at s is spent only before s + L (`takeLeased`), so the admissions in [t0, t1] spend tokens
 *    leased in (t0 - L, t1]: at most b + (t1 - t0 + L) * r. Over a minute that is the tier's b + 60r plus L*r, i.e.
 *    at most L/60 of the tier more (1.7% at L = 1 s) than the exact limiter could ever admit.
 * 3. Unspent tokens are dropped, never returned: a container that disappears holding m tokens moved tat by mI that
 *    nobody spends, so it delays the others by at most mI (m <= maxLease <= b/8), once.
 * Nothing else here admits: the batch size, the idle/busy guess, waiting for half a batch, the backoff and the pause
 * after a throttle only decide when to write and how much to ask for, so they can deny more, never admit more.
 */
import { type GcraParams, type RateLimitDecision, US_PER_SECOND, admitted, denied } from './gcra';

/** How a limiter sizes and ages its leases. All in microseconds except the counts. */
export interface LeaseTuning {
  /** L: a leased token may be spent for this long after its lease, then it is dropped. */
  readonly ttlUs: number;
  /** W: a lease is sized to last this long at the container's own request rate (W < L leaves slack for jitter). */
  readonly windowUs: number;
  /** Time constant of the request-rate estimate. */
  readonly rateTauUs: number;
  /** Absolute cap on one lease (the tier's burst caps it too, see {@link maxLeaseOf}). */
  readonly maxLease: number;
  /** Longest random wait added after repeated failed leases (contention between containers). */
  readonly maxBackoffUs: number;
}

/** One container may hold at most this share of a tier's burst in one lease. */
const BURST_SHARE = 8;

/** The largest lease for a tier: maxLease, b/8 (so one container cannot take the whole bucket), at least 1. */
export function maxLeaseOf(p: GcraParams, tuning: LeaseTuning): number {
  return Math.max(1, Math.min(tuning.maxLease, Math.floor(p.burst / BURST_SHARE)));
}

/** Tokens leased and not spent: their tats are nextTatUs, nextTatUs + I, ... up to endTatUs. */
interface Lease {
  nextTatUs: number;
  readonly endTatUs: number;
  readonly expiresUs: number;
}

/** Quota units of one calendar month leased by this container and not spent yet. */
interface QuotaLease {
  readonly month: string;
  left: number;
  /** The month's quota is used up (seen in the table): deny until the month ends, with no write. */
  exhausted: boolean;
}

/** One tenant, as one container sees it. */
export class TenantState {
  /** The largest tat seen in the table: a lower bound of the stored one, since tat never decreases. */
  tatUs: number | undefined;
  lease: Lease | undefined;
  quota: QuotaLease | undefined;
  /** The lease write in flight for this tenant, if any (rejects when it failed). */
  pending: Promise<void> | undefined;
  /** The last lease was throttled: checks until `untilUs` reject with its error, with no write. */
  throttled: { readonly error: unknown; readonly untilUs: number } | undefined;
  /** Requests per second of this tenant on this container: an exponentially decaying count. */
  private rate = 0;
  private rateAtUs = 0;
  private firstSeenUs: number | undefined;
  /** Requests of this tenant seen by this container (for the slow start of `wanted`). */
  private seen = 0;
  /** When this container last saw the stored tat, and the share of that time the other containers advance it by. */
  private seenAtUs = 0;
  private othersShare = 0;
  /** Leases in a row that found the bucket empty. */
  private failures = 0;
  /** No write before this: the bucket was seen empty (plus a random backoff after repeated failures). */
  private retryAtUs = 0;

  /** Counts one request at `nowUs` in the rate estimate. */
  observe(nowUs: number, tuning: LeaseTuning): void {
    this.firstSeenUs ??= nowUs;
    this.seen++;
    const dt = Math.max(0, nowUs - this.rateAtUs);
    this.rate = this.rate * Math.exp(-dt / tuning.rateTauUs) + US_PER_SECOND / tuning.rateTauUs;
    this.rateAtUs = nowUs;
  }

  /** Remembers a stored tat (only ever raises the known one). */
  sawTat(tatUs: number): void {
    this.tatUs = Math.max(this.tatUs ?? 0, tatUs);
  }

  /**
   * The stored tat as found at `nowUs` (before this container's own lease; undefined when unknown: an idle write):
   * how fast the other containers have moved it since this one last looked, averaged.
   */
  private sawStored(storedUs: number | undefined, nowUs: number): void {
    if (this.tatUs !== undefined && nowUs > this.seenAtUs) {
      const share = storedUs === undefined ? 0 : (storedUs - this.tatUs) / (nowUs - this.seenAtUs);
      this.othersShare = (this.othersShare + Math.min(1, Math.max(0, share))) / 2;
    }
    this.seenAtUs = nowUs;
  }

  /**
   * Whether the bucket is likely idle now: the known tat plus what the other containers have likely added since
   * (they advance it by that share of the time; when the share is under 1 the bucket drifts towards idle). Only picks
   * which write to try first (a wrong guess costs one more write), never decides. Alone on a tenant, a container
   * knows the stored tat exactly and never guesses wrong.
   */
  guessIdle(nowUs: number): boolean {
    if (this.tatUs === undefined) return false;
    return this.tatUs + this.othersShare * Math.max(0, nowUs - this.seenAtUs) <= nowUs;
  }

  /**
   * A decision from the lease, with no write: the next unspent token, if the lease has one and has not expired. The
   * decision is the one the exact limiter would have given for a write that moved tat to that token's place.
   */
  takeLeased(nowUs: number, p: GcraParams): RateLimitDecision | undefined {
    const lease = this.lease;
    if (!lease) return undefined;
    if (nowUs >= lease.expiresUs || lease.nextTatUs > lease.endTatUs) {
      this.lease = undefined; // spent or expired: the rest is dropped, never returned (see the bound above)
      return undefined;
    }
    const tokenTatUs = lease.nextTatUs;
    lease.nextTatUs += p.intervalUs;
    return admitted(Math.max(tokenTatUs, nowUs + p.intervalUs), nowUs, p);
  }

  /**
   * A denial with no write, when this container knows the bucket has no token for `nowUs` (the known tat, a lower
   * bound of the stored one, is already past now + (b-1)I), or it waits for a batch after a lease that found too few.
   */
  localDenial(nowUs: number, p: GcraParams): RateLimitDecision | undefined {
    if (this.tatUs === undefined) return undefined;
    const empty = this.tatUs - nowUs > (p.burst - 1) * p.intervalUs;
    return empty || nowUs < this.retryAtUs ? this.denial(nowUs, p) : undefined;
  }

  /** Denied at `nowUs`: Retry-After is when this container will lease again (the exact limiter's for n = 1, alone). */
  private denial(nowUs: number, p: GcraParams): RateLimitDecision {
    const d = denied(this.tatUs!, nowUs, p);
    const waitUs = this.retryAtUs - nowUs;
    return waitUs > 0 ? { ...d, retryAfterSeconds: Math.max(d.retryAfterSeconds!, Math.ceil(waitUs / US_PER_SECOND)) } : d;
  }

  /**
   * This container's rate times the lease window, between 1 and the tier's maximum lease (also the quota lease). The
   * decaying count is divided by the weight it has had time to gather (1 - e^(-age/tau), age at least W/4), so a
   * tenant that just arrived at 500 requests/s gets large leases within a fraction of a second, not after a few time
   * constants; and a lease is at most 3x the requests this container has seen of the tenant (1 for the first), so a
   * tenant that sends a handful at once and goes quiet wastes a handful of tokens at most. Together they reach a
   * full lease in 4 leases: 200 containers that meet a new busy tenant at once write about 1,000 times in that second.
   */
  wanted(p: GcraParams, tuning: LeaseTuning): number {
    const age = Math.max(tuning.windowUs / 4, this.rateAtUs - (this.firstSeenUs ?? this.rateAtUs));
    const rate = this.rate / (1 - Math.exp(-age / tuning.rateTauUs));
    const slowStart = this.seen <= 1 ? 1 : 3 * this.seen;
    return Math.min(Math.max(1, Math.floor((rate * tuning.windowUs) / US_PER_SECOND)), maxLeaseOf(p, tuning), slowStart);
  }

  /**
   * How many tokens to ask for: the container's rate times the lease window, between 1 and the tier's maximum lease,
   * and no more than the known tat says the bucket can hold now (a lease past that would fail for sure). A quiet
   * tenant (under 2/W requests per second here) gets 1: the exact limiter's single write per request.
   */
  batchSize(nowUs: number, p: GcraParams, tuning: LeaseTuning): number {
    const n = this.wanted(p, tuning);
    if (this.tatUs === undefined || this.tatUs <= nowUs) return n;
    return Math.max(1, Math.min(n, Math.floor((nowUs + p.burst * p.intervalUs - this.tatUs) / p.intervalUs)));
  }

  /**
   * A lease of `granted` tokens that moved tat to `tatUs` at `nowUs` (`busy`: by adding to the stored tat, else by
   * setting it): spends the first, keeps the rest for L.
   */
  leased(granted: number, tatUs: number, busy: boolean, nowUs: number, p: GcraParams, tuning: LeaseTuning): RateLimitDecision {
    this.failures = 0;
    this.retryAtUs = 0;
    this.sawStored(busy ? tatUs - granted * p.intervalUs : undefined, nowUs);
    this.sawTat(tatUs);
    const firstTatUs = tatUs - (granted - 1) * p.intervalUs;
    // A lease still running (a concurrent check in this container) is replaced: dropping tokens only ever admits less.
    this.lease = granted > 1 ? { nextTatUs: firstTatUs + p.intervalUs, endTatUs: tatUs, expiresUs: nowUs + tuning.ttlUs } : this.lease;
    return admitted(firstTatUs, nowUs, p);
  }

  /**
   * A lease that found fewer than ceil(wanted/2) tokens (stored tat `tatUs`): denied. No write until `wanted` tokens
   * are due (for wanted = 1: the first token, so the exact Retry-After); after two or more such failures in a row
   * (other containers took the tokens first) a random wait of up to (2^(f-1) - 1) * wanted * I more, at most
   * maxBackoff, spreads the containers out instead of having all of them write for every token that drips in.
   */
  empty(tatUs: number, wanted: number, nowUs: number, p: GcraParams, tuning: LeaseTuning, random: () => number): RateLimitDecision {
    this.sawStored(tatUs, nowUs);
    this.sawTat(tatUs);
    this.failures++;
    const dueUs = tatUs - (p.burst - wanted) * p.intervalUs;
    const spread = Math.min(tuning.maxBackoffUs, (2 ** Math.min(this.failures - 1, 20) - 1) * wanted * p.intervalUs);
    this.retryAtUs = dueUs + Math.floor(random() * spread);
    return this.denial(nowUs, p);
  }
}

/** Tenant -> its state, for at most `capacity` tenants; the one used longest ago is forgotten first. */
export class TenantStates {
  private readonly states = new Map<string, TenantState>();

  constructor(private readonly capacity: number) {}

  get(tenantId: string): TenantState {
    const state = this.states.get(tenantId) ?? new TenantState();
    this.states.delete(tenantId);
    this.states.set(tenantId, state);
    if (this.states.size > this.capacity) this.states.delete(this.states.keys().next().value!);
    return state;
  }
}
