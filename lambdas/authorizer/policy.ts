import type { CredentialKind, RouteConfig } from '../../contract/config';

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
  readonly signers?: ReadonlySet<string>;
  /** The request tails (`METHOD/path`) this route serves, with PARAM/PROXY markers for path parameters. */
  readonly requests: readonly string[];
  /** Positions (in the compiled table) of the other routes some request of which this route's Allow glob matches. */
  readonly covers: ReadonlySet<number>;
}

export interface PolicyPrincipal {
  readonly kind: CredentialKind;
  readonly scopes: readonly string[];
  readonly service?: string;
  readonly signer?: string;
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
// In request patterns: a {param} value is one or more characters other than `/`; a {proxy+} value one or more of any.
const PARAM = '\u0001';
const PROXY = '\u0002';

/**
 * Compiles the route table once, at cold start, including which routes' Allow globs reach which other routes'
 * requests (a `*` in an IAM resource spans `/`, and a parameter value may equal a sibling's literal segment).
 */
export function compileRoutes(routes: readonly RouteConfig[]): CompiledRoute[] {
  const base = routes
    .filter((r) => !r.public)
    .map((r) => {
      const tail = r.path === '/' ? '' : r.path.slice(1);
      const methods = r.method === 'ANY' ? METHODS : [r.method];
      return {
        method: r.method,
        path: r.path,
        resource: `${r.method === 'ANY' ? '*' : r.method}/${tail.replace(/\{[^}]+\}/g, '*')}`,
        accepts: new Set(r.accepts),
        scopes: r.scopes,
        ...(r.services ? { services: new Set(r.services) } : {}),
        ...(r.signers ? { signers: new Set(r.signers) } : {}),
        requests: methods.map((m) => `${m}/${tail.replace(/\{[^}]+\+\}/g, PROXY).replace(/\{[^}]+\}/g, PARAM)}`),
      };
    });
  return base.map((r, i) => ({
    ...r,
    covers: new Set(base.flatMap((o, j) => (i !== j && o.requests.some((q) => globIntersects(r.resource, q)) ? [j] : []))),
  }));
}

/** Whether the principal may call the route: its kind is accepted, it holds every scope, and (services, signers) it is listed. */
export function permits(route: CompiledRoute, p: PolicyPrincipal): boolean {
  if (!route.accepts.has(p.kind)) return false;
  if (route.services && (p.kind !== 'service' || !p.service || !route.services.has(p.service))) return false;
  if (route.signers && (p.kind !== 'signed' || !p.signer || !route.signers.has(p.signer))) return false;
  return route.scopes.every((s) => p.scopes.includes(s));
}

/**
 * The Allow and Deny resources for a principal: Allow every permitted route, and explicitly Deny every other route
 * some request of which a permitted route's Allow glob would match. A Deny only ever removes access, so where two
 * route templates can match the same request with different permissions, the overlap is refused (403) rather
 * than allowed: fail closed. Route tables without such overlaps get exactly `permits` on every request.
 */
export function routeDecision(routes: readonly CompiledRoute[], p: PolicyPrincipal): { allow: CompiledRoute[]; deny: CompiledRoute[] } {
  const allowed = routes.flatMap((r, i) => (permits(r, p) ? [i] : []));
  const allow = allowed.map((i) => routes[i]!);
  const deny = routes.filter((_, d) => !allowed.includes(d) && allowed.some((a) => routes[a]!.covers.has(d)));
  return { allow, deny };
}

/**
 * `arn:aws:execute-api:region:account:apiId/stage` from a method ARN (or an HTTP API route ARN), or undefined if it
 * is not one. A stage name is letters, digits, `-` and `_`; an HTTP API's default stage is `$default`
 * (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-stages.html), which REST stages cannot be.
 */
export function arnPrefix(methodArn: string): string | undefined {
  const m = /^(arn:aws[a-z-]*:execute-api:[a-z0-9-]+:\d{12}:[A-Za-z0-9]+\/(?:[A-Za-z0-9_-]+|\$default))\//.exec(methodArn);
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

type CharClass = string | 'ANY' | 'NOT_SLASH';
interface Nfa {
  readonly edges: { readonly on: CharClass; readonly to: number }[][];
  readonly eps: number[][];
  readonly accept: number;
}

/**
 * Whether an IAM resource glob (`*` any run, `?` one character) and a request pattern (literals, PARAM, PROXY)
 * share at least one string: a breadth-first walk of the product of their automata, trying one representative
 * character per class (each literal used, `/`, and one character used by neither).
 */
export function globIntersects(glob: string, request: string): boolean {
  return literalEndsAgree(glob, request) && nfaIntersects(glob, request);
}

/**
 * A quick, sound test that runs before the automaton: every string the glob matches starts and ends with the glob's
 * literal prefix and suffix (up to the first and after the last wildcard), and every request string with the
 * request's; a common string must therefore agree with both on their common lengths. Most route pairs (another
 * method, another first segment) fail here, which keeps compileRoutes cheap at cold start.
 */
function literalEndsAgree(glob: string, request: string): boolean {
  const gw = (c: string) => c === '*' || c === '?';
  const rw = (c: string) => c === PARAM || c === PROXY;
  const prefix = (s: string, wild: (c: string) => boolean) => {
    let i = 0;
    while (i < s.length && !wild(s[i]!)) i++;
    return s.slice(0, i);
  };
  const suffix = (s: string, wild: (c: string) => boolean) => {
    let i = s.length;
    while (i > 0 && !wild(s[i - 1]!)) i--;
    return s.slice(i);
  };
  const gp = prefix(glob, gw);
  const rp = prefix(request, rw);
  const n = Math.min(gp.length, rp.length);
  if (gp.slice(0, n) !== rp.slice(0, n)) return false;
  const gs = suffix(glob, gw);
  const rs = suffix(request, rw);
  const m = Math.min(gs.length, rs.length);
  return gs.slice(gs.length - m) === rs.slice(rs.length - m);
}

/** The exact test: a breadth-first search of the product of the glob's and the request's automata. */
export function nfaIntersects(glob: string, request: string): boolean {
  const a = globNfa(glob);
  const b = requestNfa(request);
  const alphabet = [...new Set([...glob, ...request, '/', '\u0003'])].filter((c) => c !== '*' && c !== '?' && c !== PARAM && c !== PROXY);
  const closure = (n: Nfa, states: number[]) => {
    const out = new Set(states);
    const stack = [...states];
    while (stack.length) for (const t of n.eps[stack.pop()!] ?? []) if (!out.has(t)) out.add(t), stack.push(t);
    return out;
  };
  const matches = (on: CharClass, c: string) => on === 'ANY' || (on === 'NOT_SLASH' ? c !== '/' : on === c);
  const seen = new Set<string>();
  const queue: [number, number][] = [];
  const push = (xs: Set<number>, ys: Set<number>) => {
    for (const x of xs) for (const y of ys) if (!seen.has(`${x},${y}`)) seen.add(`${x},${y}`), queue.push([x, y]);
  };
  push(closure(a, [0]), closure(b, [0]));
  while (queue.length) {
    const [x, y] = queue.shift()!;
    if (x === a.accept && y === b.accept) return true;
    for (const c of alphabet) {
      const xs = (a.edges[x] ?? []).filter((e) => matches(e.on, c)).map((e) => e.to);
      const ys = (b.edges[y] ?? []).filter((e) => matches(e.on, c)).map((e) => e.to);
      if (xs.length && ys.length) push(closure(a, xs), closure(b, ys));
    }
  }
  return false;
}

function globNfa(glob: string): Nfa {
  const edges: Nfa['edges'] = [];
  const eps: number[][] = [];
  [...glob].forEach((c, i) => {
    if (c === '*') {
      edges[i] = [{ on: 'ANY', to: i }];
      eps[i] = [i + 1];
    } else edges[i] = [{ on: c === '?' ? 'ANY' : c, to: i + 1 }];
  });
  return { edges, eps, accept: glob.length };
}

function requestNfa(request: string): Nfa {
  const edges: Nfa['edges'] = [];
  const eps: number[][] = [];
  // State 2i is before character i; a PARAM/PROXY goes through 2i+1, which loops to take more characters.
  [...request].forEach((c, i) => {
    const here = 2 * i;
    const next = 2 * (i + 1);
    if (c === PARAM || c === PROXY) {
      const on: CharClass = c === PARAM ? 'NOT_SLASH' : 'ANY';
      edges[here] = [{ on, to: here + 1 }];
      edges[here + 1] = [{ on, to: here + 1 }];
      eps[here + 1] = [next];
    } else edges[here] = [{ on: c, to: next }];
  });
  return { edges, eps, accept: 2 * request.length };
}
