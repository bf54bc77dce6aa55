import { routeAuthorizer, routeCached } from '../../contract/route-authorizer';

/**
 * The route-to-authorizer rule (contract/route-authorizer.ts), which the stack, the local gateway and the
 * authorizer share. Here: the identity-source gate on uncached routes (issue 18) beside the cached authorizers.
 */
describe('routeAuthorizer', () => {
  it('gates a signed route on Authorization, uncached: API Gateway refuses a request without it before invoking anything', () => {
    expect(routeAuthorizer({ accepts: ['signed'] })).toEqual({ name: 'signed', headers: ['Authorization'], cached: false });
  });

  it('gates a signed route that also accepts bearer credentials the same way: every one of them arrives in Authorization', () => {
    for (const accepts of [['signed', 'apiKey'], ['signed', 'user'], ['signed', 'service'], ['signed', 'user', 'apiKey', 'service']]) {
      expect(routeAuthorizer({ accepts }, 'X-Tenant-Id')).toEqual({ name: 'signed', headers: ['Authorization'], cached: false });
    }
  });

  it('requires no header on a cookie route, signed or not: the token comes in Authorization or in the cookie, and API Gateway can only require both', () => {
    expect(routeAuthorizer({ accepts: ['user'], cookie: 'sb-access-token' })).toEqual({ name: 'request', headers: [], cached: false });
    expect(routeAuthorizer({ accepts: ['user', 'signed'], cookie: 'sb-access-token' }, 'X-Tenant-Id')).toEqual({ name: 'request', headers: [], cached: false });
  });

  it('leaves the cached authorizers as they were, and public routes unguarded', () => {
    expect(routeAuthorizer({ accepts: ['user', 'apiKey'] })).toEqual({ name: 'user', headers: ['Authorization'], cached: true });
    expect(routeAuthorizer({ accepts: ['service'] })).toEqual({ name: 'service', headers: ['Authorization', 'X-Service-Name'], cached: true });
    expect(routeAuthorizer({ accepts: ['user'] }, 'X-Tenant-Id')).toEqual({ name: 'tenant', headers: ['Authorization', 'X-Tenant-Id'], cached: true });
    expect(routeAuthorizer({ public: true, accepts: [] })).toBeUndefined();
  });

  it('never caches what it gates on Authorization alone: a signature is good once', () => {
    for (const route of [{ accepts: ['signed'] }, { accepts: ['signed', 'apiKey'] }]) {
      expect(routeCached(route)).toBe(false);
      expect(routeAuthorizer(route)!.cached).toBe(false);
    }
  });
});
