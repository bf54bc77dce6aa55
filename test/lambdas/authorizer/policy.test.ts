import fc from 'fast-check';
import type { CredentialKind, RouteConfig } from '../../../contract/config';
import {
  type CompiledRoute,
  type PolicyDocument,
  type PolicyPrincipal,
  arnPrefix,
  buildPolicy,
  compileRoutes,
  evaluatePolicy,
  globIntersects,
  nfaIntersects,
  permits,
  routeDecision,
} from '../../../lambdas/authorizer/policy';

const PREFIX = 'arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod';
const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'];

function route(method: RouteConfig['method'], path: string, accepts: CredentialKind[], scopes: string[] = [], extra: Partial<RouteConfig> = {}): RouteConfig {
  return { method, path, public: false, accepts, scopes, ...extra };
}

function policyFor(routes: readonly CompiledRoute[], p: PolicyPrincipal, prefix = PREFIX): PolicyDocument {
  return buildPolicy(prefix, routeDecision(routes, p));
}

/** Concrete method ARNs API Gateway would send for requests to a route, with sample path values. */
function requestArns(r: CompiledRoute, prefix = PREFIX): string[] {
  const methods = r.method === 'ANY' ? METHODS : [r.method];
  const paths = ['42', 'cus_7Hq', 'me'].map((v) => r.path.replace(/\{[^}]+\+\}/g, `${v}/a/b`).replace(/\{[^}]+\}/g, v));
  if (/\{[^}]+\+\}/.test(r.path)) paths.push(r.path.replace(/\{[^}]+\+\}/g, 'x'));
  return methods.flatMap((m) => paths.map((p) => `${prefix}/${m}${p}`));
}

// A typical multi-tenant table with no request matched by two routes.
const TABLE = compileRoutes([
  route('GET', '/health', [], [], { public: true }),
  route('GET', '/', ['user', 'apiKey']),
  route('GET', '/v1/me', ['user', 'apiKey']),
  route('GET', '/v1/customers', ['user', 'apiKey'], ['customers:read']),
  route('POST', '/v1/customers', ['user', 'apiKey'], ['customers:write']),
  route('GET', '/v1/customers/{id}', ['user', 'apiKey'], ['customers:read']),
  route('DELETE', '/v1/customers/{id}', ['user'], ['customers:write', 'customers:delete']),
  route('GET', '/v1/customers/{id}/secrets', ['user'], ['secrets:read']),
  route('GET', '/v1/customers/{id}/invoices/{invoiceId}', ['apiKey'], ['billing:read']),
  route('ANY', '/v1/admin/{proxy+}', ['user'], ['admin']),
  route('POST', '/internal/sync', ['service'], [], { services: ['billing'] }),
  route('GET', '/internal/health', ['service']),
]);
const SCOPES = ['customers:read', 'customers:write', 'customers:delete', 'secrets:read', 'billing:read', 'admin'];

describe('policy', () => {
  describe('compileRoutes', () => {
    it('leaves public routes out, turns {param} and {proxy+} into * and ANY into *', () => {
      // Act
      const compiled = compileRoutes([
        route('GET', '/health', [], [], { public: true }),
        route('GET', '/v1/customers/{id}', ['user']),
        route('ANY', '/v1/files/{proxy+}', ['apiKey']),
        route('GET', '/', ['user']),
      ]);

      // Assert
      expect(compiled.map((r) => r.resource)).toEqual(['GET/v1/customers/*', '*/v1/files/*', 'GET/']);
      expect(compiled[1]!.requests).toHaveLength(METHODS.length);
    });
  });

  describe('permits', () => {
    const [customer] = compileRoutes([route('GET', '/v1/customers/{id}', ['user', 'apiKey'], ['customers:read', 'tenant:member'])]);
    const [sync] = compileRoutes([route('POST', '/internal/sync', ['service'], [], { services: ['billing'] })]);
    const [health] = compileRoutes([route('GET', '/internal/health', ['service'])]);

    it('requires the principal kind to be accepted', () => {
      expect(permits(customer!, { kind: 'user', scopes: ['customers:read', 'tenant:member'] })).toBe(true);
      expect(permits(customer!, { kind: 'apiKey', scopes: ['customers:read', 'tenant:member'] })).toBe(true);
      expect(permits(customer!, { kind: 'service', scopes: ['customers:read', 'tenant:member'], service: 'billing' })).toBe(false);
    });

    it('requires every scope of the route, not just one', () => {
      expect(permits(customer!, { kind: 'user', scopes: ['customers:read'] })).toBe(false);
      expect(permits(customer!, { kind: 'user', scopes: [] })).toBe(false);
      expect(permits(customer!, { kind: 'user', scopes: ['admin', 'tenant:member', 'customers:read'] })).toBe(true);
    });

    it('restricts a services route to the listed services', () => {
      expect(permits(sync!, { kind: 'service', scopes: [], service: 'billing' })).toBe(true);
      expect(permits(sync!, { kind: 'service', scopes: [], service: 'search' })).toBe(false);
      expect(permits(sync!, { kind: 'service', scopes: [] })).toBe(false);
      expect(permits(health!, { kind: 'service', scopes: [], service: 'search' })).toBe(true);
    });
  });

  describe('routeDecision and buildPolicy', () => {
    it('denies a route that an allowed wildcard covers: /customers/{id} allowed, /customers/{id}/secrets denied', () => {
      // Prepare
      const routes = compileRoutes([
        route('GET', '/v1/customers/{id}', ['user'], ['customers:read']),
        route('GET', '/v1/customers/{id}/secrets', ['user'], ['secrets:read']),
      ]);

      // Act
      const decision = routeDecision(routes, { kind: 'user', scopes: ['customers:read'] });
      const policy = buildPolicy(PREFIX, decision);

      // Assert
      expect(decision.allow.map((r) => r.path)).toEqual(['/v1/customers/{id}']);
      expect(decision.deny.map((r) => r.path)).toEqual(['/v1/customers/{id}/secrets']);
      expect(policy.Statement).toContainEqual({ Action: 'execute-api:Invoke', Effect: 'Deny', Resource: [`${PREFIX}/GET/v1/customers/*/secrets`] });
      expect(evaluatePolicy(policy, `${PREFIX}/GET/v1/customers/42`)).toBe('Allow');
      expect(evaluatePolicy(policy, `${PREFIX}/GET/v1/customers/42/secrets`)).toBe('Deny');
    });

    it('keeps an allowed greedy route and explicitly denies the method it may not use', () => {
      // Prepare
      const routes = compileRoutes([
        route('GET', '/v1/me', ['user']),
        route('ANY', '/v1/files/{proxy+}', ['user'], ['files:read']),
        route('DELETE', '/v1/files/{proxy+}', ['user'], ['files:delete']),
      ]);

      // Act
      const decision = routeDecision(routes, { kind: 'user', scopes: ['files:read'] });
      const policy = buildPolicy(PREFIX, decision);

      // Assert
      expect(decision.allow.map((r) => r.path)).toEqual(['/v1/me', '/v1/files/{proxy+}']);
      expect(decision.deny.map((r) => `${r.method} ${r.path}`)).toEqual(['DELETE /v1/files/{proxy+}']);
      expect(evaluatePolicy(policy, `${PREFIX}/DELETE/v1/files/a/b`)).toBe('Deny');
      expect(evaluatePolicy(policy, `${PREFIX}/GET/v1/files/a/b`)).toBe('Allow');
      expect(evaluatePolicy(policy, `${PREFIX}/GET/v1/me`)).toBe('Allow');
    });

    it('refuses (403) the overlap of two templates with different permissions rather than allowing it', () => {
      // Prepare: every request of the permitted route is also matched by the denied route's glob.
      const routes = compileRoutes([route('GET', '/v1/{tenant}/public', ['user']), route('GET', '/v1/{tenant}/{proxy+}', ['user'], ['admin'])]);

      // Act
      const policy = policyFor(routes, { kind: 'user', scopes: [] });

      // Assert: fail closed, never an over-broad Allow.
      expect(evaluatePolicy(policy, `${PREFIX}/GET/v1/acme/public`)).toBe('Deny');
      expect(evaluatePolicy(policy, `${PREFIX}/GET/v1/acme/files/x`)).toBe('Deny');
    });

    it('answers a principal permitted nothing with a single Deny on the whole stage', () => {
      // Prepare
      const routes = compileRoutes([route('GET', '/v1/me', ['user']), route('POST', '/internal/sync', ['service'], [], { services: ['billing'] })]);

      // Act
      const decision = routeDecision(routes, { kind: 'service', scopes: [], service: 'search' });
      const policy = buildPolicy(PREFIX, decision);

      // Assert
      expect(decision.allow).toEqual([]);
      expect(policy).toEqual({ Version: '2012-10-17', Statement: [{ Action: 'execute-api:Invoke', Effect: 'Deny', Resource: [`${PREFIX}/*`] }] });
    });
  });

  describe('evaluatePolicy', () => {
    const policy = (statements: [('Allow' | 'Deny'), string[]][]): PolicyDocument => ({
      Version: '2012-10-17',
      Statement: statements.map(([Effect, Resource]) => ({ Action: 'execute-api:Invoke', Effect, Resource })),
    });

    it('lets an explicit Deny win over an Allow, in either order', () => {
      const arn = `${PREFIX}/GET/v1/me`;
      expect(evaluatePolicy(policy([['Allow', [`${PREFIX}/*`]], ['Deny', [arn]]]), arn)).toBe('Deny');
      expect(evaluatePolicy(policy([['Deny', [arn]], ['Allow', [`${PREFIX}/*`]]]), arn)).toBe('Deny');
    });

    it('treats * as any run of characters, / included, and ? as exactly one', () => {
      const p = policy([['Allow', [`${PREFIX}/GET/v1/*`, `${PREFIX}/PUT/v?`]]]);
      expect(evaluatePolicy(p, `${PREFIX}/GET/v1/customers/42/secrets`)).toBe('Allow');
      expect(evaluatePolicy(p, `${PREFIX}/PUT/v2`)).toBe('Allow');
      expect(evaluatePolicy(p, `${PREFIX}/PUT/v22`)).toBe('Deny');
    });

    it('denies what no statement matches, and takes regex characters literally', () => {
      const p = policy([['Allow', [`${PREFIX}/GET/v1.me`]]]);
      expect(evaluatePolicy(p, `${PREFIX}/GET/v1/me`)).toBe('Deny');
      expect(evaluatePolicy(p, `${PREFIX}/GET/v1xme`)).toBe('Deny');
      expect(evaluatePolicy(policy([]), `${PREFIX}/GET/v1/me`)).toBe('Deny');
    });
  });

  describe('arnPrefix', () => {
    it('takes the API and stage from a method ARN', () => {
      expect(arnPrefix('arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/GET/v1/me')).toBe(PREFIX);
      expect(arnPrefix('arn:aws-cn:execute-api:cn-north-1:123456789012:abcdef1234/prod/GET/')).toBe(
        'arn:aws-cn:execute-api:cn-north-1:123456789012:abcdef1234/prod',
      );
      // An HTTP API's default stage (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-stages.html).
      expect(arnPrefix('arn:aws:execute-api:us-east-1:123456789012:abcdef1234/$default/GET/v1/me')).toBe(
        'arn:aws:execute-api:us-east-1:123456789012:abcdef1234/$default',
      );
    });

    it.each([
      '',
      'Unauthorized',
      'arn:aws:lambda:us-east-1:123456789012:function:gatehouse',
      'arn:aws:execute-api:us-east-1:12345:abcdef1234/prod/GET/v1/me',
      'arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod',
      'arn:aws:execute-api:us-east-1:123456789012:abcdef1234/*/GET/v1/me',
      'arn:aws:execute-api:us-east-1:123456789012:abc:def/prod/GET/v1/me',
      'arn:aws:execute-api:us-east-1:123456789012:abcdef1234/$other/GET/v1/me',
      'arn:aws:execute-api:us-east-1:123456789012:abcdef1234/$default',
      ' arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/GET/v1/me',
    ])('refuses %j', (arn) => {
      expect(arnPrefix(arn)).toBeUndefined();
    });
  });

  describe('cache safety', () => {
    const principals: [string, PolicyPrincipal][] = [
      ['a user with no scopes', { kind: 'user', scopes: [] }],
      ['a customer reader', { kind: 'user', scopes: ['customers:read'] }],
      ['a customer writer', { kind: 'user', scopes: ['customers:read', 'customers:write'] }],
      ['a secrets reader who cannot list customers', { kind: 'user', scopes: ['secrets:read'] }],
      ['an admin with every scope', { kind: 'user', scopes: SCOPES }],
      ['an API key with read scopes', { kind: 'apiKey', scopes: ['customers:read', 'billing:read'] }],
      ['an API key with admin scope', { kind: 'apiKey', scopes: ['admin', 'customers:delete', 'customers:write'] }],
      ['the billing service', { kind: 'service', scopes: [], service: 'billing' }],
      ['another service', { kind: 'service', scopes: ['customers:read'], service: 'search' }],
    ];

    it.each(principals)('a policy cached for one route is right on every other route, for %s', (_name, principal) => {
      // Prepare: the policy is built once, from the first request API Gateway sends to the authorizer.
      const first = requestArns(TABLE[0]!)[0]!;
      const policy = policyFor(TABLE, principal, arnPrefix(first));

      for (const r of TABLE) {
        const expected = permits(r, principal) ? 'Allow' : 'Deny';
        for (const arn of requestArns(r)) {
          // Act
          const actual = evaluatePolicy(policy, arn);

          // Assert
          expect({ arn, effect: actual }).toEqual({ arn, effect: expected });
        }
      }
    });

    it('a policy cached for one route is right on every other route, for any principal', () => {
      fc.assert(
        fc.property(
          fc.constantFrom<CredentialKind>('user', 'apiKey', 'service'),
          fc.subarray(SCOPES),
          fc.constantFrom('billing', 'search', undefined),
          (kind, scopes, service) => {
            const principal: PolicyPrincipal = { kind, scopes, ...(kind === 'service' && service ? { service } : {}) };
            const policy = policyFor(TABLE, principal);
            for (const r of TABLE) {
              const expected = permits(r, principal) ? 'Allow' : 'Deny';
              for (const arn of requestArns(r)) expect({ arn, effect: evaluatePolicy(policy, arn) }).toEqual({ arn, effect: expected });
            }
          },
        ),
        { numRuns: 200 },
      );
    });

    it('never allows a request that API Gateway routes to a greedy route the principal may not call', () => {
      // Prepare: /v1/acme/files/public is served by {proxy+} (`files` is not `public`), yet the Allow glob
      // GET/v1/*/public matches it because * spans '/'.
      const routes = compileRoutes([
        route('GET', '/v1/{tenant}/public', ['user']),
        route('GET', '/v1/{tenant}/{proxy+}', ['user'], ['admin']),
      ]);

      // Act
      const effect = evaluatePolicy(policyFor(routes, { kind: 'user', scopes: [] }), `${PREFIX}/GET/v1/acme/files/public`);

      // Assert
      expect(permits(routes[1]!, { kind: 'user', scopes: [] })).toBe(false);
      expect(effect).toBe('Deny');
    });

    it('never allows a request that API Gateway routes to a literal sibling the principal may not call', () => {
      // Prepare: API Gateway prefers the literal segment, so /v1/reports/summary is GET /v1/reports/{id}.
      const routes = compileRoutes([
        route('GET', '/v1/{section}/summary', ['user']),
        route('GET', '/v1/reports/{id}', ['user'], ['reports:read']),
      ]);

      // Act
      const effect = evaluatePolicy(policyFor(routes, { kind: 'user', scopes: [] }), `${PREFIX}/GET/v1/reports/summary`);

      // Assert
      expect(permits(routes[1]!, { kind: 'user', scopes: [] })).toBe(false);
      expect(effect).toBe('Deny');
    });
  });
});

describe('globIntersects', () => {
  it('agrees with the exact automaton search on random globs and request patterns (the literal pre-check is sound)', () => {
    const glob = fc.array(fc.constantFrom('a', 'b', '/', '*', '?'), { maxLength: 8 }).map((cs) => cs.join(''));
    // \u0001 and \u0002 are the compiled request patterns' PARAM and PROXY markers.
    const request = fc.array(fc.constantFrom('a', 'b', '/', '\u0001', '\u0002'), { maxLength: 8 }).map((cs) => cs.join(''));
    let intersecting = 0;
    fc.assert(
      fc.property(glob, request, (g, r) => {
        const exact = nfaIntersects(g, r);
        if (exact) intersecting++;
        expect(globIntersects(g, r)).toBe(exact);
      }),
      { numRuns: 3000 },
    );
    expect(intersecting).toBeGreaterThan(100); // both outcomes were exercised
  });
});
