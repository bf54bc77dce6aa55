import type { RouteConfig } from '../contract/config';
import { SERVICE_NAME_HEADER } from '../contract/headers';
import type { DemoCredentials } from './demo-credentials';
import { matchRoute } from './route-match';

/**
 * The requests local mode prints, derived from the route table it serves (not from the example configuration's):
 * for each route a request with a credential it accepts, and the status it answers where that is known (a built-in
 * handler's); a team handler or a backend answers what it answers. Then the refusals any route table shows: no
 * credential (401), a scope the key lacks (403), a credential kind the route does not take, a cookie without its
 * CSRF proof, a route that does not exist (404). Behind an HTTP API (`c.api` http), a refusal the authorizer makes
 * itself is a 403 (a Deny) where REST answers 401; a missing identity source is a 401 on both.
 */

/** The status of a refusal the authorizer makes itself: 401 on REST, a Deny (403) behind an HTTP API. */
export const authorizerRefusal = (c: Pick<DemoCredentials, 'api'>): number => (c.api === 'http' ? 403 : 401);

/** A request a newcomer can paste, and what it answers (`expect` undefined: the handler's or backend's answer). */
export interface RequestExample {
  readonly title: string;
  readonly expect?: number;
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: unknown;
}

/** A credential a route accepts, as request headers. */
interface Credential {
  readonly label: string;
  readonly headers: Record<string, string>;
}

const bearer = (v: string) => ({ Authorization: `Bearer ${v}` });
/** A user's headers: the token, and in membership mode the tenant the request acts in. */
const userHeaders = (c: DemoCredentials, token: string, tenant = c.tenantId): Record<string, string> => ({
  ...bearer(token),
  ...(c.tenantHeader ? { [c.tenantHeader]: tenant } : {}),
});

/** A customer id no customer has (the customers handler answers 404 for it, as for another tenant's). */
const NO_SUCH_CUSTOMER = '00000000-0000-4000-8000-000000000000';

/** A concrete path for a route's template: a value for each `{param}` and `{proxy+}`. */
export function examplePath(route: RouteConfig): string {
  return route.path.replace(/\{([^}]+)\}/g, (_, name: string) => {
    if (name.endsWith('+')) return 'example';
    if (route.handler === 'customers' && name === 'id') return NO_SUCH_CUSTOMER;
    if (route.handler === 'webhooks') return 'stripe';
    return 'example';
  });
}

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const hasParam = (route: RouteConfig) => route.path.includes('{');

/** A body the route's handler takes (a built-in one's), or a small JSON object for any other. */
function exampleBody(route: RouteConfig): unknown {
  if (!['POST', 'PUT', 'PATCH'].includes(route.method)) return undefined;
  if (route.handler === 'customers') return { name: 'Ada Lovelace', email: 'ada@example.com' };
  if (route.handler === 'internal-jobs') return { job: 'nightly-report' };
  if (route.handler === 'api-keys') return { name: 'my-server' };
  return { example: true };
}

/** A request on `route` with `headers`, its example body (as JSON) and, when known, the status it answers. */
function requestOn(route: RouteConfig, title: string, headers: Record<string, string>, expect: number | undefined): RequestExample {
  const body = exampleBody(route);
  return {
    title,
    ...(expect !== undefined ? { expect } : {}),
    method: route.method,
    path: examplePath(route),
    headers: { ...headers, ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}) },
    ...(body !== undefined ? { body } : {}),
  };
}

/**
 * What a built-in handler answers an authorized request on this route (the example values above), or undefined for
 * a team's handler, a backend, or an answer that depends on data.
 */
export function knownStatus(route: RouteConfig): number | undefined {
  const list = !hasParam(route);
  // The customers and api-keys handlers route on their own paths (any other path: their 404), the others on none.
  const own = OWN_PATHS[route.handler ?? ''];
  if (own && !own.includes(route.path)) return undefined;
  switch (route.handler) {
    case 'health':
    case 'me':
      return route.method === 'GET' ? 200 : undefined;
    case 'customers':
      if (!list) return ['GET', 'PUT', 'PATCH', 'DELETE'].includes(route.method) ? 404 : undefined;
      return route.method === 'GET' ? 200 : route.method === 'POST' ? 201 : undefined;
    case 'api-keys':
      if (!list) return undefined;
      return route.method === 'GET' ? 200 : route.method === 'POST' ? 201 : undefined;
    case 'internal-jobs':
      return route.method === 'POST' ? 202 : undefined;
    default:
      return undefined;
  }
}

/** The resource paths the built-in handlers with a router answer on (lambdas/handlers/customers.ts, api-keys.ts). */
const OWN_PATHS: Readonly<Record<string, readonly string[]>> = {
  customers: ['/v1/customers', '/v1/customers/{id}'],
  'api-keys': ['/v1/api-keys', '/v1/api-keys/{keyId}'],
};

/** What answers a route whose status is not known: its handler's or its backend's answer. */
export const answerOf = (route: RouteConfig): string => (route.backend !== undefined ? `backend "${route.backend}"'s answer` : `handler "${route.handler}"'s answer`);

/** A credential the route accepts: none on a public route; else an API key, a user, a service with its scopes. */
function credentialFor(c: DemoCredentials, route: RouteConfig): Credential | undefined {
  if (route.public) return { label: 'public, no credential', headers: {} };
  if (route.accepts.includes('apiKey') && c.apiKeyWrite) return { label: 'the demo API key', headers: bearer(c.apiKeyWrite) };
  if (route.accepts.includes('user')) return { label: 'the demo user (local issuer)', headers: userHeaders(c, c.userTokenHs256) };
  if (route.accepts.includes('service')) {
    const scopes = route.scopes ?? [];
    const s = c.services.find((x) => scopes.every((want) => x.scopes.includes(want)));
    if (s) return { label: `service "${s.name}" with its secret`, headers: { ...bearer(s.secret), [SERVICE_NAME_HEADER]: s.name } };
  }
  return undefined;
}

/** One request per route that a demo credential can call (signed-only routes: the signed-request recipe). */
function perRoute(c: DemoCredentials): RequestExample[] {
  return c.routes.flatMap((route) => {
    const cred = credentialFor(c, route);
    if (!cred) return [];
    const status = knownStatus(route);
    return [requestOn(route, `${route.method} ${route.path} (${route.public ? 'public' : cred.label})${status === undefined ? `: ${answerOf(route)}` : ''}`, cred.headers, status)];
  });
}

/**
 * A route to show user tokens on: one that accepts users and has no scope (where a token without scopes passes)
 * when `needsNoScope`; a known answer first, then a GET.
 */
function userRoute(c: DemoCredentials, needsNoScope: boolean): RouteConfig | undefined {
  const fits = (r: RouteConfig) => !r.public && r.accepts.includes('user') && (!needsNoScope || !r.scopes?.length);
  const known = (r: RouteConfig) => fits(r) && knownStatus(r) !== undefined;
  return c.routes.find((r) => known(r) && r.method === 'GET') ?? c.routes.find(known) ?? c.routes.find((r) => fits(r) && r.method === 'GET') ?? c.routes.find(fits);
}

/** A title for a request whose answer is not known: what answers it. */
const answered = (title: string, route: RouteConfig) => (knownStatus(route) === undefined ? `${title}: ${answerOf(route)}` : title);

const PROVIDERS: Readonly<Record<string, string>> = { supabase: 'Supabase', cognito: 'Amazon Cognito', auth0: 'Auth0', clerk: 'Clerk', entra: 'Microsoft Entra ID', workos: 'WorkOS', oidc: 'OIDC' };
export const providerName = (type: string) => PROVIDERS[type] ?? type;

/** The local issuer's ES256 token, each stand-in's token and another tenant's user, on a user route. */
function userExamples(c: DemoCredentials): RequestExample[] {
  const out: RequestExample[] = [];
  const route = userRoute(c, false);
  if (route) {
    const status = knownStatus(route);
    out.push(requestOn(route, answered(`${route.method} ${route.path}: the demo user, ES256 token (JWKS served by the gateway)`, route), userHeaders(c, c.userTokenEs256), status));
    out.push(requestOn(route, answered(`${route.method} ${route.path}: a user of another tenant (globex), its own tenant's answer`, route), userHeaders(c, c.otherTenantToken, 'globex'), status));
  }
  const plain = userRoute(c, true) ?? userRoute(c, false);
  if (!plain) return out;
  for (const s of c.standIns) {
    if (s.token === undefined) continue;
    const title = answered(`${providerName(s.type)} user, from the local stand-in for issuer "${s.id}" (its iss ${s.iss}, its token shape, a local key)`, plain);
    out.push(requestOn(plain, title, userHeaders(c, s.token), knownStatus(plain)));
  }
  return out;
}

/** The requests local mode prints for this run's route table, credentials and issuers. */
export function routeRequests(c: DemoCredentials): RequestExample[] {
  return [...perRoute(c), ...userExamples(c), ...refusals(c), ...browserRequests(c)];
}

/** The refusals the route table shows: no credential, a missing scope, a kind the route does not take, no such route. */
function refusals(c: DemoCredentials): RequestExample[] {
  const out: RequestExample[] = [];
  const guarded = c.routes.find((r) => !r.public && r.cookie === undefined && !r.accepts.every((k) => k === 'signed'));
  if (guarded) out.push({ title: `${guarded.method} ${guarded.path} without a credential`, expect: 401, method: guarded.method, path: examplePath(guarded), headers: {} });
  const scoped = c.routes.find((r) => !r.public && r.accepts.includes('apiKey') && (r.scopes ?? []).some((s) => !c.readScopes.includes(s)));
  if (scoped && c.apiKeyRead) {
    const lacks = (scoped.scopes ?? []).filter((x) => !c.readScopes.includes(x)).join(' ');
    out.push(requestOn(scoped, `${scoped.method} ${scoped.path} with the read-only API key (scopes ${c.readScopes.join(' ') || 'none'}): it lacks ${lacks}`, bearer(c.apiKeyRead), 403));
  }
  const userOnly = c.routes.find((r) => !r.public && r.accepts.includes('user') && !r.accepts.includes('apiKey') && r.cookie === undefined);
  if (userOnly && c.apiKeyWrite) out.push({ title: `${userOnly.method} ${userOnly.path} takes users, not API keys`, expect: 403, method: userOnly.method, path: examplePath(userOnly), headers: bearer(c.apiKeyWrite) });
  const serviceOnly = c.routes.find((r) => !r.public && r.accepts.length === 1 && r.accepts[0] === 'service');
  if (serviceOnly) {
    out.push({ title: `${serviceOnly.method} ${serviceOnly.path}: a user token on a service-only route (no ${SERVICE_NAME_HEADER})`, expect: 401, method: serviceOnly.method, path: examplePath(serviceOnly), headers: bearer(c.userTokenHs256) });
  }
  const missing = ['/v1/nothing-here', '/nothing-here', '/gatehouse-no-such-route'].find((p) => !matchRoute(c.routes, 'GET', p));
  if (missing) out.push({ title: 'A route that does not exist', expect: 404, method: 'GET', path: missing, headers: bearer(c.userTokenHs256) });
  return out;
}

/** Browser callers on cookie routes: the token in the cookie, the CSRF proof a mutating request needs. */
function browserRequests(c: DemoCredentials): RequestExample[] {
  if (!c.tokenCookie) return [];
  const cookie = `${c.tokenCookie}=${c.userTokenHs256}`;
  const tenant = c.tenantHeader ? { [c.tenantHeader]: c.tenantId } : {};
  const out: RequestExample[] = [];
  const read = c.routes.find((r) => r.cookie === c.tokenCookie && r.method === 'GET' && r.accepts.includes('user'));
  if (read) {
    const status = knownStatus(read);
    out.push({ title: `Browser: the user token in the ${c.tokenCookie} cookie, ${read.method} ${read.path}${status === undefined ? `: ${answerOf(read)}` : ''}`, ...(status !== undefined ? { expect: status } : {}), method: 'GET', path: examplePath(read), headers: { Cookie: cookie, ...tenant } });
    out.push({ title: 'Browser: a cookie and an Authorization header together are refused', expect: authorizerRefusal(c), method: 'GET', path: examplePath(read), headers: { Cookie: cookie, Authorization: `Bearer ${c.userTokenHs256}`, ...tenant } });
  }
  const write = c.routes.find((r) => r.cookie === c.tokenCookie && MUTATING.has(r.method) && r.accepts.includes('user'));
  if (write) {
    const status = knownStatus(write);
    out.push(requestOn(write, `Browser: the same cookie on ${write.method} ${write.path} without the CSRF token (a cross-site form could send this)`, { Cookie: cookie, ...tenant }, 403));
    const proof = { Cookie: `${cookie}; ${c.csrf.cookie}=${c.csrf.token}`, [c.csrf.header]: c.csrf.token, ...tenant };
    out.push(requestOn(write, `Browser: with the CSRF token in the ${c.csrf.header} header and the ${c.csrf.cookie} cookie (double submit)${status === undefined ? `: ${answerOf(write)}` : ''}`, proof, status));
  }
  return out;
}
