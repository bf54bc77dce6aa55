import { AUTHORIZATION_HEADER, SERVICE_NAME_HEADER } from './headers';

/**
 * The route-to-authorizer rule: which headers the authorizers are keyed by (their identity sources), shared by the
 * stack, the local gateway and the authorizer's membership logic.
 * API Gateway answers 401 without calling an authorizer when one is missing, and caches its answer by their
 * values (per authorizer), reusing it on every method that authorizer guards.
 * - Routes that accept services: Authorization and X-Service-Name, which the decision reads.
 * - Membership mode, routes that accept users: Authorization and the tenant header, which the decision reads (the
 *   same token gets a different tenant, roles and answer per tenant it names).
 * - Every other guarded route: Authorization.
 * - Routes that take a cookie or accept signed requests: none, and no caching (`routeCached`): a fourth authorizer
 *   decides every request from all of it.
 */
/**
 * What the rule reads of a route (a `RouteConfig` of contract/config.ts has these fields; the config's checks use
 * the rule, so the rule names the fields itself rather than importing the config's type back).
 */
export interface RouteShape {
  readonly public?: boolean;
  readonly accepts: readonly string[];
  readonly cookie?: string | undefined;
}

/** One of the REQUEST authorizers on the one function: a name (stable, for construct ids and cache keys) and its headers. */
export interface RouteAuthorizer {
  readonly name: 'user' | 'service' | 'tenant' | 'request';
  readonly headers: readonly string[];
  /** Whether API Gateway caches this authorizer's answers (by its headers' values) for the stage's result TTL. */
  readonly cached: boolean;
}

/**
 * Whether a route's answers may be cached. Not for routes that take a cookie (the answer depends on the method,
 * the CSRF token and Origin as well, and on the absence of an Authorization header) nor for routes that accept
 * signed requests (each is good once: a cached Allow would let a replay through without its nonce being checked).
 */
export function routeCached(route: Pick<RouteShape, 'accepts' | 'cookie'>): boolean {
  return route.cookie === undefined && !route.accepts.includes('signed');
}

/**
 * Which authorizer guards a route, by the rules above; undefined for a public route. `tenantHeader` is the
 * membership header when membership mode is on (the validated config's `membership?.header`).
 */
export function routeAuthorizer(route: RouteShape, tenantHeader?: string): RouteAuthorizer | undefined {
  if (route.public) return undefined;
  // No identity sources: API Gateway then calls the authorizer on every request, whatever headers it has.
  if (!routeCached(route)) return { name: 'request', headers: [], cached: false };
  if (route.accepts.includes('service')) return { name: 'service', headers: [AUTHORIZATION_HEADER, SERVICE_NAME_HEADER], cached: true };
  if (tenantHeader && route.accepts.includes('user')) return { name: 'tenant', headers: [AUTHORIZATION_HEADER, tenantHeader], cached: true };
  return { name: 'user', headers: [AUTHORIZATION_HEADER], cached: true };
}
