import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { demoRequests, requestExamples } from '../../local/examples';
import { type LocalEnvironment, provisionLocal } from '../../local/provision';
import { call, quietLogger } from '../support/local';

/**
 * The requests local mode prints come from the route table it serves: for a configuration that is not the
 * example's (other paths, scopes, service, signer and cookie names), every printed request with a status answers
 * that status, the printed signed-request recipe works, and every configured service and signer has a secret.
 */
const config = {
  environment: 'live',
  issuers: [{ type: 'supabase', url: 'https://qrstuvwxyz.supabase.co', jwks: true, scopesClaim: 'app_metadata.scopes' }],
  apiKeys: { prefix: 'acme' },
  services: [{ name: 'billing', scopes: ['jobs:run'] }],
  signers: [{ name: 'relay', scopes: ['hooks:write'] }],
  routes: [
    { method: 'GET', path: '/ping', public: true, handler: 'health' },
    { method: 'GET', path: '/api/whoami', accepts: ['user', 'apiKey'], scopes: ['profile:read'], handler: 'me' },
    { method: 'GET', path: '/api/web/whoami', accepts: ['user'], cookie: 'app-session', handler: 'me' },
    { method: 'GET', path: '/api/people', accepts: ['apiKey', 'user'], scopes: ['people:read'], handler: 'customers' },
    { method: 'POST', path: '/api/people', accepts: ['apiKey', 'user'], scopes: ['people:write'], cookie: 'app-session', handler: 'customers' },
    { method: 'GET', path: '/api/people/{id}', accepts: ['apiKey', 'user'], scopes: ['people:read'], handler: 'customers' },
    { method: 'GET', path: '/v1/api-keys', accepts: ['user'], handler: 'api-keys' },
    { method: 'POST', path: '/v1/api-keys', accepts: ['user'], handler: 'api-keys' },
    { method: 'POST', path: '/jobs', accepts: ['service'], scopes: ['jobs:run'], handler: 'internal-jobs' },
    { method: 'POST', path: '/hooks/{source}', accepts: ['signed'], scopes: ['hooks:write'], handler: 'webhooks' },
  ],
};

let env: LocalEnvironment;
beforeAll(async () => {
  env = await provisionLocal({ stackConfig: config, port: 0, logger: quietLogger });
}, 60_000);
afterAll(() => env?.close());

it('gives every configured service and signer a secret, and the demo credentials the route table scopes', () => {
  const c = env.credentials;
  expect(c.services).toEqual([{ name: 'billing', secret: expect.stringMatching(/.{20,}/), scopes: ['jobs:run'] }]);
  expect([c.serviceName, c.serviceSecret]).toEqual(['billing', c.services[0]!.secret]);
  expect([c.signerName, c.signerSecret.length > 20]).toEqual(['relay', true]);
  // The route table's scopes, and customers:* which the customers handler checks itself.
  expect(c.scopes).toEqual(['customers:read', 'customers:write', 'hooks:write', 'jobs:run', 'people:read', 'people:write', 'profile:read']);
  expect(c.readScopes).toEqual(['customers:read', 'people:read', 'profile:read']);
  expect(c.standIns.map((s) => s.id)).toEqual(['supabase']);
});

it('prints a request for every route a demo credential can call, each answering the status printed', async () => {
  const printed = demoRequests(env.credentials);
  const routes = new Set(printed.map((r) => `${r.method} ${r.path}`));
  for (const want of ['GET /ping', 'GET /api/whoami', 'GET /api/web/whoami', 'GET /api/people', 'POST /api/people', 'GET /v1/api-keys', 'POST /v1/api-keys', 'POST /jobs']) expect(routes).toContain(want);
  expect(printed.some((r) => r.path.startsWith('/v1/customers'))).toBe(false);
  // The customers handler answers on its own paths only: elsewhere its answer is not promised.
  expect(printed.find((r) => r.method === 'GET' && r.path === '/api/people')).not.toHaveProperty('expect');
  expect(printed.map((r) => r.expect)).toEqual(expect.arrayContaining([200, 201, 202, 401, 403, 404]));
  for (const r of printed.filter((x) => x.expect !== undefined)) {
    const { status } = await call(env.credentials.baseUrl, r.method, r.path, { ...r.headers }, r.body);
    expect({ request: r.title, status }).toEqual({ request: r.title, status: r.expect });
  }
});

it('prints a signed-request recipe for its signed route that works, and whose replay is refused', async () => {
  const text = requestExamples(env.credentials, '.local/demo-credentials.json');
  expect(text).toContain(`${env.credentials.baseUrl}/hooks/stripe`);
  const lines = text.split('\n');
  const start = lines.findIndex((l) => l.startsWith('export GATEHOUSE_SIGNER=relay '));
  const script = lines.slice(start, lines.findIndex((l, i) => i > start && l === '')).join('\n');
  const run = await promisify(execFile)('bash', ['-c', `set -e\n${script.replace('-s -i', "-s -o /dev/null -w '%{http_code}\\n'")}`], {
    cwd: path.resolve(__dirname, '../..'),
    encoding: 'utf8',
    timeout: 30_000,
  });
  expect(run.stdout.trim().split('\n')).toEqual(['202', '202', '401']);
});

it('says which kind of API it emulates, and prints the authorizer refusals of that kind (401 on REST, 403 behind an HTTP API)', () => {
  const rest = requestExamples(env.credentials, 'f.json');
  const http = requestExamples({ ...env.credentials, api: 'http' }, 'f.json');
  expect(rest).toContain('as an API Gateway REST API');
  expect(http).toContain('as an API Gateway HTTP API');
  expect(rest).toMatch(/twice -> 202, then 401/);
  expect(http).toMatch(/twice -> 202, then 403/);
  const both = (c: typeof env.credentials) => demoRequests(c).find((r) => r.title.startsWith('Browser: a cookie and an Authorization header'))?.expect;
  expect([both(env.credentials), both({ ...env.credentials, api: 'http' })]).toEqual([401, 403]);
});
