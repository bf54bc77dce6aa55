import type { CredentialKind, RouteConfig } from './config';

/**
 * The route table as policy material. API Gateway caches an authorizer's answer by identity source and reuses it
 * on every method of the API, so the policy is never about "this request": it lists every route the principal may
 * call, and explicitly denies the routes it may not call that an Allow wildcard would otherwise cover.
 */
export interface CompiledRoute {
  readonly method: string;
  readonly path: string;
  /** `METHOD/path` with `{param}` as `*`, the tail of an execute-api ARN. */
  readonly resource: string;
  readonly accepts: ReadonlySet<CredentialKind>;
  readonly scopes: readonly string[];
  readonly services?: ReadonlySet<string>;
  /** Concrete `METHOD/path` strings standing for requests to this route, for overlap checks. */
  readonly samples: readonly string[];
}

export interface PolicyPrincipal {
  readonly kind: CredentialKind;
  readonly scopes: readonly string[];
  readonly service?: string;
}

export interface PolicyStatement {
  readonly Action: 'execute-api:Invoke';
  readonly Effect: 'Allow' | 'Deny';
  readonly Resource: string[];
}

export interface PolicyDocument {
  readonly Version: '2012-10-17';
  readonly Statement: PolicyStatement[];
}

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'];
// Stands for a path parameter's value in samples; `%` cannot occur in a literal route segment.
const PARAM_SAMPLE = '%';

export function compileRoutes(routes: readonly RouteConfig[]): CompiledRoute[] {
  return routes
    .filter((r) => !r.public)
    .map((r) => {
      const tail = r.path === '/' ? '' : r.path.slice(1).replace(/\{[^}]+\}/g, '*');
      const sampleTail = r.path === '/' ? '' : r.path.slice(1).replace(/\{[^}]+\}/g, PARAM_SAMPLE);
      const methods = r.method === 'ANY' ? METHODS : [r.method];
      return {
        method: r.method,
        path: r.path,
        resource: `${r.method === 'ANY' ? '*' : r.method}/${tail}`,
        accepts: new Set(r.accepts),
        scopes: r.scopes,
        ...(r.services ? { services: new Set(r.services) } : {}),
        samples: methods.map((m) => `${m}/${sampleTail}`),
      };
    });
}

/** Whether the principal may call the route: its kind is accepted, it holds every scope, and (services) it is listed. */
export function permits(route: CompiledRoute, p: PolicyPrincipal): boolean {
  if (!route.accepts.has(p.kind)) return false;
  if (route.services && (p.kind !== 'service' || !p.service || !route.services.has(p.service))) return false;
  return route.scopes.every((s) => p.scopes.includes(s));
}

/**
 * The Allow and Deny resources for a principal. If an Allow wildcard of one route covers requests of a route the
 * principal may not call, that route gets an explicit Deny; if that Deny would in turn cover a permitted route,
 * the permitted route is dropped as well (fail closed: a 403 rather than an over-broad Allow).
 */
export function routeDecision(routes: readonly CompiledRoute[], p: PolicyPrincipal): { allow: CompiledRoute[]; deny: CompiledRoute[] } {
  let allow = routes.filter((r) => permits(r, p));
  let denied = routes.filter((r) => !allow.includes(r));
  for (;;) {
    const deny = denied.filter((d) => allow.some((a) => d.samples.some((s) => globMatch(a.resource, s))));
    const conflicts = allow.filter((a) => deny.some((d) => a.samples.some((s) => globMatch(d.resource, s))));
    if (!conflicts.length) return { allow, deny };
    allow = allow.filter((a) => !conflicts.includes(a));
    denied = routes.filter((r) => !allow.includes(r));
  }
}

/** `arn:aws:execute-api:region:account:apiId/stage` from a method ARN, or undefined if it is not one. */
export function arnPrefix(methodArn: string): string | undefined {
  const m = /^(arn:aws[a-z-]*:execute-api:[a-z0-9-]+:\d{12}:[A-Za-z0-9]+\/[A-Za-z0-9_-]+)\//.exec(methodArn);
  return m?.[1];
}

export function buildPolicy(prefix: string, decision: { allow: readonly CompiledRoute[]; deny: readonly CompiledRoute[] }): PolicyDocument {
  if (!decision.allow.length) {
    return { Version: '2012-10-17', Statement: [{ Action: 'execute-api:Invoke', Effect: 'Deny', Resource: [`${prefix}/*`] }] };
  }
  const Statement: PolicyStatement[] = [
    { Action: 'execute-api:Invoke', Effect: 'Allow', Resource: decision.allow.map((r) => `${prefix}/${r.resource}`) },
  ];
  if (decision.deny.length) {
    Statement.push({ Action: 'execute-api:Invoke', Effect: 'Deny', Resource: decision.deny.map((r) => `${prefix}/${r.resource}`) });
  }
  return { Version: '2012-10-17', Statement };
}

/**
 * Evaluates a policy against a method ARN the way API Gateway does: an explicit Deny wins, then any Allow,
 * otherwise deny. Resources are IAM globs (`*` any run of characters, `?` one character).
 */
export function evaluatePolicy(policy: PolicyDocument, methodArn: string): 'Allow' | 'Deny' {
  let allowed = false;
  for (const st of policy.Statement) {
    if (st.Action !== 'execute-api:Invoke' && (st.Action as string) !== '*' && (st.Action as string) !== 'execute-api:*') continue;
    if (!st.Resource.some((r) => globMatch(r, methodArn))) continue;
    if (st.Effect === 'Deny') return 'Deny';
    allowed = true;
  }
  return allowed ? 'Allow' : 'Deny';
}

const globCache = new Map<string, RegExp>();

export function globMatch(pattern: string, value: string): boolean {
  let re = globCache.get(pattern);
  if (!re) {
    const body = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
    re = new RegExp(`^${body}$`, 's');
    if (globCache.size < 10_000) globCache.set(pattern, re);
  }
  return re.test(value);
}
