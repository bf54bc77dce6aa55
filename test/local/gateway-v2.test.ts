import type { APIGatewayAuthorizerResult, APIGatewayProxyEvent, APIGatewayProxyResult, APIGatewayRequestAuthorizerEventV2 } from 'aws-lambda';
import { type IncomingHttpHeaders, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeGatewayContext, encodeGatewayContext } from '../../contract/backend-headers';
import type { BackendConfig } from '../../contract/targets';
import type { RouteConfig } from '../../contract/config';
import { corsPolicy, corsSchema } from '../../contract/cors';
import { type HttpApiGatewayOptions, createHttpApiGateway } from '../../local/gateway-v2';
import { clfTime } from '../../local/gateway-v2-request';
import { localDeployment } from '../../local/local-setup';
import { DEFAULT_STAGE_THROTTLE } from '../../contract/stack-config';
import type { LogFields, Logger } from '../../contract/log';
import { call, quietLogger } from '../support/local';

/**
 * The local gateway in `http` mode (an HTTP API, API Gateway v2) with stand-ins for the authorizer and a handler
 * that record what they are given: the exact events (authorizer payload 2.0, integration payload 1.0), the HTTP
 * API's own answers, the result cache against the route ARN, the stage throttle and native CORS. The real
 * authorizer and handlers behind this gateway are tested end to end in gateway.test.ts, cors.test.ts and
 * identity-source-gate.test.ts.
 */
const ROUTES = [
  { method: 'GET', path: '/health', public: true, accepts: [], scopes: [], handler: 'echo' },
  { method: 'GET', path: '/v1/items/{id}', accepts: ['user'], scopes: [], handler: 'echo' },
  { method: 'GET', path: '/v1/admin', accepts: ['user'], scopes: [], handler: 'echo' },
  { method: 'POST', path: '/v1/jobs', accepts: ['service'], scopes: [], handler: 'echo' },
  { method: 'POST', path: '/v1/forms', accepts: ['user'], scopes: [], cookie: 'sid', handler: 'echo' },
  { method: 'GET', path: '/v1/broken', accepts: ['user'], scopes: [], handler: 'broken' },
] as unknown as RouteConfig[];
const APP = 'http://localhost:5173';
const CONTEXT = { kind: 'user', principalId: 'u1', tenantId: 'acme', scopes: '', issuer: 'local', subject: 'u1', roles: '' };

/** An IAM policy answer allowing `resources` (tails after the stage: `GET/v1/items/*`). */
const allow = (resources: string[]): APIGatewayAuthorizerResult => ({
  principalId: 'u1',
  policyDocument: { Version: '2012-10-17', Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: resources.map((r) => `arn:aws:execute-api:us-east-1:123456789012:api1/v1stage/${r}`) }] },
  context: CONTEXT,
});

/** A GET with node:http, whose repeated headers go out as separate lines. */
function rawGet(url: string, headers: Record<string, string | string[]>): Promise<{ status: number; headers: IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

interface Recorded {
  authorizerEvents: APIGatewayRequestAuthorizerEventV2[];
  handlerEvents: APIGatewayProxyEvent[];
}

async function withGateway(
  answer: (event: APIGatewayRequestAuthorizerEventV2) => Promise<APIGatewayAuthorizerResult>,
  test: (base: string, seen: Recorded) => Promise<void>,
  extra: Partial<HttpApiGatewayOptions> = {},
): Promise<void> {
  const seen: Recorded = { authorizerEvents: [], handlerEvents: [] };
  const echo = async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
    seen.handlerEvents.push(event);
    return { statusCode: 200, headers: { 'Access-Control-Allow-Origin': '*', Vary: 'Accept' }, body: JSON.stringify({ ok: true }) };
  };
  const gateway = createHttpApiGateway({
    routes: ROUTES,
    authorizer: async (event) => {
      seen.authorizerEvents.push(event);
      return answer(event);
    },
    handlers: {
      echo,
      broken: async () => {
        throw new Error('boom');
      },
    },
    resultTtlSeconds: 300,
    apiId: 'api1',
    stageName: 'v1stage',
    logger: quietLogger,
    now: () => Date.UTC(2026, 2, 12, 19, 3, 58, 390),
    ...extra,
  });
  const base = await gateway.listen();
  try {
    await test(base, seen);
  } finally {
    await gateway.close();
  }
}

describe('http mode: the authorizer event (payload format 2.0)', () => {
  it('has the documented shape: route key and ARN, identity sources, lower-case joined headers, cookies apart, joined query values', async () => {
    await withGateway(
      async () => allow(['GET/v1/items/*']),
      async (base, seen) => {
        // node:http sends a repeated header as two lines (fetch would join them itself).
        const res = await rawGet(`${base}/v1/items/it%201?b=2&a=1&a=3`, { Authorization: 'Bearer t1', 'X-Trace': ['one', 'two'], Cookie: 'a=1; b=2', 'User-Agent': 'agent/1' });
        expect(res.status).toBe(200);
        const event = seen.authorizerEvents[0]!;
        expect(event).toMatchObject({
          version: '2.0',
          type: 'REQUEST',
          routeArn: 'arn:aws:execute-api:us-east-1:123456789012:api1/v1stage/GET/v1/items/it%201',
          identitySource: ['Bearer t1'],
          routeKey: 'GET /v1/items/{id}',
          rawPath: '/v1/items/it%201',
          rawQueryString: 'b=2&a=1&a=3',
          cookies: ['a=1', 'b=2'],
          queryStringParameters: { b: '2', a: '1,3' },
          pathParameters: { id: 'it 1' },
          requestContext: {
            accountId: '123456789012',
            apiId: 'api1',
            http: { method: 'GET', path: '/v1/items/it%201', protocol: 'HTTP/1.1', sourceIp: expect.any(String), userAgent: 'agent/1' },
            requestId: res.headers['apigw-requestid'],
            routeKey: 'GET /v1/items/{id}',
            stage: 'v1stage',
            time: '12/Mar/2026:19:03:58 +0000',
            timeEpoch: Date.UTC(2026, 2, 12, 19, 3, 58, 390),
          },
        });
        expect(event.headers).toMatchObject({ authorization: 'Bearer t1', 'x-trace': 'one,two', 'user-agent': 'agent/1' });
        expect(Object.keys(event.headers!).every((k) => k === k.toLowerCase())).toBe(true);
        expect(event.headers).not.toHaveProperty('cookie');
      },
    );
  });

  it('gives the service authorizer both identity sources, in order, and the cookie authorizer none', async () => {
    await withGateway(
      async () => allow(['POST/v1/jobs', 'POST/v1/forms']),
      async (base, seen) => {
        await call(base, 'POST', '/v1/jobs', { Authorization: 'Bearer s', 'X-Service-Name': 'reporting' }, {});
        await call(base, 'POST', '/v1/forms', { Cookie: 'sid=x' }, {});
        expect(seen.authorizerEvents.map((e) => e.identitySource)).toEqual([['Bearer s', 'reporting'], []]);
        expect(seen.authorizerEvents[1]).not.toHaveProperty('queryStringParameters');
        expect(seen.authorizerEvents[1]).not.toHaveProperty('pathParameters');
      },
    );
  });
});

describe('http mode: the integration event (payload format 1.0)', () => {
  it("is REST's proxy event with version 1.0, lower-case headers and the authorizer's context under authorizer.lambda", async () => {
    await withGateway(
      async () => allow(['GET/v1/items/*']),
      async (base, seen) => {
        await call(base, 'GET', '/v1/items/42?x=1&x=2', { Authorization: 'Bearer t1' });
        const event = seen.handlerEvents[0]!;
        expect(event).toMatchObject({
          version: '1.0',
          resource: '/v1/items/{id}',
          path: '/v1/items/42',
          httpMethod: 'GET',
          queryStringParameters: { x: '2' },
          multiValueQueryStringParameters: { x: ['1', '2'] },
          pathParameters: { id: '42' },
          body: null,
          isBase64Encoded: false,
          requestContext: { authorizer: { lambda: CONTEXT }, resourcePath: '/v1/items/{id}', stage: 'v1stage', apiId: 'api1', httpMethod: 'GET', requestTime: clfTime(Date.UTC(2026, 2, 12, 19, 3, 58, 390)) },
        });
        expect(event.headers).toMatchObject({ authorization: 'Bearer t1' });
        expect(event.multiValueHeaders).toMatchObject({ authorization: ['Bearer t1'] });
      },
    );
  });

  it('gives a public route no authorizer object and does not call the authorizer', async () => {
    await withGateway(
      async () => allow([]),
      async (base, seen) => {
        expect((await call(base, 'GET', '/health')).status).toBe(200);
        expect(seen.authorizerEvents).toHaveLength(0);
        expect(seen.handlerEvents[0]!.requestContext).not.toHaveProperty('authorizer');
      },
    );
  });
});

describe("http mode: the HTTP API's own answers", () => {
  it('401 {"message":"Unauthorized"} for a missing identity source, without the authorizer', async () => {
    await withGateway(
      async () => allow(['*']),
      async (base, seen) => {
        const res = await call(base, 'GET', '/v1/admin');
        const service = await call(base, 'POST', '/v1/jobs', { Authorization: 'Bearer s' }, {});
        expect([res.status, res.body, service.status]).toEqual([401, { message: 'Unauthorized' }, 401]);
        expect(res.headers.get('www-authenticate')).toBeNull();
        expect(seen.authorizerEvents).toHaveLength(0);
      },
    );
  });

  it('403 {"message":"Forbidden"} for a Deny; 500 for a throw (an "Unauthorized" one included) or an unusable answer; 404 for no route', async () => {
    let mode = 'deny';
    await withGateway(
      async (e) => {
        if (mode === 'throw') throw new Error('Unauthorized');
        if (mode === 'invalid') return { policyDocument: { Version: '2012-10-17', Statement: [] } } as unknown as APIGatewayAuthorizerResult;
        return { ...allow([]), policyDocument: { Version: '2012-10-17', Statement: [{ Action: 'execute-api:Invoke', Effect: 'Deny', Resource: [e.routeArn] }] } };
      },
      async (base) => {
        const deny = await call(base, 'GET', '/v1/admin', { Authorization: 'Bearer deny' });
        mode = 'throw';
        const thrown = await call(base, 'GET', '/v1/admin', { Authorization: 'Bearer throw' });
        mode = 'invalid';
        const invalid = await call(base, 'GET', '/v1/admin', { Authorization: 'Bearer invalid' });
        const none = await call(base, 'GET', '/v1/nowhere', { Authorization: 'Bearer deny' });
        expect([deny.status, deny.body]).toEqual([403, { message: 'Forbidden' }]);
        expect([thrown.status, thrown.body, invalid.status, invalid.body]).toEqual([500, { message: 'Internal Server Error' }, 500, { message: 'Internal Server Error' }]);
        expect([none.status, none.body]).toEqual([404, { message: 'Not Found' }]);
        expect(deny.headers.get('apigw-requestid')).toMatch(/^[0-9a-f-]{36}$/);
      },
    );
  });

  it('500 {"message":"Internal Server Error"} when the handler throws', async () => {
    await withGateway(
      async () => allow(['GET/v1/broken']),
      async (base) => {
        expect(await call(base, 'GET', '/v1/broken', { Authorization: 'Bearer t' })).toMatchObject({ status: 500, body: { message: 'Internal Server Error' } });
      },
    );
  });

  it('429 {"message":"Too Many Requests"} past the stage throttle, before the authorizer', async () => {
    await withGateway(
      async () => allow(['GET/v1/admin']),
      async (base, seen) => {
        const statuses: number[] = [];
        for (let i = 0; i < 4; i++) statuses.push((await call(base, 'GET', '/v1/admin', { Authorization: `Bearer t${i}` })).status);
        const last = await call(base, 'GET', '/health');
        expect(statuses).toEqual([200, 200, 429, 429]);
        expect(last).toMatchObject({ status: 429, body: { message: 'Too Many Requests' } });
        expect(seen.authorizerEvents).toHaveLength(2);
      },
      // The clock stands still: no token comes back.
      { throttle: { rateLimit: 1, burstLimit: 2 } },
    );
  });
});

describe('http mode: a fault of the gateway itself', () => {
  it("is the HTTP API's 500, with the CORS headers for the request's origin and one log line with the request id", async () => {
    const lines: { message: string; fields?: LogFields }[] = [];
    const logger: Logger = { ...quietLogger, error: (message, fields) => void lines.push({ message, ...(fields ? { fields } : {}) }) };
    const staticRoutes = {
      '/boom': () => {
        throw new TypeError('broken');
      },
    };
    await withGateway(
      async () => allow([]),
      async (base) => {
        const res = await call(base, 'GET', '/boom', { Origin: APP });
        const requestId = res.headers.get('apigw-requestid');
        expect(res).toMatchObject({ status: 500, body: { message: 'Internal Server Error' } });
        expect(res.headers.get('access-control-allow-origin')).toBe(APP);
        expect(lines).toEqual([{ message: 'gateway 5xx', fields: expect.objectContaining({ requestId, status: 500, reason: expect.stringContaining('gateway_error: TypeError') }) }]);
      },
      { staticRoutes, logger, cors: corsPolicy(corsSchema.parse({ allowOrigins: [APP] })) },
    );
  });
});

describe('http mode: the result cache', () => {
  it('reuses an Allow made on one route only where its policy allows: another route of the same authorizer is a 403', async () => {
    await withGateway(
      async () => allow(['GET/v1/items/*']),
      async (base, seen) => {
        const items = await call(base, 'GET', '/v1/items/1', { Authorization: 'Bearer t' });
        const again = await call(base, 'GET', '/v1/items/2', { Authorization: 'Bearer t' });
        const admin = await call(base, 'GET', '/v1/admin', { Authorization: 'Bearer t' });
        expect([items.status, again.status, admin.status]).toEqual([200, 200, 403]);
        expect(seen.authorizerEvents).toHaveLength(1);
        expect(seen.handlerEvents).toHaveLength(2);
      },
    );
  });
});

describe('http mode: native CORS', () => {
  const cors = corsPolicy(corsSchema.parse({ allowOrigins: [APP, 'http://localhost:3001'], allowCredentials: true }));

  it('answers preflights itself on any path, with the API-wide methods, and none of the headers for another origin', async () => {
    await withGateway(
      async () => allow(['*']),
      async (base, seen) => {
        const pre = (p: string, origin: string) => call(base, 'OPTIONS', p, { Origin: origin, 'Access-Control-Request-Method': 'POST' });
        const ok = await pre('/v1/items/1', APP);
        const nowhere = await pre('/v1/nowhere', 'http://localhost:3001');
        const evil = await pre('/v1/items/1', 'https://evil.example');
        expect(ok.status).toBe(204);
        expect(ok.headers.get('access-control-allow-origin')).toBe(APP);
        // The stack's configuration (contract/openapi-http.ts): every method of the route table, and OPTIONS.
        expect(ok.headers.get('access-control-allow-methods')).toBe('GET, POST, OPTIONS');
        expect(ok.headers.get('access-control-allow-credentials')).toBe('true');
        expect(nowhere.status).toBe(204);
        expect(nowhere.headers.get('access-control-allow-origin')).toBe('http://localhost:3001');
        expect(evil.status).toBe(204);
        expect([...evil.headers.keys()].filter((k) => k.startsWith('access-control-'))).toEqual([]);
        expect(seen.authorizerEvents).toHaveLength(0);
        // An OPTIONS that is not a preflight is routed: no route takes OPTIONS.
        expect((await call(base, 'OPTIONS', '/v1/items/1', { Origin: APP })).status).toBe(404);
      },
      { cors },
    );
  });

  it("puts the configured headers on every answer, the integration's own replaced and the gateway's refusals included", async () => {
    await withGateway(
      async () => allow(['GET/v1/items/*']),
      async (base) => {
        const ok = await call(base, 'GET', '/v1/items/1', { Authorization: 'Bearer t', Origin: 'http://localhost:3001' });
        const refused = await call(base, 'GET', '/v1/admin', { Origin: APP });
        const evil = await call(base, 'GET', '/v1/items/1', { Authorization: 'Bearer t', Origin: 'https://evil.example' });
        expect(ok.status).toBe(200);
        expect(ok.headers.get('access-control-allow-origin')).toBe('http://localhost:3001');
        expect(ok.headers.get('access-control-allow-credentials')).toBe('true');
        expect(ok.headers.get('vary')).toBe('Accept, Origin');
        expect(refused.status).toBe(401);
        expect(refused.headers.get('access-control-allow-origin')).toBe(APP);
        expect(refused.headers.get('access-control-expose-headers')).toContain('Retry-After');
        // The handler's own `*` is gone: this origin is not allowed.
        expect(evil.status).toBe(200);
        expect([...evil.headers.keys()].filter((k) => k.startsWith('access-control-'))).toEqual([]);
      },
      { cors },
    );
  });
});

describe('http mode: an HTTP backend', () => {
  it('gets the context from the authorizer (X-Gatehouse-Context), the request id, and none of the client\'s X-Gatehouse-*; its CORS headers are replaced', async () => {
    const seen: IncomingHttpHeaders[] = [];
    const backend = createServer((req, res) => {
      seen.push(req.headers);
      res.writeHead(200, { 'content-type': 'application/json', 'access-control-allow-origin': '*' });
      res.end('{"from":"backend"}');
    });
    await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(backend.address() as AddressInfo).port}`;
    const routes = [...ROUTES, { method: 'GET', path: '/v1/orders', accepts: ['user'], scopes: [], backend: 'orders' }] as unknown as RouteConfig[];
    try {
      await withGateway(
        async () => ({ ...allow(['GET/v1/orders']), context: { ...CONTEXT, gatehouseContext: encodeGatewayContext(CONTEXT) } }),
        async (base) => {
          const res = await call(base, 'GET', '/v1/orders?x=1', { Authorization: 'Bearer t', Origin: 'https://evil.example' });
          expect(res).toMatchObject({ status: 200, body: { from: 'backend' } });
          expect(decodeGatewayContext(seen[0]!['x-gatehouse-context'] as string)).toMatchObject({ kind: 'user', principalId: 'u1', tenantId: 'acme' });
          expect(seen[0]!['x-gatehouse-request-id']).toBe(res.headers.get('apigw-requestid'));
          expect(res.headers.get('access-control-allow-origin')).toBeNull();
        },
        { routes, backends: { orders: { url, timeoutMs: 2000 } as BackendConfig }, cors: corsPolicy(corsSchema.parse({ allowOrigins: [APP] })) },
      );
    } finally {
      await new Promise((resolve) => backend.close(resolve));
    }
  });
});

describe('which kind local mode serves (localDeployment)', () => {
  it("reads deployment.api and deployment.throttle, lets --api override the kind, and refuses any other kind", () => {
    expect(localDeployment({})).toEqual({ api: 'rest', throttle: DEFAULT_STAGE_THROTTLE });
    expect(localDeployment({ deployment: { api: 'http', throttle: { rateLimit: 5, burstLimit: 10 } } })).toEqual({ api: 'http', throttle: { rateLimit: 5, burstLimit: 10 } });
    expect(localDeployment({ deployment: { api: 'http' } }, 'rest').api).toBe('rest');
    expect(() => localDeployment({ deployment: { api: 'websocket' } })).toThrow('deployment.api: expected "rest" or "http"');
  });
});
