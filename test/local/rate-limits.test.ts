import { bearer, call, exampleConfig, type LocalWithCli, startLocalWithCli } from '../support/local';

/**
 * Per-tenant rate limits end to end, in local mode: the default tier (100 a minute, bursts to 200) enforced by the
 * handlers' leasing limiter on the emulator's table (local mode is one container: it admits what it leased), with API Gateway's usage plans (2x headroom) behind it.
 */
let local: LocalWithCli;
let base: string;
beforeAll(async () => {
  local = await startLocalWithCli(exampleConfig());
  base = local.env.credentials.baseUrl;
});
afterAll(() => local.close());

const INTERVAL_MS = 60_000 / 100; // the default tier's emission interval

it('250 requests from one tenant: at most the burst (plus what refilled meanwhile) pass, the rest are 429 with an honest Retry-After; another tenant is not limited', async () => {
  const { apiKeyRead, otherTenantToken } = local.env.credentials;
  const ours: { status: number; headers: Headers }[] = [];
  const theirs: number[] = [];
  const started = Date.now();
  for (let i = 0; i < 250; i++) {
    ours.push(await call(base, 'GET', '/v1/customers', bearer(apiKeyRead)));
    if (i % 10 === 0) theirs.push((await call(base, 'GET', '/v1/customers', bearer(otherTenantToken))).status);
  }
  const elapsedMs = Date.now() - started;

  const passed = ours.filter((r) => r.status === 200);
  const limited = ours.filter((r) => r.status === 429);
  // GCRA: a full bucket admits the burst at once, then one more request per interval that has passed. One container
  // spends only tokens it leased within the run, so the lease TTL adds nothing here (it would across containers).
  const allowance = 200 + Math.floor(elapsedMs / INTERVAL_MS) + 1;
  expect(passed.length + limited.length).toBe(250);
  expect(passed.length).toBeGreaterThanOrEqual(200);
  expect(passed.length).toBeLessThanOrEqual(allowance);
  expect(limited.length).toBeGreaterThanOrEqual(250 - allowance);
  expect(theirs.every((s) => s === 200)).toBe(true);

  // Every answer says where the tenant stands; a 429 says when to come back.
  expect(passed[0]!.headers.get('ratelimit-limit')).toBe('200');
  expect(Number(passed[0]!.headers.get('ratelimit-remaining'))).toBe(199);
  const last = limited[limited.length - 1]!;
  const retryAfter = Number(last.headers.get('retry-after'));
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(Math.ceil(INTERVAL_MS / 1000));
  expect(last.headers.get('ratelimit-remaining')).toBe('0');

  // Honouring Retry-After lets the next request pass.
  await new Promise((r) => setTimeout(r, retryAfter * 1000));
  expect((await call(base, 'GET', '/v1/customers', bearer(apiKeyRead))).status).toBe(200);
}, 60_000);

it('a 429 from the limiter has the same JSON body as API Gateway throttling', async () => {
  const { apiKeyWrite } = local.env.credentials;
  let r = await call(base, 'GET', '/v1/me', bearer(apiKeyWrite));
  for (let i = 0; i < 260 && r.status !== 429; i++) r = await call(base, 'GET', '/v1/me', bearer(apiKeyWrite));
  expect(r.status).toBe(429);
  expect(r.body).toMatchObject({ error: 'too_many_requests', message: expect.stringMatching(/retry after \d+ second/) });
}, 60_000);

it('services are not limited per tenant (they have none)', async () => {
  const { serviceName, serviceSecret } = local.env.credentials;
  for (let i = 0; i < 5; i++) {
    const r = await call(base, 'POST', '/internal/jobs', bearer(serviceSecret, { 'X-Service-Name': serviceName }), { job: 'x' });
    expect(r.status).toBe(202);
    expect(r.headers.get('ratelimit-limit')).toBeNull();
  }
});
