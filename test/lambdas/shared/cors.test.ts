/**
 * The handlers' CORS headers (lambdas/shared/cors.ts) through httpHandler, publicHttpHandler and httpRouter: every
 * answer (success, HttpError, the limiter's early 429, an unexpected 500, the router's 404/405) carries the headers
 * for an allowed Origin and none for another, with `Vary: Origin` either way.
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { type CorsPolicy, corsPolicy, corsSchema } from '../../../contract/cors';
import { withCors, withCorsHeaders } from '../../../lambdas/shared/cors';
import { type HttpLambda, httpHandler, publicHttpHandler } from '../../../lambdas/shared/http-handler';
import { HttpError } from '../../../lambdas/shared/http-errors';
import { json } from '../../../lambdas/shared/http-response';
import { httpRouter } from '../../../lambdas/shared/http-router';
import type { RateLimiter } from '../../../lambdas/shared/rate-limit/limiter';
import { parseRateLimitTiers } from '../../../contract/rate-limit-tiers';
import { captureLogger, lambdaContext, parsed, proxyEvent, userAuthorizer } from '../proxy-event';

const APP = 'http://localhost:5173';
const EVIL = 'https://evil.example';
const policy: CorsPolicy = corsPolicy(corsSchema.parse({ allowOrigins: [APP], allowCredentials: true, exposeHeaders: ['X-Trace'] }), ['X-CSRF-Token']);

const ACCESS_CONTROL = /^access-control-/i;
const accessControl = (headers: Record<string, unknown>) => Object.keys(headers).filter((k) => ACCESS_CONTROL.test(k));
const event = (origin: string | undefined, extra: { resource?: string; method?: string; authorizer?: Record<string, unknown> } = {}): APIGatewayProxyEvent =>
  proxyEvent({ resource: extra.resource ?? '/v1/things', method: extra.method ?? 'GET', authorizer: extra.authorizer ?? userAuthorizer(), headers: origin ? { Origin: origin } : {} });

/** The answer to a request from `origin`, and what it must carry: the headers for APP, none for another. */
async function expectCors(handler: HttpLambda | ((e: APIGatewayProxyEvent, c: ReturnType<typeof lambdaContext>) => Promise<any>), e: (o: string | undefined) => APIGatewayProxyEvent, status: number) {
  const allowed = parsed(await handler(e(APP), lambdaContext()));
  expect(allowed.status).toBe(status);
  expect(allowed.headers).toMatchObject({
    'Access-Control-Allow-Origin': APP,
    'Access-Control-Allow-Credentials': 'true',
    'Access-Control-Expose-Headers': 'RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset, Retry-After, x-amzn-RequestId, X-Trace',
    Vary: 'Origin',
  });
  for (const other of [EVIL, undefined, APP.toUpperCase(), `${APP}/`]) {
    const refused = parsed(await handler(e(other), lambdaContext()));
    expect(refused.status).toBe(status);
    expect(accessControl(refused.headers)).toEqual([]);
    expect(refused.headers.Vary).toBe('Origin');
  }
  return allowed;
}

describe('httpHandler with a CORS policy', () => {
  const log = captureLogger();

  it('adds the headers to a success, and keeps the route\'s own headers and body', async () => {
    const handler = httpHandler(() => json(200, { ok: true }, { 'x-route': 'yes' }), { logger: log.logger, cors: policy });
    const res = await expectCors(handler, (o) => event(o), 200);
    expect(res.body).toEqual({ ok: true });
    expect(res.headers).toMatchObject({ 'x-route': 'yes', 'content-type': 'application/json', 'cache-control': 'no-store' });
  });

  it("adds them to an HttpError's answer and to a refusal of the middleware (missing scope)", async () => {
    const thrown = httpHandler(() => {
      throw new HttpError(409, 'conflict', 'already there');
    }, { logger: log.logger, cors: policy });
    expect((await expectCors(thrown, (o) => event(o), 409)).body).toMatchObject({ error: 'conflict' });

    const scoped = httpHandler(() => json(200, {}), { logger: log.logger, cors: policy, scopes: ['admin:everything'] });
    await expectCors(scoped, (o) => event(o), 403);
  });

  it("adds them to the limiter's 429, which answers early from a before middleware", async () => {
    let checks = 0;
    const denying: RateLimiter = {
      check: async () => (checks++, { allowed: false, limit: 3, remaining: 0, resetSeconds: 2, retryAfterSeconds: 2, window: 'minute' }),
    };
    const tiers = parseRateLimitTiers({ pro: { requestsPerMinute: 60, burst: 3 } });
    const handler = httpHandler(() => json(200, {}), { logger: log.logger, cors: policy, rateLimit: { limiter: denying, tiers } });
    const res = await expectCors(handler, (o) => event(o), 429);
    expect(res.headers).toMatchObject({ 'Retry-After': '2', 'RateLimit-Remaining': '0' });
    expect(checks).toBeGreaterThan(0);
  });

  it('adds them to the generic 500 of an unexpected error', async () => {
    const handler = httpHandler(() => {
      throw new TypeError('boom');
    }, { logger: log.logger, cors: policy });
    expect((await expectCors(handler, (o) => event(o), 500)).body).toEqual({ error: 'internal_error' });
  });

  it('reads the Origin header whatever its case (HTTP/2 sends it in lower case)', async () => {
    const handler = httpHandler(() => json(200, {}), { logger: log.logger, cors: policy });
    const e = proxyEvent({ resource: '/v1/things', authorizer: userAuthorizer(), headers: { origin: APP } });
    expect(parsed(await handler(e, lambdaContext())).headers['Access-Control-Allow-Origin']).toBe(APP);
  });

  it('adds nothing without a policy (no option, and no bundled gatehouse-cors.json next to the code)', async () => {
    const handler = httpHandler(() => json(200, {}), { logger: log.logger });
    const res = parsed(await handler(event(APP), lambdaContext()));
    expect(accessControl(res.headers)).toEqual([]);
    expect(res.headers.Vary).toBeUndefined();
  });
});

describe('publicHttpHandler and httpRouter with a CORS policy', () => {
  const log = captureLogger();

  it('public routes carry the headers too', async () => {
    const handler = publicHttpHandler(() => json(200, { status: 'ok' }), { logger: log.logger, cors: policy });
    await expectCors(handler, (o) => event(o, { resource: '/health', authorizer: {} }), 200);
  });

  it("the router's own 404 and 405 carry them, and so do its routes' answers", async () => {
    const route = httpHandler(() => json(200, { listed: true }), { logger: log.logger, cors: policy });
    const router = httpRouter({ 'GET /v1/things': route }, { logger: log.logger, cors: policy });
    await expectCors(router, (o) => event(o), 200);
    await expectCors(router, (o) => event(o, { resource: '/v1/nowhere' }), 404);
    await expectCors(router, (o) => event(o, { method: 'DELETE' }), 405);
  });
});

describe('withCors and withCorsHeaders', () => {
  it('with any origin ("*"): Allow-Origin *, no credentials, no Vary (the answer is the same for every origin)', async () => {
    const any = corsPolicy(corsSchema.parse({ allowOrigins: ['*'] }));
    const handler = withCors(async () => ({ statusCode: 200, headers: {}, body: '' }), any);
    for (const origin of [EVIL, undefined]) {
      const res = await handler(event(origin), lambdaContext());
      expect(res.headers).toEqual({ 'Access-Control-Allow-Origin': '*', 'Access-Control-Expose-Headers': any.exposeHeaders.join(', ') });
    }
  });

  it("adds Origin to a Vary the answer already has, once, whatever the header's case", () => {
    expect(withCorsHeaders({ statusCode: 200, headers: { vary: 'Accept-Encoding' }, body: '' }, policy, APP).headers).toMatchObject({ Vary: 'Accept-Encoding, Origin' });
    const twice = withCorsHeaders(withCorsHeaders({ statusCode: 200, headers: {}, body: '' }, policy, APP), policy, APP);
    expect(twice.headers).toMatchObject({ Vary: 'Origin', 'Access-Control-Allow-Origin': APP });
  });

  it('replaces Access-Control headers a route set itself, and drops them for an origin not allowed (one policy decides)', () => {
    const own = { statusCode: 200, headers: { 'access-control-allow-origin': '*', 'Access-Control-Allow-Credentials': 'true', 'x-route': 'yes' }, body: '' };
    expect(withCorsHeaders(own, policy, APP).headers).toEqual({
      'x-route': 'yes',
      'Access-Control-Allow-Origin': APP,
      'Access-Control-Allow-Credentials': 'true',
      'Access-Control-Expose-Headers': policy.exposeHeaders.join(', '),
      Vary: 'Origin',
    });
    expect(withCorsHeaders(own, policy, EVIL).headers).toEqual({ 'x-route': 'yes', Vary: 'Origin' });
  });
});
