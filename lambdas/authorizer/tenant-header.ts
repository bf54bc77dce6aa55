import type { AuthorizerConfig } from '../../contract/config';
import { TENANT_ID_PATTERN } from '../../contract/patterns';
import { routeAuthorizer } from '../../contract/route-authorizer';
import { type RequestHeaders, singleHeader } from './classify';
import { AuthError } from './errors';
import type { Principal } from './principal';
import type { RouteIndex, RouteRequest } from './route-index';

/** Membership mode's settings (`membership` of the validated config). */
export type MembershipConfig = NonNullable<AuthorizerConfig['membership']>;

/**
 * Membership mode, before the tenant check: the tenant a request names in the tenant header, and what it does to
 * the principal. The member lookup comes after the tenant check (./member-check.ts).
 */
export class TenantHeader {
  constructor(
    private readonly membership: MembershipConfig,
    private readonly routes: RouteIndex,
  ) {}

  /**
   * A user's tenant is the one the request names in the tenant header (required); an API key may name only its own
   * tenant; a service is unaffected. Roles are set by the member check.
   * On routes whose answer is keyed by Authorization alone (membership mode: routes that accept no users), the
   * header is not read at all: API keys are decided without it, and users are refused (they may call none of them).
   */
  requestedTenant(principal: Principal, event: RequestHeaders & RouteRequest): Principal {
    if (principal.kind === 'service' || principal.kind === 'signed') return principal;
    if (!this.tenantKeyed(event)) {
      if (principal.kind === 'user') throw new AuthError('ROUTE_NOT_PERMITTED', { routeAcceptsUsers: false });
      return principal;
    }
    let named: string | undefined;
    try {
      named = singleHeader(event, this.membership.header);
    } catch {
      throw new AuthError('TENANT_HEADER_INVALID', { multiple: true });
    }
    // API Gateway treats an empty identity source as a missing one.
    if (named === '') named = undefined;
    if (named !== undefined && !TENANT_ID_PATTERN.test(named)) throw new AuthError('TENANT_HEADER_INVALID');
    if (principal.kind === 'apiKey') {
      if (named !== undefined && named !== principal.tenantId) {
        throw new AuthError('TENANT_MISMATCH', { tenantId: principal.tenantId, requestedTenantId: named });
      }
      return principal;
    }
    if (named === undefined) throw new AuthError('TENANT_HEADER_MISSING');
    // Whatever tenant or roles the token claims, membership mode decides both.
    return { ...principal, tenantId: named, roles: [], tenantRequired: true };
  }

  /**
   * Whether API Gateway keys this request's answer by the tenant header too, i.e. whether the request's route
   * accepts users (contract/route-authorizer.ts, the same rule the stack and the local gateway use). An answer must
   * not depend on a header its cache key leaves out, or a cached answer would be reused for requests that name other
   * tenants. A request whose route is not in the table is treated as keyed (fail closed).
   */
  private tenantKeyed(event: RouteRequest): boolean {
    const route = this.routes.routeOf(event);
    if (!route) return true;
    // Uncached routes (cookie, signed) read every header on every request: the tenant header is safe to use.
    const guard = routeAuthorizer(route, this.membership.header);
    return guard?.name === 'tenant' || guard?.cached === false;
  }
}
