import type { APIGatewayAuthorizerResult, APIGatewayProxyEvent, APIGatewayProxyResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RouteConfig } from '../contract/config';
import { type Logger, jsonLogger } from '../contract/log';
import { routeAuthorizer } from '../contract/route-authorizer';
import { type PolicyDocument, evaluatePolicy } from '../lambdas/authorizer/policy';
import { type AuthorizerCache, restAuthorizerCache } from './authorizer-cache';
import { type LocalGateway, serveGateway } from './gateway-server';
import { type GatewayRequest, type LambdaHandler, declaresTooLarge, lambdaContext, parseRequest, readBody, requestLine } from './gateway-request';
import { type Refusal, isRefusal, refusalStatus, refuse, send, sendGatewayResponse, sendProxyResult } from './gateway-response';
import { matchRoute } from './route-match';
import { proxyToBackend } from './http-backend';
import type { BackendConfig } from '../contract/targets';
import { UsagePlans } from './usage-plans';
import type { CorsPolicy } from '../contract/cors';
import { preflightAnswer } from './cors';

export type { LambdaHandler, LocalGateway };

/** What the local gateway serves: the route table, the authorizer and handlers, and API Gateway's settings. */
export interface LocalGatewayOptions {
  /** The validated route table (the same one the stack deploys), each route naming its handler. */
  readonly routes: readonly RouteConfig[];
  /** The real authorizer handler. */
  readonly authorizer: LambdaHandler<APIGatewayRequestAuthorizerEvent, APIGatewayAuthorizerResult>;
  /** Handlers by the names routes use. */
  readonly handlers: Readonly<Record<string, LambdaHandler<APIGatewayProxyEvent, APIGatewayProxyResult>>>;
  /** HTTP backends by the names routes use (`route.backend`), proxied as API Gateway's http_proxy (local/http-backend.ts). */
  readonly backends?: Readonly<Record<string, BackendConfig>>;
  /** API Gateway's authorizer result TTL (0: no caching). */
  readonly resultTtlSeconds: number;
  /** @default 'local' */
  readonly stageName?: string;
  /** The REST API id in method ARNs and on the control plane. @default 'local' */
  readonly restApiId?: string;
  /**
   * Membership mode: the tenant header (the authorizer configuration's `membership.header`). Routes that accept
   * users are then keyed by Authorization and this header, as in the stack (contract/route-authorizer.ts).
   * @default - no membership mode
   */
  readonly tenantHeader?: string;
  /** Port of the control plane (FlushStageAuthorizersCache), always on loopback. @default 0 (any free port) */
  readonly controlPlanePort?: number;
  /** Usage plans by usage key. */
  readonly usagePlans?: UsagePlans;
  /** Which routes require a usage-plan key (`apiKeyRequired`; the stack's usagePlanKeyed). @default none */
  readonly apiKeyRequired?: (route: RouteConfig) => boolean;
  /** Extra GET paths answered directly (e.g. the local issuer's JWKS). */
  readonly staticRoutes?: Readonly<Record<string, () => { status: number; body: unknown }>>;
  /** @default Date.now */
  readonly now?: () => number;
  /**
   * Where the gateway writes one line per 5xx it answers (request id, status, reason), as API Gateway's execution
   * log would show it. @default - JSON lines on stderr
   */
  readonly logger?: Logger;
  /**
   * Browsers on other origins, as the stack deploys them: OPTIONS on a path with routes answered 204 by the gateway
   * (no authorizer, no handler), and the gateway's refusals with the CORS headers of the stack's gateway responses.
   * The handlers add their own headers (local/handlers.ts); an HTTP backend answers with its own, as behind API
   * Gateway's http_proxy integration, which adds none. @default - no CORS
   */
  readonly cors?: CorsPolicy;
}

/** What one request needs of the gateway: its options, where it is deployed, its clock and its authorizers. */
interface GatewayParts {
  readonly opts: LocalGatewayOptions;
  readonly apiId: string;
  readonly stage: string;
  readonly now: () => number;
  readonly authorizers: AuthorizerCache;
  readonly log: Logger;
}

/**
 * An HTTP server that behaves like API Gateway REST in front of the same authorizer and handlers, in process.
 * What it emulates, and what it does not, is listed in local/README.md.
 */
export function createLocalGateway(opts: LocalGatewayOptions): LocalGateway {
  const now = opts.now ?? Date.now;
  const stage = opts.stageName ?? 'local';
  const apiId = opts.restApiId ?? 'local';
  const authorizers = restAuthorizerCache(opts.authorizer, opts.resultTtlSeconds, now);
  const log = opts.logger ?? jsonLogger('gatehouse-local-gateway', (line) => process.stderr.write(line));
  const parts: GatewayParts = { opts, apiId, stage, now, authorizers, log };
  return serveGateway({
    api: 'rest',
    apiId,
    stage,
    authorizers,
    ...(opts.controlPlanePort === undefined ? {} : { controlPlanePort: opts.controlPlanePort }),
    log,
    handle: (req, res, requestId) => handleRequest(parts, req, res, requestId).then((refusal) => refusal && answer(parts, res, requestId, refusal)),
    // A fault of the gateway itself: still API Gateway's DEFAULT_5XX body with the request id, and a log line.
    fault: (_req, res, requestId, reason) => answer(parts, res, requestId, refuse('DEFAULT_5XX', 500, reason)),
  });
}

/**
 * One request through API Gateway's steps: static routes, route matching, the declared size, the authorizer (with
 * its cache), the policy, the usage plan, the body, then the proxy integration. Any step may refuse: the refusal is
 * returned, for {@link answer} to send.
 */
async function handleRequest(gw: GatewayParts, req: IncomingMessage, res: ServerResponse, requestId: string): Promise<Refusal | undefined> {
  const line = requestLine(req);
  const staticRoute = line.method === 'GET' && Object.hasOwn(gw.opts.staticRoutes ?? {}, line.path) ? gw.opts.staticRoutes![line.path] : undefined;
  if (staticRoute) {
    const r = staticRoute();
    send(res, requestId, r.status, { 'content-type': 'application/json' }, JSON.stringify(r.body));
    return undefined;
  }

  const preflight = preflightAnswer(gw.opts.routes, gw.opts.cors, line.method, line.path, req.headers.origin);
  if (preflight) {
    send(res, requestId, 204, preflight, '');
    return undefined;
  }

  const match = matchRoute(gw.opts.routes, line.method, line.path);
  if (!match) return refuse('MISSING_AUTHENTICATION_TOKEN');
  if (declaresTooLarge(req)) return refuse('REQUEST_TOO_LARGE', 413);
  const request = parseRequest(req, line, match, { apiId: gw.apiId, stage: gw.stage, requestId, requestTimeEpoch: gw.now() });

  // The authorizer's event has headers, query and path but never the body (signed requests sign the body's hash,
  // a header, and the handler checks the body against it), so, as on API Gateway, the body is read only once the
  // request is authorized: a request without a credential costs no more than its headers.
  const authorized = await authorizeRequest(gw, match.route, request);
  if (isRefusal(authorized)) return authorized;
  const body = await readBody(req);
  if (body === undefined) return refuse('REQUEST_TOO_LARGE', 413);
  if (match.route.backend !== undefined) return toBackend(gw, match.route.backend, { req, pathAndQuery: `${line.path}${line.url.search}`, requestId, body, authorizer: authorized.authorizer }, res);
  const out = await invokeHandler(gw.opts.handlers, match.route, request, body, authorized.authorizer);
  if (isRefusal(out)) return out;
  sendProxyResult(res, requestId, out);
  return undefined;
}

/** The HTTP proxy integration of a backend route. */
function toBackend(gw: GatewayParts, name: string, request: Parameters<typeof proxyToBackend>[2], res: ServerResponse): Promise<Refusal | undefined> {
  const backend = gw.opts.backends?.[name];
  if (!backend || !Object.hasOwn(gw.opts.backends!, name)) return Promise.resolve(refuse('DEFAULT_5XX', 500, `backend_missing: ${name}`));
  return proxyToBackend(name, backend, request, res);
}

/** Sends a refusal as its gateway response; a 5xx also writes one log line with its request id and reason. */
function answer(gw: GatewayParts, res: ServerResponse, requestId: string, refusal: Refusal): void {
  const status = refusalStatus(refusal);
  if (status >= 500) gw.log.error('gateway 5xx', { requestId, status, responseType: refusal.refused, reason: refusal.reason ?? 'unspecified' });
  sendGatewayResponse(res, requestId, refusal, gw.opts.cors);
}

/**
 * The authorizer's part for a guarded route: its decision (cached or fresh), the policy against this request, and
 * the usage plan. What the handler gets as `requestContext.authorizer` (none for a public route), or a refusal.
 */
async function authorizeRequest(gw: GatewayParts, route: RouteConfig, request: GatewayRequest): Promise<{ authorizer: Record<string, unknown> | undefined } | Refusal> {
  const guard = routeAuthorizer(route, gw.opts.tenantHeader);
  if (!guard) return { authorizer: undefined };
  const decision = await gw.authorizers.decide(guard, request);
  if (isRefusal(decision)) return decision;
  // A cached policy is evaluated against this request's method ARN, as API Gateway does.
  if (evaluatePolicy(decision.policyDocument as PolicyDocument, request.methodArn) !== 'Allow') return refuse('ACCESS_DENIED');
  const usage = await checkUsagePlan(gw.opts, route, decision);
  if (usage) return usage;
  return { authorizer: { ...decision.context, principalId: decision.principalId, integrationLatency: 0 } };
}

/**
 * Usage plans apply to methods that require an API key, as in API Gateway; the key is the authorizer's
 * usageIdentifierKey (API key source AUTHORIZER), and a key in no plan of the stage is a 403.
 */
async function checkUsagePlan(opts: LocalGatewayOptions, route: RouteConfig, decision: APIGatewayAuthorizerResult): Promise<Refusal | undefined> {
  if (!opts.usagePlans || !opts.apiKeyRequired?.(route)) return undefined;
  let verdict;
  try {
    verdict = decision.usageIdentifierKey ? await opts.usagePlans.take(decision.usageIdentifierKey) : 'NO_PLAN';
  } catch (err) {
    return refuse('DEFAULT_5XX', 500, `usage_plan_lookup_failed: ${(err as Error)?.name}`);
  }
  if (verdict === 'NO_PLAN') return refuse('INVALID_API_KEY');
  return verdict === 'ok' ? undefined : refuse(verdict);
}

/** The Lambda proxy integration: the route's handler, given the proxy event with the authorizer's context. */
async function invokeHandler(
  handlers: LocalGatewayOptions['handlers'],
  route: RouteConfig,
  request: GatewayRequest,
  body: Buffer,
  authorizer: Record<string, unknown> | undefined,
): Promise<APIGatewayProxyResult | Refusal> {
  const handler = handlers[route.handler ?? ''];
  if (!handler) return refuse('DEFAULT_5XX', 500, `handler_missing: ${route.handler}`);
  let out: APIGatewayProxyResult;
  try {
    out = await handler(
      {
        ...request.fields,
        body: body.length ? body.toString('utf8') : null,
        isBase64Encoded: false,
        requestContext: { ...request.requestContext, authorizer } as unknown as APIGatewayProxyEvent['requestContext'],
      },
      lambdaContext(route.handler!, request.requestId),
    );
  } catch (err) {
    // A failed or malformed Lambda proxy response is API Gateway's 502.
    return refuse('DEFAULT_5XX', 502, `handler_error: ${(err as Error)?.name}`);
  }
  if (!out || typeof out.statusCode !== 'number') return refuse('DEFAULT_5XX', 502, 'handler_result_invalid');
  return out;
}
