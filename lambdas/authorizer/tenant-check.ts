import { TENANT_ID_PATTERN } from '../../contract/patterns';
import type { TenantRecord } from '../../contract/table';
import { AuthError } from './errors';
import type { Principal } from './principal';
import { RecordInvalidError, type TenantStore } from './store';

/**
 * The tenant check: the principal's tenant must exist, be active and (with `tenants.requireUsageKey`) be onboarded
 * to a usage plan. Services and signers belong to no tenant. Without a tenant store (`tenants.verify: false`) the
 * tenant id is taken as it is (exactly: case-sensitive) and no record is read, but it must still be a tenant id
 * (contract/patterns.ts): a token's tenant claim is only checked against the looser identifier pattern, and the id
 * becomes the handlers' key parts (`TENANT#<id>#CUSTOMERS`, `RATE#<id>`).
 */
export class TenantCheck {
  constructor(
    private readonly tenants: TenantStore | undefined,
    private readonly opts: { readonly requireUsageKey: boolean },
  ) {}

  /** The principal's tenant record, or undefined when it has none to check; throws a TENANT_* refusal. */
  async tenantOf(principal: Principal): Promise<TenantRecord | undefined> {
    if (principal.kind === 'service' || principal.kind === 'signed') return undefined;
    const tenantId = principal.tenantId;
    if (tenantId === undefined) {
      if (principal.kind === 'user' && !principal.tenantRequired) return undefined;
      throw new AuthError('TENANT_MISSING');
    }
    // No tenant can have such an id (the directory refuses it), verified or not: TENANT_UNKNOWN, value not echoed.
    if (!TENANT_ID_PATTERN.test(tenantId)) throw new AuthError('TENANT_UNKNOWN', { tenantIdMalformed: true });
    if (!this.tenants) return undefined;
    let tenant;
    try {
      tenant = await this.tenants.get(tenantId);
    } catch (err) {
      if (err instanceof RecordInvalidError) throw new AuthError('TENANT_STORE_UNAVAILABLE', { tenantId, field: err.field });
      throw new AuthError('TENANT_STORE_UNAVAILABLE', { tenantId }, { cause: err });
    }
    if (!tenant) throw new AuthError('TENANT_UNKNOWN', { tenantId });
    if (tenant.status !== 'active') throw new AuthError('TENANT_SUSPENDED', { tenantId });
    if (this.opts.requireUsageKey && !tenant.usageKey) throw new AuthError('TENANT_NOT_ONBOARDED', { tenantId });
    return tenant;
  }
}
