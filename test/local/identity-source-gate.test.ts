import { type LocalWithCli, call, exampleConfig, startLocalWithCli } from '../support/local';

/**
 * The identity-source gate (issue 18) over HTTP against local mode on the example configuration: a request with no
 * credential to a signed route is refused 401 by the gateway without invoking the authorizer; a cookie route cannot
 * be gated, so the authorizer decides (and refuses) each such request itself.
 */
let local: LocalWithCli;
let base: string;
beforeAll(async () => {
  local = await startLocalWithCli(exampleConfig());
  base = local.env.credentials.baseUrl;
});
afterAll(() => local.close());

/** The answers to `n` requests and how many of them invoked the authorizer. */
async function flood(n: number, method: string, p: string, headers: Record<string, string> = {}): Promise<{ statuses: number[]; invocations: number }> {
  const before = local.env.gateway.authorizerCalls();
  const statuses: number[] = [];
  for (let i = 0; i < n; i++) statuses.push((await call(base, method, p, headers, { id: i })).status);
  return { statuses, invocations: local.env.gateway.authorizerCalls() - before };
}

describe('the identity-source gate in local mode', () => {
  it('refuses credential-less requests to a signed route with 401 without invoking the authorizer', async () => {
    const out = await flood(20, 'POST', '/v1/webhooks/stripe');

    expect(new Set(out.statuses)).toEqual(new Set([401]));
    expect(out.invocations).toBe(0);
  });

  it('lets any Authorization value through to the authorizer, which refuses a junk one itself', async () => {
    const out = await flood(5, 'POST', '/v1/webhooks/stripe', { Authorization: 'Bearer x' });

    expect(new Set(out.statuses)).toEqual(new Set([401]));
    expect(out.invocations).toBe(5);
  });

  it('cannot gate a cookie route: each credential-less request invokes the authorizer, which answers 401', async () => {
    const out = await flood(5, 'POST', '/v1/customers');

    expect(new Set(out.statuses)).toEqual(new Set([401]));
    expect(out.invocations).toBe(5);
  });
});
