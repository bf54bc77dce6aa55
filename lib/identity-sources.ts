import type { RouteConfig } from '../lambdas/authorizer/config';

/**
 * The headers the authorizers are keyed by (their identity sources), shared by the stack and the local gateway.
 * API Gateway answers 401 without calling an authorizer when one is missing, and caches its answer by their
 * values (per authorizer), reusing it on every method that authorizer guards.
 * - Routes that accept services: Authorization and X-Service-Name, which the decision reads.
 * - Membership mode, routes that accept users: Authorization and the tenant header, which the decision reads (the
 *   same token gets a different tenant, roles and answer per tenant it names).
 * - Every other guarded route: Authorization.
 */
export const AUTHORIZATION_HEADER = 'Authorization';
export const SERVICE_NAME_HEADER = 'X-Service-Name';
/** Membership mode's default tenant header (`membership.header` in the authorizer configuration). */
export const TENANT_HEADER = 'X-Tenant-Id';

/** One of the REQUEST authorizers on the one function: a name (stable, for construct ids and cache keys) and its headers. */
export interface RouteAuthorizer {
  readonly name: 'user' | 'service' | 'tenant';
  readonly headers: readonly string[];
}

/**
 * Which authorizer guards a route, by the rules above; undefined for a public route. `tenantHeader` is the
 * membership header when membership mode is on (the validated config's `membership?.header`).
 */
export function routeAuthorizer(route: Pick<RouteConfig, 'public' | 'accepts'>, tenantHeader?: string): RouteAuthorizer | undefined {
  if (route.public) return undefined;
  if (route.accepts.includes('service')) return { name: 'service', headers: [AUTHORIZATION_HEADER, SERVICE_NAME_HEADER] };
  if (tenantHeader && route.accepts.includes('user')) return { name: 'tenant', headers: [AUTHORIZATION_HEADER, tenantHeader] };
  return { name: 'user', headers: [AUTHORIZATION_HEADER] };
}
