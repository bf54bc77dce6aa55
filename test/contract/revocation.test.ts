import { readFileSync } from 'node:fs';
import path from 'node:path';
import { type AuthorizerConfigInput, parseConfig } from '../../contract/config';
import { revocationBoundSeconds } from '../../contract/revocation';
import { DEFAULT_AUTHORIZER_RESULT_TTL_SECONDS, parseStackConfig, stackRevocationBounds } from '../../contract/stack-config';

/** The worst-case delay of each kind of revocation: the authorizer's cache TTL for the record + API Gateway's result TTL. */
const base: AuthorizerConfigInput = {
  environment: 'live',
  tableName: 'gatehouse-test',
  issuers: [
    { type: 'supabase', url: 'https://abcd.supabase.co', hs256SecretId: 'jwt', revokedSessions: true, sessionCacheTtlSeconds: 20 },
    { type: 'workos', clientId: 'client_1', revokedSessions: true, sessionCacheTtlSeconds: 45 },
    { type: 'oidc', issuer: 'https://login.example.com/', keys: { jwksUrl: 'https://login.example.com/jwks' }, algorithms: ['RS256'], audience: 'a', sessionCacheTtlSeconds: 900 },
  ],
  apiKeys: { prefix: 'gh', cacheTtlSeconds: 60 },
  tenants: { verify: true, cacheTtlSeconds: 120 },
  membership: { cacheTtlSeconds: 30 },
  routes: [{ method: 'GET', path: '/v1/me', accepts: ['user', 'apiKey'] }],
};

describe('revocationBoundSeconds', () => {
  it('adds the result TTL to each record cache TTL; with a flush (issued once that TTL has passed) only the cache TTL counts', () => {
    expect(revocationBoundSeconds(parseConfig(base), 300)).toEqual({
      apiKeyRevoked: { seconds: 360, withFlushSeconds: 60, flushAfterSeconds: 60 },
      tenantSuspended: { seconds: 420, withFlushSeconds: 120, flushAfterSeconds: 120 },
      memberRemoved: { seconds: 330, withFlushSeconds: 30, flushAfterSeconds: 30 },
      // The largest TTL among issuers that check the deny list (the oidc issuer's 900 s does not count: it does not).
      sessionRevoked: { seconds: 345, withFlushSeconds: 45, flushAfterSeconds: 45 },
      // records.staleIfErrorSeconds (300): how much later the record changes may take effect during an outage.
      outageExtraSeconds: 300,
    });
  });

  it('says how long a DynamoDB outage can extend the record bounds, and nothing when stale-if-error is 0', () => {
    expect(revocationBoundSeconds(parseConfig({ ...base, records: { staleIfErrorSeconds: 120 } }), 300).outageExtraSeconds).toBe(120);
    expect(revocationBoundSeconds(parseConfig({ ...base, records: { staleIfErrorSeconds: 0 } }), 300)).not.toHaveProperty('outageExtraSeconds');
  });

  it('uses the defaults: API keys 60 s, tenants 60 s, members 60 s, sessions 30 s', () => {
    const doc = {
      ...base,
      issuers: [{ type: 'supabase', url: 'https://abcd.supabase.co', hs256SecretId: 'jwt', revokedSessions: true }],
      apiKeys: { prefix: 'gh' },
      tenants: {},
      membership: {},
    } as AuthorizerConfigInput;
    const b = revocationBoundSeconds(parseConfig(doc), 300);
    expect([b.apiKeyRevoked?.seconds, b.tenantSuspended?.seconds, b.memberRemoved?.seconds, b.sessionRevoked?.seconds]).toEqual([360, 360, 360, 330]);
  });

  it('leaves out what the configuration does not check (the change would never take effect through the authorizer)', () => {
    const doc = {
      ...base,
      issuers: [{ type: 'supabase', url: 'https://abcd.supabase.co', hs256SecretId: 'jwt' }],
      apiKeys: undefined,
      tenants: { verify: false },
      membership: undefined,
      routes: [{ method: 'GET', path: '/v1/me', accepts: ['user'] }],
    } as AuthorizerConfigInput;
    expect(revocationBoundSeconds(parseConfig(doc), 300)).toEqual({});
  });

  it('with both caches off, takes effect at once', () => {
    const doc = {
      ...base,
      issuers: [{ type: 'supabase', url: 'https://abcd.supabase.co', hs256SecretId: 'jwt', revokedSessions: true, sessionCacheTtlSeconds: 0 }],
      apiKeys: { prefix: 'gh', cacheTtlSeconds: 0 },
      tenants: { cacheTtlSeconds: 0 },
      membership: { cacheTtlSeconds: 0 },
    } as AuthorizerConfigInput;
    const { outageExtraSeconds: _outage, ...bounds } = revocationBoundSeconds(parseConfig(doc), 0);
    expect(Object.values(bounds).map((b) => b.seconds)).toEqual([0, 0, 0, 0]);
  });

  it.each([-1, 3601, 1.5, Number.NaN])('refuses a result TTL API Gateway would not accept (%p)', (ttl) => {
    expect(() => revocationBoundSeconds(parseConfig(base), ttl)).toThrow(RangeError);
  });
});

describe('stackRevocationBounds', () => {
  const example = JSON.parse(readFileSync(path.resolve(__dirname, '../../config/gatehouse.example.json'), 'utf8'));

  it("uses the stack's own result TTL (deployment.authorizerResultTtlSeconds, default 300)", () => {
    const { deployment: _d, ...withoutDeployment } = example;
    const stack = parseStackConfig(withoutDeployment);
    const keyTtl = stack.authorizer.apiKeys!.cacheTtlSeconds;
    expect(DEFAULT_AUTHORIZER_RESULT_TTL_SECONDS).toBe(300);
    expect(stack.deployment.authorizerResultTtlSeconds).toBe(300);
    expect(stackRevocationBounds(stack).apiKeyRevoked).toEqual({ seconds: keyTtl + 300, withFlushSeconds: keyTtl, flushAfterSeconds: keyTtl });
    const short = parseStackConfig({ ...example, deployment: { authorizerResultTtlSeconds: 30 } });
    expect(stackRevocationBounds(short).tenantSuspended?.seconds).toBe(short.authorizer.tenants.cacheTtlSeconds + 30);
  });
});
