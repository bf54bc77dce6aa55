import { parseConfig } from '../../../contract/config';
import { RouteIndex } from '../../../lambdas/authorizer/route-index';

/** The route index alone: a request's configured route by method and resource template. */
const config = parseConfig({
  environment: 'live',
  issuers: [{ type: 'supabase', url: 'https://abcd.supabase.co', hs256SecretId: 'jwt' }],
  tenants: { verify: false },
  routes: [
    { method: 'GET', path: '/v1/items/{id}', accepts: ['user'] },
    { method: 'ANY', path: '/v1/items/{id}', accepts: ['user'], scopes: ['items:write'] },
    { method: 'GET', path: '/v1/session', accepts: ['user'], cookie: 'sb-access-token' },
  ],
});
const index = new RouteIndex(config.routes);

describe('route index', () => {
  it('finds the route of the exact method before the ANY route of the same path', () => {
    expect(index.routeOf({ httpMethod: 'GET', resource: '/v1/items/{id}' })).toMatchObject({ method: 'GET', scopes: [] });
    expect(index.routeOf({ httpMethod: 'DELETE', resource: '/v1/items/{id}' })).toMatchObject({ method: 'ANY', scopes: ['items:write'] });
  });

  it('finds nothing for a request whose route is not in the table', () => {
    expect(index.routeOf({ httpMethod: 'GET', resource: '/v1/other' })).toBeUndefined();
    expect(index.routeOf({ httpMethod: 'GET', resource: '/v1/items/{itemId}' })).toBeUndefined();
  });

  it("names the cookie of the request's route, and none on routes without one", () => {
    expect(index.cookieOf({ httpMethod: 'GET', resource: '/v1/session' })).toBe('sb-access-token');
    expect(index.cookieOf({ httpMethod: 'GET', resource: '/v1/items/{id}' })).toBeUndefined();
    expect(index.cookieOf({ httpMethod: 'POST', resource: '/v1/session' })).toBeUndefined();
  });
});
