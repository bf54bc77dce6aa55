import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { type RouteConfig, parseConfig } from '../../contract/config';
import { GatehouseApi } from '../../lib/gatehouse-api';
import { GatehouseFunction } from '../../lib/gatehouse-function';
import { routeAuthorizer } from '../../contract/route-authorizer';
import { TENANT_HEADER } from '../../contract/headers';
import { apiAuthorizers, apiMethods, methodIdentitySources } from '../support/api-definition';

/**
 * Membership mode in the REST API: routes that accept users go through a third REQUEST authorizer keyed by
 * Authorization and the tenant header, so API Gateway's result cache (keyed by identity-source values, reused on
 * every method of that authorizer) never hands one tenant's answer to a request that names another. Asset bundling
 * is skipped; cdk.json's context is merged so feature flags match the real synth.
 */
const ROOT = path.resolve(__dirname, '../..');
const cdkContext = JSON.parse(readFileSync(path.join(ROOT, 'cdk.json'), 'utf8')).context;

const ROUTES: RouteConfig[] = parseConfig({
  environment: 'live',
  tableName: 'gatehouse-test',
  issuers: [{ type: 'supabase', url: 'https://abcd.supabase.co', hs256SecretId: 'jwt' }],
  apiKeys: { prefix: 'gh' },
  services: [{ name: 'reporting', secretId: 'svc' }],
  membership: {},
  routes: [
    { method: 'GET', path: '/health', public: true, handler: 'me' },
    { method: 'GET', path: '/v1/me', accepts: ['user', 'apiKey'], handler: 'me' },
    { method: 'GET', path: '/v1/projects', accepts: ['user'], handler: 'me' },
    { method: 'GET', path: '/v1/usage', accepts: ['apiKey'], handler: 'me' },
    { method: 'POST', path: '/internal/jobs', accepts: ['service'], handler: 'me' },
  ],
}).routes;

function synth(tenantHeader: string | undefined, routes: readonly RouteConfig[] = ROUTES) {
  const app = new App({ context: { ...cdkContext, 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Membership');
  const authorizer = new GatehouseFunction(stack, 'Authorizer', { entry: 'lambdas/authorizer/index.ts', description: 'authorizer' });
  const me = new GatehouseFunction(stack, 'Me', { entry: 'lambdas/handlers/me.ts', description: 'me' });
  new GatehouseApi(stack, 'Api', {
    routes,
    authorizerFunction: authorizer.function,
    handlers: { me: me.function },
    authorizerResultTtl: Duration.seconds(120),
    ...(tenantHeader ? { tenantHeader } : {}),
  });
  return { app, template: Template.fromStack(stack) };
}

describe('GatehouseApi in membership mode', () => {
  const { app, template } = synth(TENANT_HEADER);

  it('has three REQUEST authorizers on the one function, all with the result TTL given', () => {
    const authorizers = apiAuthorizers(template);

    expect(authorizers.map((a) => a.IdentitySource).sort()).toEqual([
      'method.request.header.Authorization',
      'method.request.header.Authorization,method.request.header.X-Service-Name',
      'method.request.header.Authorization,method.request.header.X-Tenant-Id',
    ]);
    expect(new Set(authorizers.map((a) => JSON.stringify(a.AuthorizerUri))).size).toBe(1);
    expect(authorizers.every((a) => a.Type === 'REQUEST' && a.AuthorizerResultTtlInSeconds === 120)).toBe(true);
  });

  it('keys routes that accept users by the tenant header, API-key-only routes by Authorization, service routes by X-Service-Name', () => {
    expect(methodIdentitySources(template)).toEqual({
      'GET /v1/me': 'method.request.header.Authorization,method.request.header.X-Tenant-Id',
      'GET /v1/projects': 'method.request.header.Authorization,method.request.header.X-Tenant-Id',
      'GET /v1/usage': 'method.request.header.Authorization',
      'POST /internal/jobs': 'method.request.header.Authorization,method.request.header.X-Service-Name',
    });
  });

  it('requires the tenant header on the methods of the tenant authorizer (request validation)', () => {
    const withHeader = apiMethods(template).filter((m) => JSON.stringify(m.RequestParameters).includes('X-Tenant-Id'));

    expect(withHeader).toHaveLength(2);
    for (const m of withHeader) {
      expect(m.RequestParameters).toEqual({ 'method.request.header.Authorization': true, 'method.request.header.X-Tenant-Id': true });
      expect(m.RequestValidator).toEqual({ validateRequestBody: true, validateRequestParameters: true });
    }
  });

  it('follows the rule the local gateway and the authorizer use (contract/route-authorizer.ts routeAuthorizer)', () => {
    const expected = Object.fromEntries(
      ROUTES.filter((r) => !r.public).map((r) => [`${r.method} ${r.path}`, routeAuthorizer(r, TENANT_HEADER)!.headers.map((h) => `method.request.header.${h}`).join(',')]),
    );
    expect(methodIdentitySources(template)).toEqual(expected);
  });

  it('refuses a tenant header that is already an identity source', () => {
    expect(() => synth('authorization')).toThrow(/tenantHeader must differ/);
    expect(() => synth('X-Service-Name')).toThrow(/tenantHeader must differ/);
  });

  it('passes cdk-nag AwsSolutions', () => {
    const result = new AwsSolutionsChecks(app).validateScope(app);
    expect(result.violations.map((v) => `${v.ruleName} ${v.violatingResources.map((r) => r.resourceLogicalId).join(',')}`)).toEqual([]);
  });
});

describe('GatehouseApi: only the authorizers the route table needs', () => {
  it('keeps two authorizers: no tenant authorizer, user routes keyed by Authorization', () => {
    const { template } = synth(undefined);

    expect(apiAuthorizers(template)).toHaveLength(2);
    expect(methodIdentitySources(template)['GET /v1/me']).toBe('method.request.header.Authorization');
  });

  it('builds no unused authorizer, and honours another header name', () => {
    // In membership mode, a table without API-key-only routes needs no Authorization-only authorizer.
    const { template } = synth('X-Workspace', ROUTES.filter((r) => r.path !== '/v1/usage'));
    const sources = apiAuthorizers(template).map((a) => a.IdentitySource).sort();

    expect(sources).toEqual([
      'method.request.header.Authorization,method.request.header.X-Service-Name',
      'method.request.header.Authorization,method.request.header.X-Workspace',
    ]);
  });
});
