import { allowAnswer, context, denyAnswer, stagePrefix } from '../../../lambdas/authorizer/answer';
import type { PolicyDocument } from '../../../lambdas/authorizer/policy';
import { API_ARN_PREFIX } from '../../support/fixture';
import { CONTEXT_KEYS, GATEWAY_CONTEXT_KEY, decodeGatewayContext } from '../../../contract/backend-headers';
import { apiKey, reasonOf, service, signer, user } from './steps';

/** The answer step alone: what API Gateway is handed for an allowed principal or a 403. */
const POLICY: PolicyDocument = { Version: '2012-10-17', Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: [`${API_ARN_PREFIX}/GET/v1/me`] }] };
const ACME = { tenantId: 'acme', status: 'active' as const, tier: 'pro', usageKey: 'usage-acme' };
/** Every context key empty: the authorizer sets them all, '' where the principal has none. */
const EMPTY = Object.fromEntries(CONTEXT_KEYS.map((k) => [k, '']));

describe('stage prefix', () => {
  it("is the method ARN's API and stage", () => {
    expect(stagePrefix({ methodArn: `${API_ARN_PREFIX}/GET/v1/me` })).toBe(API_ARN_PREFIX);
  });

  it("is an HTTP API route ARN's API and stage, the default stage `$default` included", () => {
    const prefix = 'arn:aws:execute-api:us-east-1:123456789012:abcdef1234/$default';
    expect(stagePrefix({ methodArn: `${prefix}/GET/v1/me` })).toBe(prefix);
  });

  it('refuses a method ARN that is not one as INTERNAL_ERROR', async () => {
    expect(await reasonOf(() => stagePrefix({ methodArn: 'arn:aws:lambda:us-east-1:123456789012:function:x' }))).toBe('INTERNAL_ERROR');
    expect(await reasonOf(() => stagePrefix({}))).toBe('INTERNAL_ERROR');
  });
});

describe('allow answer', () => {
  it("hands over the policy, the principal's id and context, and the tenant's usage-plan key", () => {
    const answer = allowAnswer(apiKey({ keyId: 'key_1', tenantId: 'acme' }), POLICY, ACME, true);

    expect(answer).toEqual({
      principalId: 'key_1',
      policyDocument: POLICY,
      context: { ...EMPTY, kind: 'apiKey', principalId: 'key_1', tenantId: 'acme', scopes: '', tier: 'pro', keyId: 'key_1', [GATEWAY_CONTEXT_KEY]: expect.any(String) },
      usageIdentifierKey: 'usage-acme',
    });
  });

  it.each([
    ['a user with everything', () => user({ tenantId: 'acme', scopes: ['a', 'b'], roles: ['admin', 'member'], email: 'u@example.com', sessionId: 's-1' }), ACME],
    ['a user with nothing optional', () => user({ tenantId: undefined, email: undefined, sessionId: undefined, roles: [], scopes: [] }), undefined],
    ['an API key without scopes', () => apiKey({ keyId: 'key_1', tenantId: 'acme', scopes: [] }), ACME],
    ['a service', () => service(), undefined],
    ['a signer', () => signer(), undefined],
  ] as const)("encodes the context for HTTP backends (X-Gatehouse-Context), never empty, for %s", (_name, make, tenant) => {
    const principal = make();
    const ctx = allowAnswer(principal, POLICY, tenant, true).context!;
    const encoded = ctx[GATEWAY_CONTEXT_KEY];

    expect(encoded).toMatch(/^[A-Za-z0-9_-]+$/);
    // The same context the handlers get, without the keys that are '' (nor itself).
    const expected = Object.fromEntries(Object.entries(context(principal, tenant)).filter(([, v]) => v !== ''));
    expect(decodeGatewayContext(encoded as string)).toEqual(expected);
    expect(JSON.parse(Buffer.from(encoded as string, 'base64url').toString('utf8'))).toEqual(expected);
    expect(expected).toMatchObject({ kind: principal.kind, principalId: expect.any(String) });
  });

  it('leaves out of the encoded context what a caller lacks: no roles, scopes or email for a key without them', () => {
    const decoded = decodeGatewayContext(allowAnswer(apiKey({ keyId: 'key_1', tenantId: 'acme', scopes: [] }), POLICY, undefined, true).context![GATEWAY_CONTEXT_KEY] as string);

    expect(decoded).toEqual({ kind: 'apiKey', principalId: 'key_1', tenantId: 'acme', keyId: 'key_1' });
  });

  it('has no usage-plan key when the tenant has none, or there is no tenant', () => {
    expect(allowAnswer(user(), POLICY, { ...ACME, usageKey: undefined })).not.toHaveProperty('usageIdentifierKey');
    expect(allowAnswer(service(), POLICY, undefined)).not.toHaveProperty('usageIdentifierKey');
  });
});

describe('context', () => {
  it("gives handlers a user's ids, roles and scopes as flat strings", () => {
    const u = user({ tenantId: 'acme', scopes: ['a', 'b'], roles: ['admin', 'member'], email: 'u@example.com', sessionId: 's-1' });

    expect(context(u, ACME)).toEqual({
      ...EMPTY,
      kind: 'user', principalId: 'user-1', tenantId: 'acme', scopes: 'a b', tier: 'pro',
      issuer: 'supabase', subject: 'user-1', roles: 'admin member', email: 'u@example.com', sessionId: 's-1',
    });
  });

  it('gives services and signers an empty tenant, and a signer the body hash its signature covers', () => {
    expect(context(service(), undefined)).toEqual({ ...EMPTY, kind: 'service', principalId: 'service:billing', tenantId: '', scopes: 'jobs:run', service: 'billing' });
    expect(context(signer(), undefined)).toMatchObject({ kind: 'signed', principalId: 'signer:stripe-relay', tenantId: '', signer: 'stripe-relay', bodySha256: 'a'.repeat(64) });
  });

  it('gives a user without a tenant an empty tenant id and an empty tier', () => {
    expect(context(user({ tenantId: undefined }), undefined)).toMatchObject({ tenantId: '', tier: '' });
  });

  it.each([
    ['a user with everything', () => context(user({ tenantId: 'acme', email: 'u@example.com', sessionId: 's-1' }), ACME)],
    ['a user with nothing optional', () => context(user({ tenantId: undefined, email: undefined, sessionId: undefined, roles: [], scopes: [] }), undefined)],
    ['an API key', () => context(apiKey({ keyId: 'key_1', tenantId: 'acme' }), ACME)],
    ['a service', () => context(service(), undefined)],
    ['a signer', () => context(signer(), undefined)],
  ])('has every context key, each a string, for %s', (_name, make) => {
    const c = make();

    // Handlers read every key (lambdas/shared/auth-context.ts): none may be missing.
    expect(Object.keys(c).sort()).toEqual([...CONTEXT_KEYS].sort());
    for (const value of Object.values(c)) expect(typeof value).toBe('string');
  });

  it("leaves other kinds' keys empty", () => {
    expect(context(apiKey({ keyId: 'key_1', tenantId: 'acme' }), ACME)).toMatchObject({ issuer: '', subject: '', email: '', service: '', signer: '', bodySha256: '' });
    expect(context(signer(), undefined)).toMatchObject({ tenantId: '', tier: '', keyId: '', issuer: '', service: '' });
  });
});

describe('allow answer on an HTTP API (payload 2.0)', () => {
  it('is the same policy, principal and context, without a usage-plan key (HTTP APIs have no usage plans)', () => {
    const rest = allowAnswer(apiKey({ keyId: 'key_1', tenantId: 'acme' }), POLICY, ACME, true);
    const http = allowAnswer(apiKey({ keyId: 'key_1', tenantId: 'acme' }), POLICY, ACME, true, 'http-2.0');

    expect(rest.usageIdentifierKey).toBe('usage-acme');
    expect(http).not.toHaveProperty('usageIdentifierKey');
    expect(http).toEqual({ principalId: rest.principalId, policyDocument: rest.policyDocument, context: rest.context });
  });
});

describe('deny answer', () => {
  it('denies the whole stage, naming the principal when one was verified', () => {
    expect(denyAnswer(user(), `${API_ARN_PREFIX}/GET/v1/me`)).toEqual({
      principalId: 'user-1',
      policyDocument: { Version: '2012-10-17', Statement: [{ Action: 'execute-api:Invoke', Effect: 'Deny', Resource: [`${API_ARN_PREFIX}/*`] }] },
    });
  });

  it("denies everything, as 'anonymous', when there is neither a principal nor a usable method ARN", () => {
    expect(denyAnswer(undefined, 'nonsense')).toEqual({
      principalId: 'anonymous',
      policyDocument: { Version: '2012-10-17', Statement: [{ Action: 'execute-api:Invoke', Effect: 'Deny', Resource: ['*'] }] },
    });
  });
});
