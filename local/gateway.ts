import type { APIGatewayAuthorizerResult, APIGatewayProxyEvent, APIGatewayProxyResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RouteConfig } from '../contract/config';
import { routeAuthorizer } from '../contract/route-authorizer';
import { type PolicyDocument, evaluatePolicy } from '../lambdas/authorizer/policy';
import { AuthorizerCache } from './authorizer-cache';
import { type ControlPlane, createControlPlane } from './control-plane';
import { type GatewayRequest, type LambdaHandler, lambdaContext, parseRequest, readBody, requestLine } from './gateway-request';
import { type Refusal, isRefusal, refuse, send, sendGatewayResponse, sendProxyResult } from './gateway-response';
import { matchRoute } from './route-match';
import { UsagePlans } from './usage-plans';

export type { LambdaHandler };

/** What the local gateway serves: the route table, the authorizer and handlers, and API Gateway's settings. */
export interface LocalGatewayOptions {
  /** The validated route table (the same one the stack deploys), each route naming its handler. */
  readonly routes: readonly RouteConfig[];
  /** The real authorizer handler. */
  readonly authorizer: LambdaHandler<APIGatewayRequestAuthorizerEvent, APIGatewayAuthorizerResult>;
  /** Handlers by the names routes use. */
  readonly handlers: Readonly<Record<string, LambdaHandler<APIGatewayProxyEvent, APIGatewayProxyResult>>>;
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
}

/** A local gateway: its HTTP server, stage and control plane. */
export interface LocalGateway {
  readonly server: Server;
  readonly restApiId: string;
  readonly stageName: string;
  /**
   * The control plane's URL once `listen` has resolved: give it as `endpoint` to an APIGatewayClient, and
   * `FlushStageAuthorizersCache` for this gateway's rest API id and stage empties the authorizer result cache.
   */
  readonly controlPlaneUrl: string | undefined;
  /** Authorizer invocations so far (cache hits do not count). */
  authorizerCalls(): number;
  /** Empties the authorizer result cache (what the control plane's flush does). */
  flushAuthorizerCache(): void;
  listen(port?: number, host?: string): Promise<string>;
  close(): Promise<void>;
}

/** What one request needs of the gateway: its options, where it is deployed, its clock and its authorizers. */
interface GatewayParts {
  readonly opts: LocalGatewayOptions;
  readonly apiId: string;
  readonly stage: string;
  readonly now: () => number;
  readonly authorizers: AuthorizerCache;
}

/**
 * An HTTP server that behaves like API Gateway REST in front of the same authorizer and handlers, in process.
 * What it emulates, and what it does not, is listed in local/README.md.
 */
export function createLocalGateway(opts: LocalGatewayOptions): LocalGateway {
  const now = opts.now ?? Date.now;
  const stage = opts.stageName ?? 'local';
  const apiId = opts.restApiId ?? 'local';
  const authorizers = new AuthorizerCache(opts.authorizer, opts.resultTtlSeconds, now);
  const controlPlane: ControlPlane = createControlPlane({ restApiId: apiId, stageName: stage, flushAuthorizersCache: () => authorizers.flush() });
  const parts: GatewayParts = { opts, apiId, stage, now, authorizers };

  const server = createServer((req, res) => {
    handleRequest(parts, req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end('{"error":"internal_error"}');
    });
  });

  return {
    server,
    restApiId: apiId,
    stageName: stage,
    get controlPlaneUrl() {
      return controlPlane.url;
    },
    authorizerCalls: () => authorizers.calls,
    flushAuthorizerCache: () => authorizers.flush(),
    async listen(port = 0, host = '127.0.0.1') {
      const url = await new Promise<string>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => resolve(`http://${host}:${(server.address() as AddressInfo).port}`));
      });
      // The control plane stays on loopback whatever the gateway listens on: its flush takes no credentials.
      try {
        await controlPlane.listen(opts.controlPlanePort ?? 0, '127.0.0.1');
      } catch (err) {
        await closeServer(server);
        throw err;
      }
      return url;
    },
    async close() {
      await Promise.all([closeServer(server), controlPlane.close()]);
    },
  };
}

/**
 * One request through API Gateway's steps: static routes, route matching, the body, the authorizer (with its
 * cache), the policy, the usage plan, then the proxy integration; any step may answer with a gateway response.
 */
async function handleRequest(gw: GatewayParts, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const requestId = randomUUID();
  const line = requestLine(req);
  const staticRoute = line.method === 'GET' ? gw.opts.staticRoutes?.[line.path] : undefined;
  if (staticRoute) {
    const r = staticRoute();
    return send(res, requestId, r.status, { 'content-type': 'application/json' }, JSON.stringify(r.body));
  }

  const match = matchRoute(gw.opts.routes, line.method, line.path);
  if (!match) return sendGatewayResponse(res, requestId, refuse('MISSING_AUTHENTICATION_TOKEN'));
  const body = await readBody(req);
  if (body === undefined) return sendGatewayResponse(res, requestId, refuse('DEFAULT_4XX', 413));
  const request = parseRequest(req, line, match, { apiId: gw.apiId, stage: gw.stage, requestId, requestTimeEpoch: gw.now() });

  const authorized = await authorizeRequest(gw, match.route, request);
  if (isRefusal(authorized)) return sendGatewayResponse(res, requestId, authorized);
  const out = await invokeHandler(gw.opts.handlers, match.route, request, body, authorized.authorizer);
  if (isRefusal(out)) return sendGatewayResponse(res, requestId, out);
  sendProxyResult(res, requestId, out);
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
  const verdict = decision.usageIdentifierKey ? await opts.usagePlans.take(decision.usageIdentifierKey) : 'NO_PLAN';
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
  if (!handler) return refuse('DEFAULT_5XX', 500);
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
  } catch {
    // A failed or malformed Lambda proxy response is API Gateway's 502.
    return refuse('DEFAULT_5XX', 502);
  }
  if (!out || typeof out.statusCode !== 'number') return refuse('DEFAULT_5XX', 502);
  return out;
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.closeAllConnections();
    server.close(() => resolve());
  });
}
