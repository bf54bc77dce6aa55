import fc from 'fast-check';
import { parseConfig } from '../../../contract/config';
import { buildPolicy, compileRoutes, evaluatePolicy, routeDecision } from '../../../lambdas/authorizer/policy';
import { PolicyMemo } from '../../../lambdas/authorizer/policy-memo';

const routes = compileRoutes(
  parseConfig({
    environment: 'live',
    tableName: 'gatehouse-test',
    issuers: [{ type: 'supabase', url: 'https://abcd.supabase.co', hs256SecretId: 'jwt' }],
    apiKeys: { prefix: 'gh' },
    services: [{ name: 'billing', secretId: 's' }, { name: 'reports', secretId: 'r' }],
    routes: [
      { method: 'GET', path: '/v1/me', accepts: ['user', 'apiKey'] },
      { method: 'GET', path: '/v1/items', accepts: ['user', 'apiKey'], scopes: ['items:read'] },
      { method: 'POST', path: '/v1/items', accepts: ['user', 'apiKey'], scopes: ['items:write'] },
      { method: 'GET', path: '/v1/items/{id}', accepts: ['user', 'apiKey'], scopes: ['items:read'] },
      { method: 'DELETE', path: '/v1/items/{id}', accepts: ['user'], scopes: ['items:admin'] },
      { method: 'GET', path: '/v1/items/export', accepts: ['apiKey'], scopes: ['items:export'] },
      { method: 'POST', path: '/internal/sync', accepts: ['service'], services: ['billing'] },
    ],
  }).routes,
);
const PREFIXES = ['arn:aws:execute-api:us-east-1:123456789012:abc123/prod', 'arn:aws:execute-api:eu-west-1:123456789012:def456/stage'];
const principal = fc.record({
  kind: fc.constantFrom('user' as const, 'apiKey' as const, 'service' as const),
  scopes: fc.subarray(['items:read', 'items:write', 'items:admin', 'items:export', 'other']),
  service: fc.constantFrom('billing', 'reports'),
});
const request = fc.tuple(
  fc.constantFrom(...PREFIXES),
  fc.constantFrom('GET', 'POST', 'DELETE', 'PUT'),
  fc.constantFrom('/v1/me', '/v1/items', '/v1/items/42', '/v1/items/export', '/internal/sync', '/v1/other'),
);

describe('PolicyMemo', () => {
  it('answers exactly what routeDecision, buildPolicy and evaluatePolicy compute, for any shape, stage and request, in any order', () => {
    const memo = new PolicyMemo(routes, { shapes: 4, prefixes: 1, arns: 3 }); // tiny limits: eviction paths run too
    fc.assert(
      fc.property(fc.array(fc.tuple(principal, request), { minLength: 1, maxLength: 40 }), (calls) => {
        for (const [p, [prefix, method, path]] of calls) {
          const pr = p.kind === 'service' ? p : { kind: p.kind, scopes: p.scopes };
          const methodArn = `${prefix}/${method}${path}`;
          const decision = routeDecision(routes, pr);
          const policyDocument = buildPolicy(prefix, decision);
          const got = memo.answer(prefix, pr, methodArn);
          expect(got.policyDocument).toEqual(policyDocument);
          expect(got.allowsAny).toBe(decision.allow.length > 0);
          expect(got.here).toBe(evaluatePolicy(policyDocument, methodArn));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('treats scopes as a set, and hands out frozen policies that a caller cannot change for the next request', () => {
    const memo = new PolicyMemo(routes);
    const arn = `${PREFIXES[0]}/GET/v1/items`;
    const a = memo.answer(PREFIXES[0]!, { kind: 'user', scopes: ['items:read', 'items:write'] }, arn);
    const b = memo.answer(PREFIXES[0]!, { kind: 'user', scopes: ['items:write', 'items:read'] }, arn);
    expect(b.policyDocument).toBe(a.policyDocument);
    expect(Object.isFrozen(a.policyDocument.Statement[0]!.Resource)).toBe(true);
    expect(() => (a.policyDocument.Statement[0]!.Resource as string[]).push(`${PREFIXES[0]}/*`)).toThrow(TypeError);
    // A different shape never shares an answer: a service of another name is denied here.
    const sync = `${PREFIXES[0]}/POST/internal/sync`;
    expect(memo.answer(PREFIXES[0]!, { kind: 'service', scopes: [], service: 'billing' }, sync).here).toBe('Allow');
    expect(memo.answer(PREFIXES[0]!, { kind: 'service', scopes: [], service: 'reports' }, sync).here).toBe('Deny');
  });
});
