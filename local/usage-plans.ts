import { type APIGatewayClient, GetApiKeysCommand, GetUsagePlansCommand } from '@aws-sdk/client-api-gateway';

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

/** `NO_PLAN`: the key is in no usage plan of the stage (API Gateway answers 403 on methods that require a key). */
export type UsageVerdict = 'ok' | 'THROTTLED' | 'QUOTA_EXCEEDED' | 'NO_PLAN';

interface KeyState {
  tokens: number;
  refilledAt: number;
  periodStart: number;
  used: number;
}

const PERIOD_MS = { DAY: 86_400_000, WEEK: 7 * 86_400_000, MONTH: 30 * 86_400_000 };

export class UsagePlans {
  private readonly state = new Map<string, KeyState>();

  /** @param planOf the plan a usage key belongs to (undefined: in no plan). */
  constructor(
    private readonly planOf: (usageKey: string) => UsagePlan | undefined | Promise<UsagePlan | undefined>,
    private readonly now: () => number = Date.now,
  ) {}

  /** Counts one request against the key's plan. */
  async take(usageKey: string): Promise<UsageVerdict> {
    const plan = await this.planOf(usageKey);
    if (!plan) return 'NO_PLAN';
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

/**
 * The plan of a usage key as API Gateway's control plane stores it (GetApiKeys, GetUsagePlans), on the emulator in
 * local mode: the same keys and plans the command-line tool creates at onboarding.
 *
 * Read once per key, then served from memory and refreshed in the background once `cacheMs` old: API Gateway
 * checks a cached decision's usage plan without calling anything the caller can see fail, so a request never waits
 * on this lookup once its key is known, and an emulator outage leaves the last good answer in place (a failed
 * refresh is tried again `cacheMs` later). A change of plan shows from the request after the refresh, about
 * `cacheMs` after the change. Only a key's first lookup is awaited, and its failure is the caller's 500.
 */
export function usagePlansOf(client: APIGatewayClient, restApiId: string, stageName: string, cacheMs = 2000): (usageKey: string) => Promise<UsagePlan | undefined> {
  const known = new Map<string, { plan: UsagePlan | undefined; at: number; refreshing: boolean }>();
  const first = new Map<string, Promise<UsagePlan | undefined>>();
  const lookup = (usageKey: string) => lookupPlan(client, restApiId, stageName, usageKey);
  return async (usageKey) => {
    const entry = known.get(usageKey);
    if (entry) {
      if (!entry.refreshing && Date.now() - entry.at >= cacheMs) {
        entry.refreshing = true;
        lookup(usageKey).then(
          (plan) => known.set(usageKey, { plan, at: Date.now(), refreshing: false }),
          () => Object.assign(entry, { at: Date.now(), refreshing: false }),
        );
      }
      return entry.plan;
    }
    // One lookup for concurrent first requests of a key.
    let pending = first.get(usageKey);
    if (!pending) {
      pending = lookup(usageKey).finally(() => first.delete(usageKey));
      first.set(usageKey, pending);
    }
    const plan = await pending;
    if (!known.has(usageKey)) known.set(usageKey, { plan, at: Date.now(), refreshing: false });
    return plan;
  };
}

/** One live lookup of the plan of a usage key on the stage (undefined: the key is unknown, disabled or in no plan). */
async function lookupPlan(client: APIGatewayClient, restApiId: string, stageName: string, usageKey: string): Promise<UsagePlan | undefined> {
  const keys = await client.send(new GetApiKeysCommand({ includeValues: true, limit: 500 }));
  const key = keys.items?.find((k) => k.value === usageKey && k.enabled !== false);
  if (!key?.id) return undefined;
  const plans = await client.send(new GetUsagePlansCommand({ keyId: key.id, limit: 500 }));
  const p = plans.items?.find((u) => u.apiStages?.some((s) => s.apiId === restApiId && s.stage === stageName));
  if (!p) return undefined;
  return {
    name: p.name ?? p.id ?? 'plan',
    ...(p.throttle?.rateLimit !== undefined && p.throttle.burstLimit !== undefined ? { throttle: { rateLimit: p.throttle.rateLimit, burstLimit: p.throttle.burstLimit } } : {}),
    ...(p.quota?.limit !== undefined && p.quota.period ? { quota: { limit: p.quota.limit, period: p.quota.period as 'DAY' | 'WEEK' | 'MONTH' } } : {}),
  };
}
