import type { APIGatewayAuthorizerResult, APIGatewayProxyEvent, APIGatewayProxyResult, APIGatewayRequestAuthorizerEventV2 } from 'aws-lambda';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { RouteConfig } from '../contract/config';
import type { CorsPolicy } from '../contract/cors';
import { type Logger, jsonLogger } from '../contract/log';
import { routeAuthorizer } from '../contract/route-authorizer';
import type { BackendConfig } from '../contract/targets';
import { type PolicyDocument, evaluatePolicy } from '../lambdas/authorizer/policy';
import { AuthorizerCache } from './authorizer-cache';
import { httpApiPreflight, withHttpApiCors } from './cors-v2';
import { httpApiCors } from '../contract/openapi-http';
import { type LambdaHandler, declaresTooLarge, lambdaContext, readBody, requestLine } from './gateway-request';
import { type Refusal, isRefusal, refuse } from './gateway-response';
import { type LocalGateway, serveGateway } from './gateway-server';
import { type HttpApiRequest, authorizerEventV2, handlerEventV1, httpApiHeader, parseHttpApiRequest } from './gateway-v2-request';
import { HTTP_API_REQUEST_ID_HEADER, httpApiStatus, sendHttpApi, sendHttpApiProxyResult, sendHttpApiRefusal } from './gateway-v2-response';
import { proxyToBackend } from './http-backend';
import { matchRoute } from './route-match';
import { UsagePlans } from './usage-plans';

/** What the local gateway serves in `http` mode: an HTTP API (API Gateway v2) over the same route table and code. */
export interface HttpApiGatewayOptions {
  readonly routes: readonly RouteConfig[];
  /** The real authorizer: payload format 2.0 events, IAM policy answers (simple responses off). */
  readonly authorizer: LambdaHandler<APIGatewayRequestAuthorizerEventV2, APIGatewayAuthorizerResult>;
  /** Handlers by the names routes use: Lambda integrations with payload format 1.0. */
  readonly handlers: Readonly<Record<string, LambdaHandler<APIGatewayProxyEvent, APIGatewayProxyResult>>>;
  /** HTTP backends by the names routes use (HTTP proxy integrations). */
  readonly backends?: Readonly<Record<string, BackendConfig>>;
  /** The authorizers' result TTL (0: no caching). */
  readonly resultTtlSeconds: number;
  /** @default 'local' */
  readonly stageName?: string;
  /** The API id in route ARNs and on the control plane. @default 'local' */
  readonly apiId?: string;
  /** Membership mode's tenant header (an identity source of user routes, as on REST). @default - none */
  readonly tenantHeader?: string;
  /** Port of the control plane (its flush empties the result cache). @default 0 */
  readonly controlPlanePort?: number;
  /** The stage's throttle (`deployment.throttle`): a token bucket before anything else. @default - none */
  readonly throttle?: { readonly rateLimit: number; readonly burstLimit: number };
  /** Extra GET paths answered directly (the local issuer's JWKS). */
  readonly staticRoutes?: Readonly<Record<string, () => { status: number; body: unknown }>>;
  /** @default Date.now */
  readonly now?: () => number;
  /** Where the gateway writes one line per 5xx it answers. @default - JSON lines on stderr */
  readonly logger?: Logger;
  /** The API's CORS configuration (local/cors-v2.ts). @default - no CORS */
  readonly cors?: CorsPolicy;
}

/** The authorizer's input: the request and its event for the guarding authorizer's identity sources. */
interface AuthorizerInput {
  readonly request: HttpApiRequest;
  readonly event: APIGatewayRequestAuthorizerEventV2;
}

interface HttpApiParts {
  readonly opts: HttpApiGatewayOptions;
  readonly apiId: string;
  readonly stage: string;
  readonly now: () => number;
  readonly authorizers: AuthorizerCache<AuthorizerInput>;
  readonly throttle: UsagePlans | undefined;
  readonly corsMethods: readonly string[];
  readonly log: Logger;
}

/** Where an answer goes and what it needs besides its status: the request id, and the CORS policy and origin. */
interface Reply {
  readonly res: ServerResponse;
  readonly requestId: string;
  readonly cors: { readonly policy: CorsPolicy | undefined; readonly origin: string | undefined };
}

/**
 * An HTTP server that behaves like an HTTP API (API Gateway v2) as the stack deploys it (`deployment.api: "http"`)
 * in front of the same authorizer and handlers. What differs from the REST mode is listed in local/README.md.
 */
export function createHttpApiGateway(opts: HttpApiGatewayOptions): LocalGateway {
  const now = opts.now ?? Date.now;
  const stage = opts.stageName ?? 'local';
  const apiId = opts.apiId ?? 'local';
  const authorizers = new AuthorizerCache<AuthorizerInput>(
    { identity: ({ request }, headers) => headers.map((h) => httpApiHeader(request, h)), invoke: (input) => invokeAuthorizer(opts.authorizer, input) },
    opts.resultTtlSeconds,
    now,
  );
  const throttle = opts.throttle ? new UsagePlans(() => ({ name: 'stage', throttle: opts.throttle! }), now) : undefined;
  const log = opts.logger ?? jsonLogger('gatehouse-local-gateway', (line) => process.stderr.write(line));
  const parts: HttpApiParts = { opts, apiId, stage, now, authorizers, throttle, corsMethods: corsMethodsOf(opts), log };
  return serveGateway({
    api: 'http',
    apiId,
    stage,
    authorizers,
    ...(opts.controlPlanePort === undefined ? {} : { controlPlanePort: opts.controlPlanePort }),
    log,
    handle: async (req, res, requestId) => {
      const reply: Reply = { res, requestId, cors: { policy: opts.cors, origin: originOf(req) } };
      const refusal = await handleRequest(parts, req, reply);
      if (refusal) answer(parts, reply, refusal);
    },
    fault: (req, res, requestId, reason) => answer(parts, { res, requestId, cors: { policy: opts.cors, origin: originOf(req) } }, refuse('DEFAULT_5XX', 500, reason)),
  });
}

/** The methods of the API's CORS configuration, as the stack configures them (none without a policy). */
function corsMethodsOf(opts: HttpApiGatewayOptions): readonly string[] {
  return opts.cors ? (httpApiCors(opts.cors, opts.routes).allowMethods as string[]) : [];
}

function originOf(req: IncomingMessage): string | undefined {
  const origin = req.headers.origin;
  return typeof origin === 'string' ? origin : undefined;
}

/**
 * One request through the HTTP API's steps: static routes, the stage throttle, CORS preflight, route matching, the
 * declared size, the authorizer (with its cache) and its policy against the route ARN, the body, then the
 * integration. Any step may refuse: the refusal is returned, for {@link answer} to send.
 */
async function handleRequest(gw: HttpApiParts, req: IncomingMessage, reply: Reply): Promise<Refusal | undefined> {
  const line = requestLine(req);
  const staticRoute = line.method === 'GET' && Object.hasOwn(gw.opts.staticRoutes ?? {}, line.path) ? gw.opts.staticRoutes![line.path] : undefined;
  if (staticRoute) {
    const r = staticRoute();
    sendHttpApi(reply.res, reply.requestId, r.status, { 'content-type': 'application/json' }, JSON.stringify(r.body), { policy: undefined, origin: undefined });
    return undefined;
  }
  if (gw.throttle && (await gw.throttle.take('stage')) !== 'ok') return refuse('THROTTLED');

  const preflight = httpApiPreflight(gw.opts.cors, gw.corsMethods, line.method, req.headers);
  if (preflight) {
    // The preflight's own headers, not the ones every other answer gets.
    reply.res.writeHead(204, { [HTTP_API_REQUEST_ID_HEADER]: reply.requestId, ...preflight });
    reply.res.end();
    return undefined;
  }

  const match = matchRoute(gw.opts.routes, line.method, line.path);
  if (!match) return refuse('MISSING_AUTHENTICATION_TOKEN');
  if (declaresTooLarge(req)) return refuse('REQUEST_TOO_LARGE', 413);
  const request = parseHttpApiRequest(req, line, match, { apiId: gw.apiId, stage: gw.stage, requestId: reply.requestId, requestTimeEpoch: gw.now() });

  // As on REST, the body is read only once the request is authorized (the authorizer's event has none).
  const authorized = await authorizeRequest(gw, match.route, request);
  if (isRefusal(authorized)) return authorized;
  const body = await readBody(req);
  if (body === undefined) return refuse('REQUEST_TOO_LARGE', 413);
  if (match.route.backend !== undefined) return toBackend(gw, match.route.backend, { req, pathAndQuery: `${line.path}${line.url.search}`, requestId: reply.requestId, body, authorizer: authorized.context }, reply);
  const out = await invokeHandler(gw.opts.handlers, match.route, handlerEventV1(request, body, authorized.context), reply.requestId);
  if (isRefusal(out)) return out;
  sendHttpApiProxyResult(reply.res, reply.requestId, out, reply.cors);
  return undefined;
}

/** The HTTP proxy integration of a backend route: the backend's answer with the API's request id header and CORS. */
function toBackend(gw: HttpApiParts, name: string, request: Parameters<typeof proxyToBackend>[2], reply: Reply): Promise<Refusal | undefined> {
  const backend = gw.opts.backends?.[name];
  if (!backend || !Object.hasOwn(gw.opts.backends!, name)) return Promise.resolve(refuse('DEFAULT_5XX', 500, `backend_missing: ${name}`));
  const finish = (headers: OutgoingHttpHeaders): OutgoingHttpHeaders => {
    const { 'x-amzn-requestid': _rest, ...rest } = headers;
    return withHttpApiCors({ ...rest, [HTTP_API_REQUEST_ID_HEADER]: reply.requestId }, reply.cors.policy, reply.cors.origin);
  };
  return proxyToBackend(name, backend, request, reply.res, finish);
}

/** Sends a refusal as the HTTP API answers it; a 5xx also writes one log line with its request id and reason. */
function answer(gw: HttpApiParts, reply: Reply, refusal: Refusal): void {
  const status = httpApiStatus(refusal);
  if (status >= 500) gw.log.error('gateway 5xx', { requestId: reply.requestId, status, responseType: refusal.refused, reason: refusal.reason ?? 'unspecified' });
  sendHttpApiRefusal(reply.res, reply.requestId, refusal, reply.cors);
}

/**
 * The authorizer's part for a guarded route: its decision (cached or fresh, by the identity sources of the guarding
 * authorizer, reused on every route that authorizer guards) and the policy against this request's route ARN. The
 * context the integrations get (undefined on a public route), or a refusal.
 */
async function authorizeRequest(gw: HttpApiParts, route: RouteConfig, request: HttpApiRequest): Promise<{ context: Record<string, unknown> | undefined } | Refusal> {
  const guard = routeAuthorizer(route, gw.opts.tenantHeader);
  if (!guard) return { context: undefined };
  const decision = await gw.authorizers.decide(guard, { request, event: authorizerEventV2(request, guard.headers) });
  if (isRefusal(decision)) return decision;
  // A cached policy is evaluated against this request's route ARN, as on REST: an Allow made on one route admits
  // another only if the policy lists it.
  if (evaluatePolicy(decision.policyDocument as PolicyDocument, request.routeArn) !== 'Allow') return refuse('ACCESS_DENIED');
  return { context: { ...decision.context } };
}

/**
 * Invokes the authorizer. Whatever it throws is a 500 (an HTTP API documents a 401 only for missing identity
 * sources; the authorizer answers its refusals with a Deny), as is an answer API Gateway could not use. Neither is
 * cached.
 */
async function invokeAuthorizer(
  authorizer: HttpApiGatewayOptions['authorizer'],
  { request, event }: AuthorizerInput,
): Promise<APIGatewayAuthorizerResult | Refusal> {
  let decision: APIGatewayAuthorizerResult;
  try {
    decision = await authorizer(event, lambdaContext('authorizer', request.requestId));
  } catch {
    return refuse('DEFAULT_5XX', 500, 'authorizer_error');
  }
  return validPolicyAnswer(decision) ? decision : refuse('DEFAULT_5XX', 500, 'authorizer_result_invalid');
}

/**
 * An IAM policy answer of payload format 2.0 needs a principal id and a policy; its context may hold arrays and
 * objects too (the documented example returns both), unlike REST's.
 */
function validPolicyAnswer(r: APIGatewayAuthorizerResult | undefined): r is APIGatewayAuthorizerResult {
  if (!r || typeof r.principalId !== 'string' || !r.policyDocument || !Array.isArray(r.policyDocument.Statement)) return false;
  return r.context === undefined || r.context === null || (typeof r.context === 'object' && !Array.isArray(r.context));
}

/** The Lambda integration: the route's handler, given the payload 1.0 event. A failure is the HTTP API's 500. */
async function invokeHandler(handlers: HttpApiGatewayOptions['handlers'], route: RouteConfig, event: APIGatewayProxyEvent, requestId: string): Promise<APIGatewayProxyResult | Refusal> {
  const handler = handlers[route.handler ?? ''];
  if (!handler || !Object.hasOwn(handlers, route.handler!)) return refuse('DEFAULT_5XX', 500, `handler_missing: ${route.handler}`);
  let out: APIGatewayProxyResult;
  try {
    out = await handler(event, lambdaContext(route.handler!, requestId));
  } catch (err) {
    return refuse('DEFAULT_5XX', 500, `handler_error: ${(err as Error)?.name}`);
  }
  if (!out || typeof out.statusCode !== 'number') return refuse('DEFAULT_5XX', 500, 'handler_result_invalid');
  return out;
}
