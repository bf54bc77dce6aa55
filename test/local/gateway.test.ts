import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { readFileSync } from 'node:fs';
import { Directory } from '../../control/directory/directory';
import { call as httpCall } from '../support/local';
import path from 'node:path';
import { demoRequests } from '../../local/examples';
import { createLocalGateway } from '../../local/gateway';
import { localHandlers } from '../../local/handlers';
import { type LocalEnvironment, provisionLocal } from '../../local/provision';
import { UsagePlans } from '../../local/usage-plans';
import { signRequest } from '../../client/sign-request';
import { HANDLERS } from '../../lib/handler-functions';
import type { Logger } from '../../contract/log';

/**
 * End-to-end tests over HTTP: the local gateway in front of the real authorizer and handlers, with DynamoDB and
 * Secrets Manager on the emulator. What API Gateway would answer is what these tests expect.
 */
const example = JSON.parse(readFileSync(path.resolve(__dirname, '../../config/gatehouse.example.json'), 'utf8'));
// One more route whose handler (the /v1/me echo) checks nothing: only the gateway's policy check can refuse it.
const withAdminRoute = {
  ...example,
  routes: [...example.routes, { method: 'GET', path: '/v1/admin/report', accepts: ['user', 'apiKey'], scopes: ['admin'], handler: 'me' }],
};
const quiet: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };

const call = (method: string, p: string, headers: Record<string, string> = {}, body?: unknown, base = env.credentials.baseUrl) =>
  httpCall(base, method, p, headers, body);
const bearer = (v: string, extra: Record<string, string> = {}) => ({ Authorization: `Bearer ${v}`, ...extra });

// Each kind of API (deployment.api) has its own local environment on the one emulator; `env` is the one under test.
let env: LocalEnvironment;

describe('local mode', () => {
  it('builds the same handlers the stack deploys', () => {
    expect(Object.keys(localHandlers({ dynamodb: {} as never, tableName: 't', apiKeyPrefix: 'gh', environment: 'test' })).sort()).toEqual(Object.keys(HANDLERS).sort());
  });
});

/**
 * What differs between the kinds, and nothing else: a refusal the authorizer makes itself is a 401 on REST and a Deny
 * (403) behind an HTTP API; the gateway's own bodies are the stack's gateway responses on REST and the HTTP API's
 * `{"message":"..."}`; usage plans exist on REST only.
 */
const KINDS = {
  rest: {
    refused: 401,
    unauthorized: { error: 'unauthorized', message: 'A valid credential is required.', requestId: expect.any(String) },
    forbidden: { error: 'forbidden' },
    noUsagePlan: { status: 403, body: { error: 'forbidden', message: 'The tenant has no usage plan on this API.' } },
    noUsageKeyStatus: 403,
  },
  // No usage plans on an HTTP API: a tenant whose key is in none is served.
  http: { refused: 403, unauthorized: { message: 'Unauthorized' }, forbidden: { message: 'Forbidden' }, noUsagePlan: { status: 200 }, noUsageKeyStatus: 200 },
} as const;

describe.each(['rest', 'http'] as const)('%s API', (api) => {
  const kind = KINDS[api];
  let own: LocalEnvironment;
  beforeAll(async () => {
    own = await provisionLocal({ stackConfig: withAdminRoute, port: 0, logger: quiet, api });
  });
  beforeEach(() => {
    env = own;
  });
  afterAll(() => own.close());

  it('answers every request local mode prints with the status it promises', async () => {
    expect(env.credentials.api).toBe(api);
    for (const r of demoRequests(env.credentials).filter((x) => x.expect !== undefined)) {
      const { status } = await call(r.method, r.path, { ...r.headers }, r.body);
      expect({ request: r.title, status }).toEqual({ request: r.title, status: r.expect });
    }
  });

  describe('credential kinds and answers', () => {
    it('hands the handler the typed context of each credential kind', async () => {
      const c = env.credentials;
      const user = await call('GET', '/v1/me', bearer(c.userTokenEs256));
      const key = await call('GET', '/v1/me', bearer(c.apiKeyRead));
      const service = await call('POST', '/internal/jobs', bearer(c.serviceSecret, { 'X-Service-Name': c.serviceName }), {});

      expect(user).toMatchObject({ status: 200, body: { kind: 'user', tenantId: 'demo', issuer: 'local', subject: 'demo-user' } });
      expect(key).toMatchObject({ status: 200, body: { kind: 'apiKey', tenantId: 'demo', scopes: ['customers:read'] } });
      expect(service).toMatchObject({ status: 202, body: { accepted: true, service: c.serviceName } });
    });

    it('passes a signed request once; its replay is refused', async () => {
      const c = env.credentials;
      const url = `${c.baseUrl}/v1/webhooks/stripe`;
      const body = JSON.stringify({ id: `evt_${api}`, type: 'payment.succeeded' });
      const { headers } = signRequest({ method: 'POST', url, body, caller: c.signerName, secret: c.signerSecret });
      const send = () => fetch(url, { method: 'POST', headers: { ...headers, 'Content-Type': 'application/json' }, body });

      const first = await send();
      expect({ status: first.status, body: await first.json() }).toMatchObject({ status: 202, body: { accepted: true, signer: c.signerName, source: 'stripe' } });
      expect((await send()).status).toBe(kind.refused);
    });

    it('answers a request without an identity source 401 without calling the authorizer', async () => {
      const before = env.gateway.authorizerCalls();

      const res = await call('GET', '/v1/me', {});

      expect(res.status).toBe(401);
      expect(res.body).toEqual(kind.unauthorized);
      // The stack's gateway response on REST; an HTTP API has no gateway responses to add the header with.
      expect(res.headers.get('www-authenticate')).toBe(api === 'rest' ? 'Bearer realm="gatehouse"' : null);
      expect(env.gateway.authorizerCalls()).toBe(before);
    });

    it('keeps tenants apart end to end', async () => {
      const c = env.credentials;
      const created = await call('POST', '/v1/customers', bearer(c.apiKeyWrite), { name: 'Grace Hopper' });
      expect(created.status).toBe(201);

      const theirs = await call('GET', `/v1/customers/${created.body.id}`, bearer(c.otherTenantToken));
      const ours = await call('GET', `/v1/customers/${created.body.id}`, bearer(c.userTokenHs256));

      expect(theirs.status).toBe(404);
      expect(ours).toMatchObject({ status: 200, body: { name: 'Grace Hopper' } });
    });
  });

  describe('the authorizer result cache', () => {
    it('reuses one decision across routes, and still answers each route by the cached policy', async () => {
      const key = env.credentials.apiKeyRead;
      const before = env.gateway.authorizerCalls();

      const me = await call('GET', '/v1/me', bearer(key));
      const list = await call('GET', '/v1/customers', bearer(key));
      // The cached decision allowed /v1/me; this route needs `admin`, and its handler would echo anyone.
      const admin = await call('GET', '/v1/admin/report', bearer(key));

      expect([me.status, list.status, admin.status]).toEqual([200, 200, 403]);
      expect(admin.body).toMatchObject(kind.forbidden);
      // The read-only key may already be cached by earlier tests: at most one call for all three requests.
      expect(env.gateway.authorizerCalls() - before).toBeLessThanOrEqual(1);
    });

    it('does not let an Allow cached on one route admit a route the principal may not call (a scope it lacks, a kind the route refuses)', async () => {
      const c = env.credentials;
      // Fresh cache entries: each credential is decided on a route it may call, then reused on one it may not.
      env.gateway.flushAuthorizerCache();
      const before = env.gateway.authorizerCalls();
      const pairs: [Record<string, string>, string, string][] = [
        // The read-only key lacks `admin`; /v1/api-keys takes users only. All four routes share one authorizer.
        [bearer(c.apiKeyRead), '/v1/customers', '/v1/admin/report'],
        [bearer(c.apiKeyWrite), '/v1/me', '/v1/api-keys'],
      ];
      for (const [headers, allowed, refused] of pairs) {
        expect((await call('GET', allowed, headers)).status).toBe(200);
        expect((await call('GET', refused, headers)).status).toBe(403);
      }
      // One decision per credential: the refusals came from the cached policies.
      expect(env.gateway.authorizerCalls() - before).toBe(2);
    });

    it('keys the service authorizer by X-Service-Name as well as Authorization', async () => {
      const c = env.credentials;
      const ok = await call('POST', '/internal/jobs', bearer(c.serviceSecret, { 'X-Service-Name': c.serviceName }), {});
      const before = env.gateway.authorizerCalls();

      // The same secret claiming another service: a new cache key, so the authorizer decides again (and refuses).
      const other = await call('POST', '/internal/jobs', bearer(c.serviceSecret, { 'X-Service-Name': 'payroll' }), {});

      expect(ok.status).toBe(202);
      expect(other.status).toBe(kind.refused);
      expect(env.gateway.authorizerCalls() - before).toBe(1);
    });
  });

  it("answers 403 (REST) on a method that requires a usage-plan key when the tenant's key is in no plan or it has none; an HTTP API has no usage plans", async () => {
    const db = new DynamoDBClient({});
    try {
      // A tenant whose usage key exists nowhere in API Gateway (not onboarded through the tool).
      await db.send(
        new PutItemCommand({
          TableName: env.tableName,
          Item: { pk: { S: 'TENANT#stray' }, sk: { S: 'TENANT' }, tenantId: { S: 'stray' }, status: { S: 'active' }, tier: { S: 'default' }, usageKey: { S: 'not-a-real-usage-key-000000' } },
        }),
      );
      const { key } = await new Directory(db, env.tableName).createApiKey({ tenantId: 'stray', name: 'k', scopes: ['customers:read'], prefix: 'gh', environment: 'test' });
      const res = await call('GET', '/v1/customers', bearer(key));
      expect(res).toMatchObject(kind.noUsagePlan);
      // A tenant with no usage-plan key at all: refused on REST (the stack requires one there), served behind an
      // HTTP API, whose stack requires none.
      await db.send(
        new PutItemCommand({ TableName: env.tableName, Item: { pk: { S: 'TENANT#bare' }, sk: { S: 'TENANT' }, tenantId: { S: 'bare' }, status: { S: 'active' }, tier: { S: 'default' } } }),
      );
      const bare = await new Directory(db, env.tableName).createApiKey({ tenantId: 'bare', name: 'k', scopes: ['customers:read'], prefix: 'gh', environment: 'test' });
      expect((await call('GET', '/v1/customers', bearer(bare.key))).status).toBe(kind.noUsageKeyStatus);
      // The same key of an onboarded tenant passes: only the usage plan is missing.
      expect((await call('GET', '/v1/customers', bearer(env.credentials.apiKeyRead))).status).toBe(200);
    } finally {
      db.destroy();
    }
  });
});

describe('REST API: the result cache and the authorizer\'s answers, with stand-in authorizers', () => {
  it('asks the authorizer again once the TTL has passed', async () => {
    let t = 1_000_000;
    const calls: string[] = [];
    const gateway = createLocalGateway({
      routes: example.routes,
      // Fault injection: an authorizer that records calls and allows everything, to observe caching alone.
      authorizer: async (event) => {
        calls.push(event.methodArn);
        return { principalId: 'p', policyDocument: { Version: '2012-10-17', Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: ['*'] }] }, context: { kind: 'user', principalId: 'p', tenantId: 't', scopes: '', issuer: 'x', subject: 'p', roles: '' } };
      },
      handlers: localHandlers({ dynamodb: {} as never, tableName: 'unused', apiKeyPrefix: 'gh', environment: 'test' }),
      resultTtlSeconds: 300,
      now: () => t,
    });
    const base = await gateway.listen();
    try {
      await call('GET', '/v1/me', bearer('a.b.c'), undefined, base);
      t += 299_000;
      await call('GET', '/v1/me', bearer('a.b.c'), undefined, base);
      t += 2_000;
      await call('GET', '/v1/me', bearer('a.b.c'), undefined, base);
      await call('GET', '/v1/me', bearer('x.y.z'), undefined, base);
      expect(calls).toHaveLength(3);
    } finally {
      await gateway.close();
    }
  });

  it('answers 500 when the authorizer returns a context value that is not a string, number or boolean', async () => {
    const gateway = createLocalGateway({
      routes: example.routes,
      // Fault injection: a context API Gateway refuses.
      authorizer: async () => ({
        principalId: 'p',
        policyDocument: { Version: '2012-10-17', Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: ['*'] }] },
        context: { nested: { tenant: 'x' } as never },
      }),
      handlers: localHandlers({ dynamodb: {} as never, tableName: 'unused', apiKeyPrefix: 'gh', environment: 'test' }),
      resultTtlSeconds: 0,
    });
    const base = await gateway.listen();
    try {
      const res = await call('GET', '/v1/me', bearer('a.b.c'), undefined, base);
      expect(res).toMatchObject({ status: 500, body: { error: 'internal_error' } });
    } finally {
      await gateway.close();
    }
  });
});

describe('REST API: usage plans', () => {
  it('throttles one tenant past its burst with 429 and Retry-After, and not another tenant', async () => {
    // Usage plans at 1x the tier (no headroom), so API Gateway's backstop answers before the handlers' limiter.
    const tiny = { ...example, rateLimits: { tiers: { default: { requestsPerMinute: 1, burst: 5 } }, usagePlanHeadroom: 1 } };
    const small = await provisionLocal({ stackConfig: tiny, port: 0, logger: quiet });
    try {
      const c = small.credentials;
      const statuses: number[] = [];
      let retryAfter: string | null = null;
      for (let i = 0; i < 8; i++) {
        const res = await call('GET', '/v1/me', bearer(c.apiKeyRead), undefined, c.baseUrl);
        statuses.push(res.status);
        if (res.status === 429) retryAfter = res.headers.get('retry-after');
      }
      const other = await call('GET', '/v1/me', bearer(c.otherTenantToken), undefined, c.baseUrl);

      expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429, 429]);
      expect(retryAfter).toBe('1');
      expect(other.status).toBe(200);
    } finally {
      await small.close();
    }
  });

  it('counts a quota and refuses past it; a key in no plan is NO_PLAN', async () => {
    let t = 0;
    const plans = new UsagePlans((key) => (key === 'k' ? { name: 'q', quota: { limit: 2, period: 'DAY' } } : undefined), () => t);

    const verdicts = [await plans.take('k'), await plans.take('k'), await plans.take('k')];
    t += 86_400_000;

    expect(verdicts).toEqual(['ok', 'ok', 'QUOTA_EXCEEDED']);
    expect(await plans.take('k')).toBe('ok');
    expect(await plans.take('unknown')).toBe('NO_PLAN');
  });
});
