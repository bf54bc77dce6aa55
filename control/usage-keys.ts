import {
  type APIGatewayClient,
  CreateApiKeyCommand,
  CreateUsagePlanKeyCommand,
  DeleteApiKeyCommand,
  DeleteUsagePlanKeyCommand,
  GetUsagePlansCommand,
  type UsagePlan,
} from '@aws-sdk/client-api-gateway';
import { DirectoryError } from './directory/errors';
import * as v from './directory/validate';

/**
 * Tenants' API Gateway keys for usage plans. Each tenant gets its own API key at onboarding, in the usage plan of
 * its tier; the authorizer returns the key's value as `usageIdentifierKey` (API key source AUTHORIZER), so clients
 * never see or send it. Plans are found by the stage they are attached to and their name (`<stack>-tier-<tier>`,
 * lib/gatehouse-api.ts). API Gateway allows 10,000 API keys per account and Region: CreateApiKey then fails with
 * LimitExceededException, which the tool reports (see the README for what to do).
 */
export class UsageKeys {
  private plans: UsagePlan[] | undefined;

  constructor(
    private readonly api: APIGatewayClient,
    private readonly restApiId: string,
    private readonly stageName: string,
  ) {}

  /**
   * Creates the tenant's key in its tier's plan (with `value`, that value: local mode recreating a kept tenant's key).
   * Undoes the key if adding it to the plan fails. A malformed tenant id is INVALID_INPUT before anything is created.
   */
  async create(tenant: string, tier: string, value?: string): Promise<{ usageKey: string; usageKeyId: string }> {
    const tenantId = v.check(v.tenantId, tenant, 'tenant');
    const plan = await this.planOf(tier);
    // The name is at most 21 + 128 characters (a REST API id is 10); API Gateway allows names up to 1024 characters
    // and documents no rule for their characters (capitals and `_` are fine), only on the value (20-128 alphanumerics):
    // https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-api-usage-plans.html
    // Nothing looks a key up by its name: the tenant record keeps the key's id (usageKeyId).
    const key = await this.api.send(
      new CreateApiKeyCommand({
        name: `gatehouse-${this.restApiId}-${tenantId}`,
        description: `Gatehouse usage-plan key of tenant ${tenantId} (returned by the authorizer, never sent by clients)`,
        enabled: true,
        ...(value ? { value } : {}),
      }),
    );
    try {
      await this.api.send(new CreateUsagePlanKeyCommand({ usagePlanId: plan.id!, keyId: key.id!, keyType: 'API_KEY' }));
    } catch (err) {
      await this.remove(key.id!);
      throw err;
    }
    return { usageKey: key.value!, usageKeyId: key.id! };
  }

  /** Moves a tenant's key from one tier's plan to another's. */
  async move(usageKeyId: string, from: string, to: string): Promise<void> {
    const [source, target] = [await this.planOf(from).catch(() => undefined), await this.planOf(to)];
    await this.api.send(new CreateUsagePlanKeyCommand({ usagePlanId: target.id!, keyId: usageKeyId, keyType: 'API_KEY' }));
    if (source && source.id !== target.id) await this.api.send(new DeleteUsagePlanKeyCommand({ usagePlanId: source.id!, keyId: usageKeyId }));
  }

  /** Deletes a key (cleanup after a failed onboarding). */
  async remove(usageKeyId: string): Promise<void> {
    await this.api.send(new DeleteApiKeyCommand({ apiKey: usageKeyId }));
  }

  private async planOf(tier: string): Promise<UsagePlan> {
    this.plans ??= await this.stagePlans();
    const plan = this.plans.find((p) => p.name?.endsWith(`-tier-${tier}`));
    if (!plan) {
      const tiers = this.plans.map((p) => /-tier-(.+)$/.exec(p.name ?? '')?.[1]).filter(Boolean);
      throw new DirectoryError('TIER_UNKNOWN', `tier ${tier} has no usage plan on this API (tiers: ${tiers.join(', ') || 'none'})`);
    }
    return plan;
  }

  private async stagePlans(): Promise<UsagePlan[]> {
    const all: UsagePlan[] = [];
    let position: string | undefined;
    do {
      const page = await this.api.send(new GetUsagePlansCommand({ limit: 500, ...(position ? { position } : {}) }));
      all.push(...(page.items ?? []));
      position = page.position;
    } while (position);
    return all.filter((p) => p.apiStages?.some((s) => s.apiId === this.restApiId && s.stage === this.stageName));
  }
}
