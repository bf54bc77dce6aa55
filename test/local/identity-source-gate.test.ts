import { type LocalEnvironment, provisionLocal } from '../../local/provision';
import { call, exampleConfig, quietLogger } from '../support/local';

/**
 * The identity-source gate (issue 18) over HTTP against local mode on the example configuration, for both kinds of
 * API: a request with no credential to a signed route is refused 401 by the gateway without invoking the authorizer;
 * a cookie route cannot be gated, so the authorizer decides (and refuses) each such request itself: a 401 on REST, a
 * Deny (403) behind an HTTP API, which documents a 401 only for missing identity sources.
 */
const REFUSED_BY_AUTHORIZER = { rest: 401, http: 403 } as const;

describe.each(['rest', 'http'] as const)('the identity-source gate in local mode (%s API)', (api) => {
  let env: LocalEnvironment;
  let base: string;
  beforeAll(async () => {
    env = await provisionLocal({ stackConfig: exampleConfig(), port: 0, logger: quietLogger, api });
    base = env.credentials.baseUrl;
  });
  afterAll(() => env.close());

  /** The answers to `n` requests and how many of them invoked the authorizer. */
  async function flood(n: number, method: string, p: string, headers: Record<string, string> = {}): Promise<{ statuses: number[]; invocations: number }> {
    const before = env.gateway.authorizerCalls();
    const statuses: number[] = [];
    for (let i = 0; i < n; i++) statuses.push((await call(base, method, p, headers, { id: i })).status);
    return { statuses, invocations: env.gateway.authorizerCalls() - before };
  }

  it('refuses credential-less requests to a signed route with 401 without invoking the authorizer', async () => {
    const out = await flood(20, 'POST', '/v1/webhooks/stripe');

    expect(new Set(out.statuses)).toEqual(new Set([401]));
    expect(out.invocations).toBe(0);
  });

  it('lets any Authorization value through to the authorizer, which refuses a junk one itself', async () => {
    const out = await flood(5, 'POST', '/v1/webhooks/stripe', { Authorization: 'Bearer x' });

    expect(new Set(out.statuses)).toEqual(new Set([REFUSED_BY_AUTHORIZER[api]]));
    expect(out.invocations).toBe(5);
  });

  it('cannot gate a cookie route: each credential-less request invokes the authorizer, which refuses it', async () => {
    const out = await flood(5, 'POST', '/v1/customers');

    expect(new Set(out.statuses)).toEqual(new Set([REFUSED_BY_AUTHORIZER[api]]));
    expect(out.invocations).toBe(5);
  });
});
