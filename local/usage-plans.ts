/**
 * API Gateway usage plans, emulated: a token bucket per API key (steady rate per second, burst capacity) and an
 * optional quota per day, week or month. API Gateway applies them to the key the authorizer returns as
 * `usageIdentifierKey`.
 */
export interface UsagePlan {
  readonly name: string;
  readonly throttle?: { readonly rateLimit: number; readonly burstLimit: number };
  readonly quota?: { readonly limit: number; readonly period: 'DAY' | 'WEEK' | 'MONTH' };
}

export type UsageVerdict = 'ok' | 'THROTTLED' | 'QUOTA_EXCEEDED';

interface KeyState {
  tokens: number;
  refilledAt: number;
  periodStart: number;
  used: number;
}

const PERIOD_MS = { DAY: 86_400_000, WEEK: 7 * 86_400_000, MONTH: 30 * 86_400_000 };

export class UsagePlans {
  private readonly state = new Map<string, KeyState>();

  /** @param planOf the plan a usage key belongs to (undefined: no plan, not limited). */
  constructor(
    private readonly planOf: (usageKey: string) => UsagePlan | undefined,
    private readonly now: () => number = Date.now,
  ) {}

  /** Counts one request against the key's plan. */
  take(usageKey: string): UsageVerdict {
    const plan = this.planOf(usageKey);
    if (!plan) return 'ok';
    const t = this.now();
    let s = this.state.get(usageKey);
    if (!s) this.state.set(usageKey, (s = { tokens: plan.throttle?.burstLimit ?? 0, refilledAt: t, periodStart: t, used: 0 }));
    if (plan.quota) {
      if (t - s.periodStart >= PERIOD_MS[plan.quota.period]) (s.periodStart = t), (s.used = 0);
      if (s.used >= plan.quota.limit) return 'QUOTA_EXCEEDED';
    }
    if (plan.throttle) {
      const { rateLimit, burstLimit } = plan.throttle;
      s.tokens = Math.min(burstLimit, s.tokens + ((t - s.refilledAt) / 1000) * rateLimit);
      s.refilledAt = t;
      if (s.tokens < 1) return 'THROTTLED';
      s.tokens -= 1;
    }
    s.used += 1;
    return 'ok';
  }
}
