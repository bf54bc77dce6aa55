import type { APIGatewayAuthorizerResult, APIGatewayProxyEvent, APIGatewayProxyResult, APIGatewayRequestAuthorizerEvent, Context } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RouteConfig } from '../contract/config';
import { type PolicyDocument, evaluatePolicy } from '../lambdas/authorizer/policy';
import { GATEWAY_RESPONSES, type GatewayResponseSpec } from '../lib/gateway-responses';
import { routeAuthorizer } from '../contract/route-authorizer';
import { type ControlPlane, createControlPlane } from './control-plane';
import { matchRoute } from './route-match';
import { UsagePlans } from './usage-plans';

/** A Lambda handler as API Gateway invokes it. */
export type LambdaHandler<E, R> = (event: E, context: Context) => Promise<R>;

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

interface CachedDecision {
  readonly result: APIGatewayAuthorizerResult;
  readonly expiresAt: number;
}

const ACCOUNT = '123456789012';
const REGION = 'us-east-1';
const MAX_BODY_BYTES = 10 * 1024 * 1024; // API Gateway's payload limit

/**
 * An HTTP server that behaves like API Gateway REST in front of the same authorizer and handlers, in process.
 * What it emulates, and what it does not, is listed in local/README.md.
 */
export function createLocalGateway(opts: LocalGatewayOptions): LocalGateway {
  const now = opts.now ?? Date.now;
  const stage = opts.stageName ?? 'local';
  const apiId = opts.restApiId ?? 'local';
  const cache = new Map<string, CachedDecision>();
  let calls = 0;
  const controlPlane: ControlPlane = createControlPlane({ restApiId: apiId, stageName: stage, flushAuthorizersCache: () => cache.clear() });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = randomUUID();
    const url = new URL(req.url ?? '/', 'http://local');
    const method = (req.method ?? 'GET').toUpperCase();
    const path = url.pathname;
    const send = (status: number, headers: Record<string, string>, body: string) => {
      res.writeHead(status, { 'x-amzn-requestid': requestId, ...headers });
      res.end(body);
    };
    const gatewayResponse = (type: GatewayResponseSpec['type'], status?: number) => {
      const spec = GATEWAY_RESPONSES.find((r) => r.type === type) ?? GATEWAY_RESPONSES.find((r) => r.type === 'DEFAULT_5XX')!;
      const body = JSON.stringify(spec.body).replaceAll('$context.requestId', requestId).replaceAll('$context.error.responseType', type);
      send(spec.statusCode ?? status ?? 500, { ...spec.headers }, body);
    };

    const staticRoute = method === 'GET' ? opts.staticRoutes?.[path] : undefined;
    if (staticRoute) {
      const r = staticRoute();
      return send(r.status, { 'content-type': 'application/json' }, JSON.stringify(r.body));
    }

    const match = matchRoute(opts.routes, method, path);
    if (!match) return gatewayResponse('MISSING_AUTHENTICATION_TOKEN');
    const body = await readBody(req);
    if (body === undefined) return gatewayResponse('DEFAULT_4XX', 413);
    const { headers, multiValueHeaders } = headerMaps(req);
    const { query, multiQuery } = queryMaps(url);
    // What API Gateway puts in both the authorizer's REQUEST event and the handler's proxy event.
    const request = {
      resource: match.route.path,
      path,
      httpMethod: method,
      headers,
      multiValueHeaders,
      queryStringParameters: query,
      multiValueQueryStringParameters: multiQuery,
      pathParameters: match.pathParameters,
      stageVariables: null,
    };
    const methodArn = `arn:aws:execute-api:${REGION}:${ACCOUNT}:${apiId}/${stage}/${method}${path}`;
    const requestContext = {
      accountId: ACCOUNT,
      apiId,
      stage,
      requestId,
      httpMethod: method,
      // The path of the request line, as API Gateway reports it (with the stage on the default endpoint; the local
      // gateway's URLs have none, like a custom domain). Signed requests sign it.
      path,
      resourcePath: match.route.path,
      resourceId: match.route.path,
      protocol: 'HTTP/1.1',
      requestTimeEpoch: now(),
      identity: { sourceIp: req.socket.remoteAddress ?? '127.0.0.1', userAgent: headers['User-Agent'] ?? null },
    };

    let authorizer: Record<string, unknown> | undefined;
    const guard = routeAuthorizer(match.route, opts.tenantHeader);
    if (guard) {
      // Which authorizer guards the route decides the identity sources (as in lib/gatehouse-api.ts).
      const values = guard.headers.map((h) => headerValue(headers, h));
      // Any identity source missing or empty: 401 without calling the authorizer.
      if (values.some((v) => v === undefined || v === '')) return gatewayResponse('UNAUTHORIZED');

      // One cache per authorizer, keyed by its identity-source values (header values cannot hold a NUL); none for an
      // uncached authorizer (cookie and signed routes: TTL 0, no identity sources).
      const key = `${guard.name}\u0000${values.join('\u0000')}`;
      const t = now();
      const caching = guard.cached && opts.resultTtlSeconds > 0;
      let result = caching ? cache.get(key) : undefined;
      if (result && result.expiresAt <= t) result = undefined;
      let decision: APIGatewayAuthorizerResult;
      if (result) decision = result.result;
      else {
        calls++;
        try {
          decision = await opts.authorizer(
            {
              type: 'REQUEST',
              methodArn,
              ...request,
              requestContext: requestContext as unknown as APIGatewayRequestAuthorizerEvent['requestContext'],
            },
            lambdaContext('authorizer', requestId),
          );
        } catch (err) {
          // 'Unauthorized' is API Gateway's 401; anything else the authorizer throws is a 500. Neither is cached.
          return (err as Error)?.message === 'Unauthorized' ? gatewayResponse('UNAUTHORIZED') : gatewayResponse('DEFAULT_5XX', 500);
        }
        if (!validAuthorizerResult(decision)) return gatewayResponse('DEFAULT_5XX', 500);
        if (caching) cache.set(key, { result: decision, expiresAt: t + opts.resultTtlSeconds * 1000 });
      }
      // A cached policy is evaluated against this request's method ARN, as API Gateway does.
      if (evaluatePolicy(decision.policyDocument as PolicyDocument, methodArn) !== 'Allow') return gatewayResponse('ACCESS_DENIED');
      // Usage plans apply to methods that require an API key, as in API Gateway; the key is the authorizer's
      // usageIdentifierKey (API key source AUTHORIZER), and a key in no plan of the stage is a 403.
      if (opts.usagePlans && opts.apiKeyRequired?.(match.route)) {
        const verdict = decision.usageIdentifierKey ? await opts.usagePlans.take(decision.usageIdentifierKey) : 'NO_PLAN';
        if (verdict === 'NO_PLAN') return gatewayResponse('INVALID_API_KEY');
        if (verdict !== 'ok') return gatewayResponse(verdict);
      }
      authorizer = { ...decision.context, principalId: decision.principalId, integrationLatency: 0 };
    }

    const handler = opts.handlers[match.route.handler ?? ''];
    if (!handler) return gatewayResponse('DEFAULT_5XX', 500);
    let out: APIGatewayProxyResult;
    try {
      out = await handler(
        {
          ...request,
          body: body.length ? body.toString('utf8') : null,
          isBase64Encoded: false,
          requestContext: { ...requestContext, authorizer } as unknown as APIGatewayProxyEvent['requestContext'],
        },
        lambdaContext(match.route.handler!, requestId),
      );
    } catch {
      // A failed or malformed Lambda proxy response is API Gateway's 502.
      return gatewayResponse('DEFAULT_5XX', 502);
    }
    if (!out || typeof out.statusCode !== 'number') return gatewayResponse('DEFAULT_5XX', 502);
    const responseHeaders: Record<string, string> = {};
    for (const [k, v] of Object.entries(out.headers ?? {})) responseHeaders[k] = String(v);
    for (const [k, vs] of Object.entries(out.multiValueHeaders ?? {})) responseHeaders[k] = vs.map(String).join(', ');
    const payload = out.isBase64Encoded ? Buffer.from(out.body ?? '', 'base64') : (out.body ?? '');
    res.writeHead(out.statusCode, { 'x-amzn-requestid': requestId, ...responseHeaders });
    res.end(payload);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
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
    authorizerCalls: () => calls,
    flushAuthorizerCache: () => cache.clear(),
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

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.closeAllConnections();
    server.close(() => resolve());
  });
}

/**
 * API Gateway refuses an authorizer answer (500) without a principal id and policy, or whose context holds anything
 * but strings, numbers and booleans.
 */
function validAuthorizerResult(r: APIGatewayAuthorizerResult | undefined): r is APIGatewayAuthorizerResult {
  if (!r || typeof r.principalId !== 'string' || !r.policyDocument || !Array.isArray(r.policyDocument.Statement)) return false;
  return Object.values(r.context ?? {}).every((v) => v === null || ['string', 'number', 'boolean'].includes(typeof v));
}

function headerMaps(req: IncomingMessage) {
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  // rawHeaders keeps the client's spelling, as API Gateway does; repeated headers keep every value.
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i]!;
    const value = req.rawHeaders[i + 1]!;
    (multiValueHeaders[name] ??= []).push(value);
    headers[name] = value;
  }
  return { headers, multiValueHeaders };
}

function headerValue(headers: Record<string, string>, name: string): string | undefined {
  const lower = name.toLowerCase();
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === lower) return v;
  return undefined;
}

function queryMaps(url: URL) {
  const multiQuery: Record<string, string[]> = {};
  for (const [k, v] of url.searchParams) (multiQuery[k] ??= []).push(v);
  const keys = Object.keys(multiQuery);
  if (!keys.length) return { query: null, multiQuery: null };
  return { query: Object.fromEntries(keys.map((k) => [k, multiQuery[k]!.at(-1)!])), multiQuery };
}

async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function lambdaContext(name: string, requestId: string): Context {
  const deadline = Date.now() + 29_000;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: `gatehouse-local-${name}`,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:gatehouse-local-${name}`,
    memoryLimitInMB: '1024',
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/gatehouse-local-${name}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
