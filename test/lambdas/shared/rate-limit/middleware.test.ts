/**
 * The rateLimit middleware through httpHandler's `rateLimit` option, against the emulator: headers on allow and deny,
 * who is limited, fail open / fail closed on real failures (missing table, refused connection, throttling, a table
 * that never answers), logs, and round trips per request.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { authContext } from '../../../../lambdas/shared/auth-context';
import { type HttpLambda, httpHandler } from '../../../../lambdas/shared/http-handler';
import { HttpError, httpErrors } from '../../../../lambdas/shared/http-errors';
import { json } from '../../../../lambdas/shared/http-response';
import { type RateLimiter, createRateLimiter } from '../../../../lambdas/shared/rate-limit/limiter';
import { RATE_LIMITED, RATE_LIMITER_UNAVAILABLE, rateLimit } from '../../../../lambdas/shared/rate-limit/middleware';
import { parseRateLimitTiers } from '../../../../contract/rate-limit-tiers';
import { DEAD_ENDPOINT, type FaultServer, hangingServer, throttlingDynamoDbServer } from '../../../support/faults';
import { countingClients } from '../../../support/fixture';
import { BEARER_TOKEN, apiKeyAuthorizer, captureLogger, lambdaContext, parsed, proxyEvent, serviceAuthorizer, userAuthorizer } from '../../proxy-event';
import { rateLimitTable, settableClock, tenant } from './support';

const tiers = parseRateLimitTiers({
  pro: { requestsPerMinute: 60, burst: 3 },
  strict: { requestsPerMinute: 60, burst: 3, onLimiterError: 'closed' },
  metered: { requestsPerMinute: 600, burst: 10, monthlyQuota: 2 },
});

let tableName: string;
let client: DynamoDBClient;
beforeAll(async () => {
  ({ tableName, client } = await rateLimitTable());
});
afterAll(() => client.destroy());

/** A handler behind the authorizer with the rate limit on, counting how often its route runs. */
function limitedHandler(limiter: RateLimiter, extra: { timeoutMs?: number; route?: () => never } = {}) {
  const log = captureLogger();
  let routeCalls = 0;
  const handler = httpHandler(
    () => {
      routeCalls++;
      if (extra.route) extra.route();
      return json(200, { ok: true }, { 'x-route': 'yes' });
    },
    { logger: log.logger, scopes: ['customers:read'], rateLimit: { limiter, tiers, ...(extra.timeoutMs ? { timeoutMs: extra.timeoutMs } : {}) } },
  );
  return { handler, log, routeCalls: () => routeCalls };
}

const get = (authorizer: Record<string, unknown>) => proxyEvent({ resource: '/v1/customers', authorizer });
const call = async (handler: HttpLambda, authorizer: Record<string, unknown>) => parsed(await handler(get(authorizer), lambdaContext()));
const statuses = (rs: { status: number }[]) => rs.reduce<Record<number, number>>((acc, r) => ({ ...acc, [r.status]: (acc[r.status] ?? 0) + 1 }), {});

describe('rateLimit middleware (httpHandler option)', () => {
  it('adds RateLimit-* to admitted responses and answers 429 with Retry-After past the burst, without running the route', async () => {
    // Prepare: tier pro, 60/min with bursts of 3.
    const clock = settableClock();
    const { handler, log, routeCalls } = limitedHandler(createRateLimiter({ dynamodb: client, tableName, now: clock.now }));
    const who = userAuthorizer({ tenantId: tenant('acme') });

    // Act
    const rs = [];
    for (let i = 0; i < 5; i++) rs.push(await call(handler, who));

    // Assert: admitted, with the handler's own headers kept.
    expect(rs.map((r) => r.status)).toEqual([200, 200, 200, 429, 429]);
    expect(rs.slice(0, 3).map((r) => r.headers)).toEqual([
      expect.objectContaining({ 'RateLimit-Limit': '3', 'RateLimit-Remaining': '2', 'RateLimit-Reset': '1', 'x-route': 'yes', 'cache-control': 'no-store' }),
      expect.objectContaining({ 'RateLimit-Limit': '3', 'RateLimit-Remaining': '1', 'RateLimit-Reset': '2' }),
      expect.objectContaining({ 'RateLimit-Limit': '3', 'RateLimit-Remaining': '0', 'RateLimit-Reset': '3' }),
    ]);
    expect(rs[0]!.headers['Retry-After']).toBeUndefined();
    // Denied: tat = start + 3 s, admitted again at tat - 2 s = start + 1 s.
    expect(rs[3]).toEqual({
      status: 429,
      body: { error: 'too_many_requests', message: 'rate limit exceeded (60 requests per minute, bursts to 3); retry after 1 second' },
      headers: expect.objectContaining({ 'Retry-After': '1', 'RateLimit-Limit': '3', 'RateLimit-Remaining': '0', 'RateLimit-Reset': '3', 'content-type': 'application/json' }),
    });
    expect(routeCalls()).toBe(3);
    // One line per denial, with who and why, never the credential.
    expect(log.lines).toEqual([
      expect.objectContaining({ level: 'WARN', message: 'rate limited', reason: RATE_LIMITED, status: 429, tier: 'pro', tenantId: who.tenantId, kind: 'user', retryAfterSeconds: 1, window: 'minute' }),
      expect.objectContaining({ reason: RATE_LIMITED }),
    ]);
    expect(log.text()).not.toContain(BEARER_TOKEN);

    // Act: honour the Retry-After.
    clock.advance(1000);
    expect((await call(handler, who)).status).toBe(200);
  });

  it('puts API keys and unknown or absent tiers on the default tier (100/min, bursts to 200)', async () => {
    // Prepare
    const { handler } = limitedHandler(createRateLimiter({ dynamodb: client, tableName, now: settableClock().now }));

    // Act
    const key = await call(handler, apiKeyAuthorizer({ tenantId: tenant() }));
    const unknown = await call(handler, userAuthorizer({ tenantId: tenant(), tier: 'enterprise' }));

    // Assert
    expect(key.headers).toMatchObject({ 'RateLimit-Limit': '200', 'RateLimit-Remaining': '199' });
    expect(unknown.headers).toMatchObject({ 'RateLimit-Limit': '200', 'RateLimit-Remaining': '199' });
  });

  it('does not limit services or users without a tenant, and does not touch the table for them', async () => {
    // Prepare
    const counted = countingClients();
    const { handler, log } = limitedHandler(createRateLimiter({ dynamodb: counted.dynamodb, tableName }));

    // Act
    const rs = [];
    for (let i = 0; i < 5; i++) {
      rs.push(await call(handler, serviceAuthorizer({ scopes: 'customers:read' })));
      rs.push(await call(handler, userAuthorizer({ tenantId: '' })));
    }
    counted.dynamodb.destroy();

    // Assert
    expect(rs.every((r) => r.status === 200 && r.headers['RateLimit-Limit'] === undefined)).toBe(true);
    expect(counted.calls).toEqual([]);
    expect(log.lines).toEqual([]);
  });

  it('spends nothing on a caller refused for a missing scope (checked first)', async () => {
    // Prepare
    const counted = countingClients();
    const { handler } = limitedHandler(createRateLimiter({ dynamodb: counted.dynamodb, tableName }));

    // Act
    const r = await call(handler, userAuthorizer({ tenantId: tenant(), scopes: 'other:read' }));
    counted.dynamodb.destroy();

    // Assert
    expect(r.status).toBe(403);
    expect(counted.calls).toEqual([]);
  });

  it('answers a spent monthly quota with 429 until the month ends, headers describing the quota', async () => {
    // Prepare: tier metered (2 a month), 30 s before the end of November (UTC).
    const clock = settableClock(Date.UTC(2026, 11, 1) - 30_000);
    const { handler, log } = limitedHandler(createRateLimiter({ dynamodb: client, tableName, now: clock.now }));
    const who = apiKeyAuthorizer({ tenantId: tenant(), tier: 'metered' });

    // Act
    const rs = [await call(handler, who), await call(handler, who), await call(handler, who)];

    // Assert
    expect(rs.map((r) => r.status)).toEqual([200, 200, 429]);
    expect(rs[2]).toEqual({
      status: 429,
      body: { error: 'too_many_requests', message: 'monthly quota of 2 requests used up; retry after 30 seconds' },
      headers: expect.objectContaining({ 'Retry-After': '30', 'RateLimit-Limit': '2', 'RateLimit-Remaining': '0', 'RateLimit-Reset': '30' }),
    });
    expect(log.lines).toEqual([expect.objectContaining({ reason: RATE_LIMITED, window: 'month', tier: 'metered', kind: 'apiKey' })]);
  });

  it('leaves an error of the route to httpErrors (no RateLimit-* on it) after admitting the request', async () => {
    // Prepare
    const { handler } = limitedHandler(createRateLimiter({ dynamodb: client, tableName }), {
      route: () => {
        throw new HttpError(404, 'not_found', 'no such customer');
      },
    });

    // Act
    const r = await call(handler, userAuthorizer({ tenantId: tenant() }));

    // Assert
    expect(r.status).toBe(404);
    expect(r.headers['RateLimit-Limit']).toBeUndefined();
  });

  it('composes by hand with middy after authContext (without httpHandler)', async () => {
    // Prepare
    const log = captureLogger();
    const limiter = createRateLimiter({ dynamodb: client, tableName, now: settableClock().now });
    const handler = middy<APIGatewayProxyEvent, APIGatewayProxyResult>(async () => ({ statusCode: 204, body: '' }))
      .use(httpErrors({ logger: log.logger }))
      .use(authContext())
      .use(rateLimit({ limiter, tiers, logger: log.logger }));
    const who = userAuthorizer({ tenantId: tenant() });

    // Act
    const rs: APIGatewayProxyResult[] = [];
    for (let i = 0; i < 4; i++) rs.push(await handler(get(who), lambdaContext() as Context));

    // Assert
    expect(rs.map((r) => r.statusCode)).toEqual([204, 204, 204, 429]);
    expect(rs[0]!.headers).toEqual({ 'RateLimit-Limit': '3', 'RateLimit-Remaining': '2', 'RateLimit-Reset': '1' });
  });

  describe('round trips', () => {
    it('sends one DynamoDB command per lease once the bucket is busy, and none for a denial while the bucket is known empty', async () => {
      // Prepare: default tier (burst 200, so leases of at most 25); the first request creates the bucket.
      const counted = countingClients();
      const clock = settableClock();
      const { handler } = limitedHandler(createRateLimiter({ dynamodb: counted.dynamodb, tableName, now: clock.now }));
      const who = apiKeyAuthorizer({ tenantId: tenant() });
      await call(handler, who);
      counted.reset();

      // Act: 199 admitted, then 20 denied.
      const admitted = [];
      for (let i = 0; i < 199; i++) admitted.push(await call(handler, who));
      const admittedCalls = [...counted.calls];
      counted.reset();
      const denied = [];
      for (let i = 0; i < 20; i++) denied.push(await call(handler, who));
      counted.dynamodb.destroy();

      // Assert: at least 199/25 leases, far fewer than one per request; the 429s exact, with no call.
      expect(statuses(admitted)).toEqual({ 200: 199 });
      expect(admittedCalls.every((c) => c === 'UpdateItemCommand')).toBe(true);
      expect(admittedCalls.length).toBeGreaterThanOrEqual(8);
      expect(admittedCalls.length).toBeLessThan(199 / 5);
      expect(statuses(denied)).toEqual({ 429: 20 });
      expect(denied[19]!.headers).toMatchObject({ 'Retry-After': '1', 'RateLimit-Remaining': '0', 'RateLimit-Reset': '120' });
      expect(counted.calls).toEqual([]);
    });

    it('sends one DynamoDB command per request for a quiet tenant, as the exact limiter did', async () => {
      // Prepare: tier pro (60/min, bursts of 3: leases of 1), one request every 2 s.
      const counted = countingClients();
      const clock = settableClock();
      const { handler } = limitedHandler(createRateLimiter({ dynamodb: counted.dynamodb, tableName, now: clock.now }));
      const who = userAuthorizer({ tenantId: tenant(), tier: 'pro' });
      await call(handler, who);
      counted.reset();

      // Act
      const rs = [];
      for (let i = 0; i < 10; i++) {
        clock.advance(2000);
        rs.push(await call(handler, who));
      }
      counted.dynamodb.destroy();

      // Assert
      expect(statuses(rs)).toEqual({ 200: 10 });
      expect(counted.calls).toEqual(Array(10).fill('UpdateItemCommand'));
    });
  });

  describe('when the limiter table fails', () => {
    const servers: FaultServer[] = [];
    afterAll(async () => {
      await Promise.all(servers.map((s) => s.close()));
    });

    type Outage = () => Promise<{ limiter: RateLimiter; timeoutMs?: number; close: () => void; errorName: RegExp }>;
    const outages: [string, Outage][] = [
      [
        'the table does not exist',
        async () => ({ limiter: createRateLimiter({ dynamodb: client, tableName: `${tableName}-gone` }), close: () => undefined, errorName: /^ResourceNotFoundException$/ }),
      ],
      [
        'the endpoint refuses connections',
        async () => {
          const dynamodb = new DynamoDBClient({ endpoint: DEAD_ENDPOINT, maxAttempts: 1 });
          return { limiter: createRateLimiter({ dynamodb, tableName }), close: () => dynamodb.destroy(), errorName: /./ };
        },
      ],
      [
        'DynamoDB throttles every request',
        async () => {
          const server = await throttlingDynamoDbServer();
          servers.push(server);
          // One attempt: the SDK's backoff before retrying a throttled call can outlast the middleware's 1 s timeout.
          const dynamodb = new DynamoDBClient({ endpoint: server.url, maxAttempts: 1 });
          return { limiter: createRateLimiter({ dynamodb, tableName }), close: () => dynamodb.destroy(), errorName: /^ProvisionedThroughputExceededException$/ };
        },
      ],
      [
        'the table never answers (the middleware times out)',
        async () => {
          const server = await hangingServer();
          servers.push(server);
          const dynamodb = new DynamoDBClient({ endpoint: server.url, maxAttempts: 1 });
          return { limiter: createRateLimiter({ dynamodb, tableName }), timeoutMs: 150, close: () => dynamodb.destroy(), errorName: /Abort|Timeout/ };
        },
      ],
    ];

    it.each(outages)('%s: 50 requests of a fail-open tier all pass (200, no RateLimit-*), each logged', async (_, outage) => {
      // Prepare
      const { limiter, timeoutMs, close, errorName } = await outage();
      const { handler, log, routeCalls } = limitedHandler(limiter, timeoutMs ? { timeoutMs } : {});
      const who = userAuthorizer({ tenantId: tenant(), tier: 'pro' });

      // Act
      const rs = await Promise.all(Array.from({ length: 50 }, () => call(handler, who)));
      close();

      // Assert
      expect(statuses(rs)).toEqual({ 200: 50 });
      expect(rs.every((r) => r.headers['RateLimit-Limit'] === undefined)).toBe(true);
      expect(routeCalls()).toBe(50);
      expect(log.lines).toHaveLength(50);
      expect(log.lines.every((l) => l.reason === RATE_LIMITER_UNAVAILABLE && l.decision === 'open' && l.tier === 'pro' && errorName.test(String(l.errorName)))).toBe(true);
      expect(log.text()).not.toContain(BEARER_TOKEN);
    });

    it.each(outages)('%s: 50 requests of a fail-closed tier all get 503 with Retry-After: 1, each logged', async (_, outage) => {
      // Prepare
      const { limiter, timeoutMs, close, errorName } = await outage();
      const { handler, log, routeCalls } = limitedHandler(limiter, timeoutMs ? { timeoutMs } : {});
      const who = userAuthorizer({ tenantId: tenant(), tier: 'strict' });

      // Act
      const rs = await Promise.all(Array.from({ length: 50 }, () => call(handler, who)));
      close();

      // Assert
      expect(statuses(rs)).toEqual({ 503: 50 });
      expect(rs[0]).toEqual({
        status: 503,
        body: { error: 'service_unavailable', message: 'rate limiting is temporarily unavailable; retry in 1 second' },
        headers: expect.objectContaining({ 'Retry-After': '1' }),
      });
      expect(rs.every((r) => r.headers['RateLimit-Limit'] === undefined)).toBe(true);
      expect(routeCalls()).toBe(0);
      expect(log.lines).toHaveLength(50);
      expect(
        log.lines.every((l) => l.reason === RATE_LIMITER_UNAVAILABLE && l.decision === 'closed' && l.status === 503 && errorName.test(String(l.errorName))),
      ).toBe(true);
    });

    it('recovers by itself: the same limiter admits and limits again once the table answers', async () => {
      // Prepare: a fail-closed tier on a client whose endpoint goes away and comes back.
      const clock = settableClock();
      let down = true;
      const dynamodb = new DynamoDBClient({ maxAttempts: 1 });
      dynamodb.middlewareStack.add(
        ((next: (a: { request: { hostname: string; port?: number } }) => Promise<unknown>) => async (args: { request: { hostname: string; port?: number } }) => {
          if (down) Object.assign(args.request, { hostname: '127.0.0.1', port: 9 });
          return next(args);
        }) as never,
        { step: 'build', name: 'rateLimitTestSwitch' } as never,
      );
      const { handler } = limitedHandler(createRateLimiter({ dynamodb, tableName, now: clock.now }));
      const who = userAuthorizer({ tenantId: tenant(), tier: 'strict' });

      // Act
      const during = [await call(handler, who), await call(handler, who)];
      down = false;
      const after = [];
      for (let i = 0; i < 4; i++) after.push(await call(handler, who));
      dynamodb.destroy();

      // Assert
      expect(during.map((r) => r.status)).toEqual([503, 503]);
      expect(after.map((r) => r.status)).toEqual([200, 200, 200, 429]);
    });
  });
});
