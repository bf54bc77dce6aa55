import { corsPolicy, corsSchema } from '../../contract/cors';
import type { RouteConfig } from '../../contract/config';
import { preflightAnswer } from '../../local/cors';
import { type LocalEnvironment, provisionLocal } from '../../local/provision';
import { call, exampleConfig, quietLogger } from '../support/local';

/**
 * Browsers on other origins, end to end against local mode on the example configuration (`cors`:
 * http://localhost:5173 with credentials), as each kind of API answers them: a REST API (the stack's mock preflight
 * per resource, its gateway responses' CORS headers, the handlers' own headers) and an HTTP API (its own CORS
 * configuration: preflights on any path with the API's methods, the configured headers on every answer for the
 * request's origin, the integration's own replaced).
 */
const APP = 'http://localhost:5173';
const EVIL = 'https://evil.example';
const ALL_METHODS = 'GET, POST, PATCH, DELETE, OPTIONS';
/** Where the kinds differ. */
const KINDS = {
  rest: {
    methods: { '/v1/customers': 'GET, POST, OPTIONS', '/v1/customers/c-123': 'GET, PATCH, DELETE, OPTIONS' },
    // API Gateway REST has no resource for the path: its 404 gateway response, with the gateway responses' headers.
    nowhere: { status: 404, allowOrigin: APP },
    forbidden: { error: 'forbidden' },
    unauthorized: { error: 'unauthorized' },
    // A gateway response's headers are static: the first listed origin, whatever the request's.
    refusalToOtherOrigin: APP,
  },
  http: {
    // One CORS configuration for the whole API: the methods of the whole route table.
    methods: { '/v1/customers': ALL_METHODS, '/v1/customers/c-123': ALL_METHODS },
    // An HTTP API answers a preflight itself on any path.
    nowhere: { status: 204, allowOrigin: APP },
    forbidden: { message: 'Forbidden' },
    unauthorized: { message: 'Unauthorized' },
    // Its CORS headers are decided per request's origin: another origin gets none.
    refusalToOtherOrigin: null,
  },
} as const;

const accessControl = (headers: Headers) => [...headers.keys()].filter((k) => k.startsWith('access-control-'));

describe.each(['rest', 'http'] as const)('%s API', (api) => {
  const kind = KINDS[api];
  let env: LocalEnvironment;
  let base: string;
  beforeAll(async () => {
    env = await provisionLocal({ stackConfig: exampleConfig(), port: 0, logger: quietLogger, api });
    base = env.credentials.baseUrl;
  });
  afterAll(() => env.close());

  const cookie = () => `${env.credentials.tokenCookie}=${env.credentials.userTokenHs256}`;
  const preflight = (path: string, origin: string, method = 'POST') =>
    call(base, 'OPTIONS', path, { Origin: origin, 'Access-Control-Request-Method': method, 'Access-Control-Request-Headers': 'content-type, x-csrf-token' });

  describe('preflights', () => {
    it('answers one from the allowed origin 204 with the headers, without the authorizer', async () => {
      const before = env.gateway.authorizerCalls();
      const res = await preflight('/v1/customers', APP);
      expect(res.status).toBe(204);
      expect(Object.fromEntries([...res.headers].filter(([k]) => k.startsWith('access-control-') || k === 'vary'))).toEqual({
        'access-control-allow-origin': APP,
        'access-control-allow-credentials': 'true',
        'access-control-allow-methods': kind.methods['/v1/customers'],
        'access-control-allow-headers': 'Authorization, Content-Type, X-Service-Name, X-Content-SHA256, X-CSRF-Token',
        'access-control-max-age': '600',
        vary: 'Origin',
      });
      expect(env.gateway.authorizerCalls()).toBe(before);
    });

    it('allows the methods of the path (REST) or of the API (HTTP API) on a templated path', async () => {
      const res = await preflight('/v1/customers/c-123', APP, 'DELETE');
      expect(res.status).toBe(204);
      expect(res.headers.get('access-control-allow-methods')).toBe(kind.methods['/v1/customers/c-123']);
    });

    it('gives another origin none of the Access-Control headers', async () => {
      for (const origin of [EVIL, 'http://localhost:5174', 'https://localhost:5173']) {
        const res = await preflight('/v1/customers', origin);
        expect(res.status).toBe(204);
        expect(accessControl(res.headers)).toEqual([]);
        expect(res.headers.get('vary')).toBe('Origin');
      }
    });

    it('answers OPTIONS on a path without routes as the kind does (REST: its 404; HTTP API: the preflight)', async () => {
      const res = await preflight('/v1/nowhere', APP);
      expect(res.status).toBe(kind.nowhere.status);
      expect(res.headers.get('access-control-allow-origin')).toBe(kind.nowhere.allowOrigin);
    });
  });

  describe('a page on http://localhost:5173 with the session cookie', () => {
    it('reads a credentialed GET: 200 with Allow-Origin and Allow-Credentials', async () => {
      const res = await call(base, 'GET', '/v1/session', { Origin: APP, Cookie: cookie() });
      expect(res).toMatchObject({ status: 200, body: { kind: 'user', tenantId: 'demo' } });
      expect(res.headers.get('access-control-allow-origin')).toBe(APP);
      expect(res.headers.get('access-control-allow-credentials')).toBe('true');
      expect(res.headers.get('access-control-expose-headers')).toContain('RateLimit-Remaining');
      expect(res.headers.get('vary')).toBe('Origin');
    });

    it('can read the 403 of a POST without the CSRF header (the refusal carries the CORS headers)', async () => {
      const res = await call(base, 'POST', '/v1/customers', { Origin: APP, Cookie: cookie() }, { name: 'Mallory' });
      expect(res).toMatchObject({ status: 403, body: kind.forbidden });
      expect(res.headers.get('access-control-allow-origin')).toBe(APP);
      expect(res.headers.get('access-control-allow-credentials')).toBe('true');
    });

    it('passes the POST with the CSRF proof, and reads the 201', async () => {
      const { csrf } = env.credentials;
      const res = await call(base, 'POST', '/v1/customers', { Origin: APP, Cookie: `${cookie()}; ${csrf.cookie}=${csrf.token}`, [csrf.header]: csrf.token }, { name: 'Grace Hopper' });
      expect(res.status).toBe(201);
      expect(res.headers.get('access-control-allow-origin')).toBe(APP);
    });

    it('can read a 401 when it has no credential', async () => {
      const res = await call(base, 'GET', '/v1/me', { Origin: APP });
      expect(res).toMatchObject({ status: 401, body: kind.unauthorized });
      expect(res.headers.get('access-control-allow-origin')).toBe(APP);
      expect(res.headers.get('access-control-allow-credentials')).toBe('true');
      expect(res.headers.get('access-control-expose-headers')).toContain('Retry-After');
    });
  });

  describe('another origin', () => {
    it("gets no Access-Control-Allow-Origin on the handlers' answers", async () => {
      const session = await call(base, 'GET', '/v1/session', { Origin: EVIL, Cookie: cookie() });
      expect(session.status).toBe(200);
      expect(accessControl(session.headers)).toEqual([]);
      expect(session.headers.get('vary')).toBe('Origin');

      const health = await call(base, 'GET', '/health', { Origin: EVIL });
      expect(health.status).toBe(200);
      expect(accessControl(health.headers)).toEqual([]);
    });

    it("gets the gateway's refusals with the first listed origin (REST) or with none (HTTP API)", async () => {
      const res = await call(base, 'GET', '/v1/me', { Origin: EVIL });
      expect(res.status).toBe(401);
      expect(res.headers.get('access-control-allow-origin')).toBe(kind.refusalToOtherOrigin);
    });
  });
});

describe('preflightAnswer (which OPTIONS the local gateway answers itself)', () => {
  const policy = corsPolicy(corsSchema.parse({ allowOrigins: [APP] }));
  const routes = [
    { method: 'GET', path: '/v1/files/{proxy+}' },
    { method: 'ANY', path: '/v1/legacy/{proxy+}' },
    { method: 'GET', path: '/v1/files/special' },
    { method: 'PUT', path: '/v1/files/special' },
  ] as unknown as RouteConfig[];

  it('answers for the resource API Gateway would pick: the most specific one, with its methods', () => {
    expect(preflightAnswer(routes, policy, 'OPTIONS', '/v1/files/special', APP)?.['Access-Control-Allow-Methods']).toBe('GET, PUT, OPTIONS');
    expect(preflightAnswer(routes, policy, 'OPTIONS', '/v1/files/a/b.txt', APP)?.['Access-Control-Allow-Methods']).toBe('GET, OPTIONS');
    expect(preflightAnswer(routes, policy, 'OPTIONS', '/v1/legacy/x', APP)?.['Access-Control-Allow-Methods']).toBe('GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS');
  });

  it('leaves other requests to the usual steps: no policy, another method, a path without routes', () => {
    expect(preflightAnswer(routes, undefined, 'OPTIONS', '/v1/files/special', APP)).toBeUndefined();
    expect(preflightAnswer(routes, policy, 'GET', '/v1/files/special', APP)).toBeUndefined();
    expect(preflightAnswer(routes, policy, 'OPTIONS', '/v2/other', APP)).toBeUndefined();
  });
});
