import { allowAnswer, context, denyAnswer, stagePrefix } from '../../../lambdas/authorizer/answer';
import type { PolicyDocument } from '../../../lambdas/authorizer/policy';
import { API_ARN_PREFIX } from '../../support/fixture';
import { apiKey, reasonOf, service, signer, user } from './steps';

/** The answer step alone: what API Gateway is handed for an allowed principal or a 403. */
const POLICY: PolicyDocument = { Version: '2012-10-17', Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: [`${API_ARN_PREFIX}/GET/v1/me`] }] };
const ACME = { tenantId: 'acme', status: 'active' as const, tier: 'pro', usageKey: 'usage-acme' };

describe('stage prefix', () => {
  it("is the method ARN's API and stage", () => {
    expect(stagePrefix({ methodArn: `${API_ARN_PREFIX}/GET/v1/me` })).toBe(API_ARN_PREFIX);
  });

  it('refuses a method ARN that is not one as INTERNAL_ERROR', async () => {
    expect(await reasonOf(() => stagePrefix({ methodArn: 'arn:aws:lambda:us-east-1:123456789012:function:x' }))).toBe('INTERNAL_ERROR');
    expect(await reasonOf(() => stagePrefix({}))).toBe('INTERNAL_ERROR');
  });
});

describe('allow answer', () => {
  it("hands over the policy, the principal's id and context, and the tenant's usage-plan key", () => {
    const answer = allowAnswer(apiKey({ keyId: 'key_1', tenantId: 'acme' }), POLICY, ACME);

    expect(answer).toEqual({
      principalId: 'key_1',
      policyDocument: POLICY,
      context: { kind: 'apiKey', principalId: 'key_1', tenantId: 'acme', scopes: '', tier: 'pro', keyId: 'key_1' },
      usageIdentifierKey: 'usage-acme',
    });
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
      kind: 'user', principalId: 'user-1', tenantId: 'acme', scopes: 'a b', tier: 'pro',
      issuer: 'supabase', subject: 'user-1', roles: 'admin member', email: 'u@example.com', sessionId: 's-1',
    });
  });

  it('gives services and signers an empty tenant, and a signer the body hash its signature covers', () => {
    expect(context(service(), undefined)).toEqual({ kind: 'service', principalId: 'service:billing', tenantId: '', scopes: 'jobs:run', service: 'billing' });
    expect(context(signer(), undefined)).toMatchObject({ kind: 'signed', principalId: 'signer:stripe-relay', tenantId: '', signer: 'stripe-relay', bodySha256: 'a'.repeat(64) });
  });

  it('gives a user without a tenant an empty tenant id and no tier', () => {
    expect(context(user({ tenantId: undefined }), undefined)).toMatchObject({ tenantId: '' });
    expect(context(user({ tenantId: undefined }), undefined)).not.toHaveProperty('tier');
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
