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
 * - Routes that accept signed requests and take no cookie: Authorization, uncached (`routeCached`): a signature is
 *   good once, so the authorizer decides every request, but every credential such a route accepts (a signature,
 *   and any bearer credential next to it) arrives in Authorization, so API Gateway refuses a request without one
 *   (401) before invoking anything. API Gateway checks identity sources whether or not it caches:
 *   https://docs.aws.amazon.com/apigateway/latest/api/API_CreateAuthorizer.html (identitySource).
 * - Routes that take a cookie: none, and no caching: a fourth authorizer decides every request from all of it. No
 *   header can be required: the user's token comes in Authorization or in the cookie, and API Gateway can only
 *   require all of its identity sources, never one of two.
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
  readonly name: 'user' | 'service' | 'tenant' | 'signed' | 'request';
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
  if (route.cookie !== undefined) return { name: 'request', headers: [], cached: false };
  // Signed routes without a cookie: every credential they take is in Authorization (the identity-source gate).
  if (!routeCached(route)) return { name: 'signed', headers: [AUTHORIZATION_HEADER], cached: false };
  if (route.accepts.includes('service')) return { name: 'service', headers: [AUTHORIZATION_HEADER, SERVICE_NAME_HEADER], cached: true };
  if (tenantHeader && route.accepts.includes('user')) return { name: 'tenant', headers: [AUTHORIZATION_HEADER, tenantHeader], cached: true };
  return { name: 'user', headers: [AUTHORIZATION_HEADER], cached: true };
}
