import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { decodeGatewayContext } from '../../contract/backend-headers';
import type { LogFields, Logger } from '../../contract/log';
import { createOrdersApp } from '../../examples/express-backend/server';
import { demoRequests, requestExamples } from '../../local/examples';
import { type LocalEnvironment, provisionLocal } from '../../local/provision';
import { bearer, call, quietLogger } from '../support/local';

/**
 * Bringing your own API, end to end in local mode: a team's handler file named by the configuration only, the
 * Express example as an HTTP backend (what it receives, what it never receives), a backend that is down or slow, a
 * handler that is an existing function, and the requests local mode prints for such a configuration.
 */
const ROOT = path.resolve(__dirname, '../..');
const readJson = (p: string) => JSON.parse(readFileSync(path.join(ROOT, p), 'utf8')) as Record<string, any>;
const listen = (server: Server) => new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
const closeServer = (server: Server) => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve())));

describe.each(['rest', 'http'] as const)('a team handler file, added by configuration only (%s API)', (api) => {
  let env: LocalEnvironment;
  let tmp: string;
  const lines: { message: string; fields?: LogFields }[] = [];
  const capture: Logger = { ...quietLogger, error: (message: string, fields?: LogFields) => void lines.push({ message, ...(fields ? { fields } : {}) }) };

  beforeAll(async () => {
    // The example configuration and handler file copied to a folder of their own: the entry is relative to it.
    tmp = mkdtempSync(path.join(os.tmpdir(), 'gatehouse-own-handler-'));
    writeFileSync(path.join(tmp, 'orders.ts'), readFileSync(path.join(ROOT, 'examples/own-handler/orders.ts')));
    const config = readJson('examples/own-handler/gatehouse.json');
    config.routes.push({ method: 'GET', path: '/v1/legacy', accepts: ['user', 'apiKey'], handler: 'legacy' });
    config.handlers.legacy = { functionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:legacy-api' };
    env = await provisionLocal({ stackConfig: config, port: 0, configDir: tmp, buildDir: path.join(tmp, 'build'), logger: quietLogger, gatewayLogger: capture, api });
  }, 60_000);
  afterAll(async () => {
    await env?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  it("answers with the caller's tenant, from the bundled file, for a user and an API key", async () => {
    const c = env.credentials;
    const asUser = await call(c.baseUrl, 'GET', '/v1/orders', bearer(c.userTokenHs256));
    expect(asUser).toMatchObject({ status: 200, body: { tenantId: 'demo', kind: 'user', principalId: expect.any(String), orders: [] } });
    const other = await call(c.baseUrl, 'GET', '/v1/orders', bearer(c.otherTenantToken));
    expect(other).toMatchObject({ status: 200, body: { tenantId: 'globex' } });
    // The demo keys carry the route table's scopes (orders:read), not only customers:*.
    const asKey = await call(c.baseUrl, 'GET', '/v1/orders', bearer(c.apiKeyRead));
    expect(asKey).toMatchObject({ status: 200, body: { tenantId: 'demo', kind: 'apiKey' } });
    expect((await call(c.baseUrl, 'GET', '/v1/orders')).status).toBe(401);
  });

  it('answers 502 (REST) or 500 (HTTP API) on a route whose handler is an existing function, with the reason in the gateway log line', async () => {
    expect(env.unavailableRoutes).toEqual([{ route: 'GET /v1/legacy', name: 'legacy', functionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:legacy-api' }]);
    const r = await call(env.credentials.baseUrl, 'GET', '/v1/legacy', bearer(env.credentials.apiKeyRead));
    // A failed Lambda integration: REST's 502, an HTTP API's 500 ({"message":"Internal Server Error"}).
    const status = api === 'rest' ? 502 : 500;
    expect(r.status).toBe(status);
    expect(lines.at(-1)).toMatchObject({ message: 'gateway 5xx', fields: { status, reason: 'handler_error: ExistingFunctionNotLocal' } });
  });

  it('prints requests for its own routes, each answering as printed', async () => {
    const printed = demoRequests(env.credentials);
    expect(printed.map((r) => r.path)).toEqual(expect.arrayContaining(['/health', '/v1/orders', '/v1/legacy']));
    expect(printed.some((r) => r.path.startsWith('/v1/customers'))).toBe(false);
    for (const r of printed.filter((x) => x.expect !== undefined)) {
      const { status } = await call(env.credentials.baseUrl, r.method, r.path, { ...r.headers }, r.body);
      expect({ request: r.title, status }).toEqual({ request: r.title, status: r.expect });
    }
  });
});

describe.each(['rest', 'http'] as const)('the Express example as an HTTP backend (%s API)', (api) => {
  // The authorizer's own refusals: 401 on REST, a Deny (403) behind an HTTP API.
  const refused = api === 'rest' ? 401 : 403;
  let env: LocalEnvironment;
  let app: Server;
  let slow: Server;
  let downPort: number;
  const seen: Record<string, string | string[] | undefined>[] = [];
  const lines: { message: string; fields?: LogFields }[] = [];
  const capture: Logger = { ...quietLogger, error: (message: string, fields?: LogFields) => void lines.push({ message, ...(fields ? { fields } : {}) }) };
  // The authorizer's decision lines (their reason codes).
  const decisions: LogFields[] = [];
  const authorizerLog: Logger = { ...quietLogger, info: (message: string, fields?: LogFields) => void (message === 'decision' && fields && decisions.push(fields)) };

  beforeAll(async () => {
    app = createServer(createOrdersApp({ onRequest: (h) => void seen.push(h) }));
    const appPort = await listen(app);
    slow = createServer((_req, res) => void setTimeout(() => res.end('late'), 1_500));
    const slowPort = await listen(slow);
    const down = createServer();
    downPort = await listen(down);
    await closeServer(down); // a port nothing listens on any more
    const config = readJson('examples/express-backend/gatehouse.json');
    config.backends.orders.localUrl = `http://127.0.0.1:${appPort}`;
    config.backends.slow = { url: 'https://slow.example.com', localUrl: `http://127.0.0.1:${slowPort}`, timeoutMs: 300 };
    config.backends.down = { url: 'https://down.example.com', localUrl: `http://127.0.0.1:${downPort}`, timeoutMs: 2_000 };
    config.routes.push(
      { method: 'GET', path: '/v1/public-orders', public: true, backend: 'orders' },
      { method: 'GET', path: '/v1/slow', accepts: ['apiKey'], backend: 'slow' },
      { method: 'GET', path: '/v1/down', accepts: ['apiKey'], backend: 'down' },
    );
    env = await provisionLocal({ stackConfig: config, port: 0, logger: authorizerLog, gatewayLogger: capture, api });
  }, 60_000);
  afterAll(async () => {
    await env?.close();
    await Promise.all([app, slow].map((s) => s && closeServer(s)));
  });

  const decoded = (h: Record<string, string | string[] | undefined>) => decodeGatewayContext(h['x-gatehouse-context']);
  const gatehouseNames = (h: Record<string, unknown>) => Object.keys(h).filter((k) => k.startsWith('x-gatehouse-')).sort();

  it("receives the caller's context in X-Gatehouse-Context, and the request id", async () => {
    const c = env.credentials;
    seen.length = 0;
    const created = await call(c.baseUrl, 'POST', '/v1/orders?source=test', bearer(c.apiKeyWrite), { item: 'tea', quantity: 2 });
    expect(created).toMatchObject({ status: 201, body: { tenantId: 'demo', order: { item: 'tea', quantity: 2 } } });
    const listed = await call(c.baseUrl, 'GET', '/v1/orders', bearer(c.userTokenHs256));
    expect(listed).toMatchObject({ status: 200, body: { tenantId: 'demo', caller: { kind: 'user', principalId: expect.any(String) }, orders: [{ item: 'tea' }] } });
    expect(listed.headers.get('x-powered-by')).toBe('Express'); // the backend's own headers come back

    expect(seen).toHaveLength(2);
    for (const h of seen) {
      // Only the gateway's two headers, whatever the caller: no header per context key.
      expect(gatehouseNames(h)).toEqual(['x-gatehouse-context', 'x-gatehouse-request-id']);
      expect(h['x-gatehouse-context']).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(decoded(h)).toMatchObject({ tenantId: 'demo', principalId: expect.any(String) });
      expect(h['x-gatehouse-request-id']).toEqual(expect.stringMatching(/^[0-9a-f-]{36}$/));
      expect(h.authorization).toMatch(/^Bearer /);
    }
    const [asKey, asUser] = seen.map(decoded);
    expect(asKey).toMatchObject({ kind: 'apiKey', keyId: expect.any(String) });
    expect(asKey!.scopes?.split(' ')).toContain('orders:write');
    // What a caller lacks is absent, not empty: an API key has no roles and no email.
    expect(asKey).not.toHaveProperty('roles');
    expect(asKey).not.toHaveProperty('email');
    expect(asUser).toMatchObject({ kind: 'user', issuer: expect.any(String), subject: expect.any(String) });
  });

  it('refuses a request that carries its own X-Gatehouse-* header (any case) with its reason: it never reaches the backend', async () => {
    const c = env.credentials;
    seen.length = 0;
    decisions.length = 0;
    const forgedContext = Buffer.from(JSON.stringify({ kind: 'user', principalId: 'admin', tenantId: 'demo', scopes: 'orders:write', roles: 'admin' })).toString('base64url');
    const forgeries: Record<string, string>[] = [
      { 'X-Gatehouse-Context': forgedContext },
      { 'X-Gatehouse-Scopes': 'orders:write' },
      { 'x-gatehouse-roles': 'admin' },
      { 'X-GATEHOUSE-ANYTHING': 'forged' },
    ];
    for (const forged of forgeries) {
      // Credentials no earlier request got an answer for (nothing cached): a read-only key, another tenant's user.
      const key = await call(c.baseUrl, 'POST', '/v1/orders', bearer(c.apiKeyRead, forged), { item: 'forged' });
      const asUser = await call(c.baseUrl, 'GET', '/v1/orders', bearer(c.otherTenantToken, forged));
      expect({ forged, statuses: [key.status, asUser.status] }).toEqual({ forged, statuses: [refused, refused] });
    }
    expect(seen).toEqual([]);
    // REST caches no 401: the authorizer decides each forgery. Behind an HTTP API the refusal is a Deny policy,
    // which the gateway caches by the credential like any answer: one decision per credential, the rest from cache.
    const decided = api === 'rest' ? forgeries.length * 2 : 2;
    expect(decisions.map((d) => d.reason)).toEqual(Array(decided).fill('CONTEXT_HEADER_FROM_CLIENT'));
    const clean = async () => [
      (await call(c.baseUrl, 'GET', '/v1/orders', bearer(c.otherTenantToken))).status,
      (await call(c.baseUrl, 'GET', '/v1/orders', bearer(c.apiKeyRead))).status,
    ];
    if (api === 'http') {
      // Until the TTL passes (or a flush), the same credentials without the headers get the cached Deny too.
      expect(await clean()).toEqual([403, 403]);
      env.gateway.flushAuthorizerCache();
    }
    // The same credentials without them are allowed.
    expect(await clean()).toEqual([200, 200]);
  });

  it("gives the backend the gateway's context, never the client's, when a cached answer lets a forged header through", async () => {
    const c = env.credentials;
    // The read-only key's Allow is cached (the test before): API Gateway answers from its cache without asking the
    // authorizer, so its refusal cannot help here. The header the gateway writes is what the backend gets.
    seen.length = 0;
    decisions.length = 0;
    const forgedContext = Buffer.from(JSON.stringify({ kind: 'user', principalId: 'admin', tenantId: 'globex', scopes: 'orders:write', roles: 'admin' })).toString('base64url');
    const r = await call(c.baseUrl, 'GET', '/v1/orders', bearer(c.apiKeyRead, { 'X-Gatehouse-Context': forgedContext, 'X-Gatehouse-Roles': 'admin', 'X-Gatehouse-Tenant-Id': 'globex' }));
    expect(r).toMatchObject({ status: 200, body: { tenantId: 'demo', caller: { kind: 'apiKey' } } });
    expect(decisions).toEqual([]); // answered from the cache
    expect(seen).toHaveLength(1);
    expect(gatehouseNames(seen[0]!)).toEqual(['x-gatehouse-context', 'x-gatehouse-request-id']);
    expect(decoded(seen[0]!)).toMatchObject({ kind: 'apiKey', tenantId: 'demo' });
    expect(decoded(seen[0]!)).not.toHaveProperty('roles');
  });

  it("strips a client's X-Gatehouse-* headers on a public route: the backend gets the public context, and the example refuses it", async () => {
    seen.length = 0;
    const forgedContext = Buffer.from(JSON.stringify({ kind: 'user', principalId: 'u', tenantId: 'demo', scopes: 'orders:read' })).toString('base64url');
    const forged = { 'X-Gatehouse-Context': forgedContext, 'X-Gatehouse-Scopes': 'orders:write', 'X-Gatehouse-Anything': 'forged', 'x-gatehouse-tenant-id': 'demo' };
    const r = await call(env.credentials.baseUrl, 'GET', '/v1/public-orders', forged);
    expect(r).toMatchObject({ status: 401, body: { error: 'unauthorized', message: 'requests come through the gateway' } });
    expect(seen).toHaveLength(1);
    expect(gatehouseNames(seen[0]!)).toEqual(['x-gatehouse-context', 'x-gatehouse-request-id']);
    expect(decoded(seen[0]!)).toEqual({ kind: 'public' });
  });

  it('answers 504 when the backend is slower than its timeout, and 502 when it is unreachable, each with a reason in the log', async () => {
    const key = bearer(env.credentials.apiKeyRead);
    const started = Date.now();
    const late = await call(env.credentials.baseUrl, 'GET', '/v1/slow', key);
    expect(late.status).toBe(504);
    expect(Date.now() - started).toBeLessThan(1_400);
    expect(lines.at(-1)).toMatchObject({ fields: { status: 504, reason: expect.stringMatching(/^backend_timeout: slow/) } });
    const down = await call(env.credentials.baseUrl, 'GET', '/v1/down', key);
    expect(down).toMatchObject({ status: 502, body: api === 'rest' ? { requestId: expect.any(String) } : { message: 'Bad Gateway' } });
    expect(lines.at(-1)).toMatchObject({ fields: { status: 502, reason: expect.stringMatching(/^backend_unreachable: down .*ECONNREFUSED/) } });
  });

  it('prints requests for its own routes (each answering as printed) and no example route of another configuration', async () => {
    const c = env.credentials;
    const text = requestExamples(c, '.local/demo-credentials.json');
    expect(text).toContain(`${c.baseUrl}/v1/orders`);
    expect(text).not.toContain('/v1/customers');
    expect(text).not.toContain('/internal/jobs');
    const printed = demoRequests(c);
    const post = printed.find((r) => r.path === '/v1/orders' && r.method === 'POST');
    expect(post).toMatchObject({ title: expect.stringContaining('backend "orders"'), body: { example: true } });
    expect(post).not.toHaveProperty('expect'); // the backend's answer: local mode cannot know it
    const known = printed.filter((r) => r.expect !== undefined);
    expect(known.map((r) => r.expect)).toEqual(expect.arrayContaining([200, 401, 403, 404]));
    for (const r of known) {
      const { status } = await call(c.baseUrl, r.method, r.path, { ...r.headers }, r.body);
      expect({ request: r.title, status }).toEqual({ request: r.title, status: r.expect });
    }
  });
});
