import { parseConfig } from '../../../contract/config';
import { TENANT_HEADER } from '../../../contract/headers';
import { RouteIndex } from '../../../lambdas/authorizer/route-index';
import { TenantHeader } from '../../../lambdas/authorizer/tenant-header';
import { PROVIDER_TENANT_IDS } from '../../support/tenant-ids';
import { apiKey, reasonOf, refusalOf, service, signer, user } from './steps';

/** The tenant-header step alone (membership mode, before the tenant check): no I/O. */
const config = parseConfig({
  environment: 'live',
  tableName: 'gatehouse-test',
  issuers: [{ type: 'supabase', url: 'https://abcd.supabase.co', hs256SecretId: 'jwt' }],
  apiKeys: { prefix: 'gh' },
  services: [{ name: 'billing', secretId: 's' }],
  signers: [{ name: 'stripe-relay', secretId: 'r' }],
  membership: {},
  routes: [
    { method: 'GET', path: '/v1/me', accepts: ['user', 'apiKey'] },
    { method: 'GET', path: '/v1/keys-only', accepts: ['apiKey'] },
    { method: 'POST', path: '/internal/jobs', accepts: ['service'] },
    { method: 'POST', path: '/v1/relay', accepts: ['apiKey', 'signed'] },
  ],
});
const step = new TenantHeader(config.membership!, new RouteIndex(config.routes));

function event(headers: Record<string, string | string[]>, path = '/v1/me', method = 'GET') {
  const multi = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, Array.isArray(v) ? v : [v]]));
  return { httpMethod: method, resource: path, multiValueHeaders: multi };
}

describe('tenant-header step', () => {
  it('gives a user the tenant the header names, with no roles and the tenant required', () => {
    const u = user({ tenantId: 'from-token', roles: ['owner'] });

    expect(step.requestedTenant(u, event({ [TENANT_HEADER]: 'tenant-a' }))).toEqual({ ...u, tenantId: 'tenant-a', roles: [], tenantRequired: true });
  });

  it('refuses a user who names no tenant as TENANT_HEADER_MISSING, an empty header included', async () => {
    expect(await reasonOf(() => step.requestedTenant(user(), event({})))).toBe('TENANT_HEADER_MISSING');
    expect(await reasonOf(() => step.requestedTenant(user(), event({ [TENANT_HEADER]: '' })))).toBe('TENANT_HEADER_MISSING');
  });

  it('refuses a tenant id that is not one as TENANT_HEADER_INVALID', async () => {
    expect(await reasonOf(() => step.requestedTenant(user(), event({ [TENANT_HEADER]: 'not a tenant!' })))).toBe('TENANT_HEADER_INVALID');
  });

  it.each(Object.entries(PROVIDER_TENANT_IDS))("takes a %s organization id (%s) exactly as the header names it", (_, id) => {
    expect(step.requestedTenant(user(), event({ [TENANT_HEADER]: id }))).toMatchObject({ tenantId: id });
    expect(step.requestedTenant(user(), event({ 'x-tenant-id': id.toUpperCase() }))).toMatchObject({ tenantId: id.toUpperCase() });
  });

  it.each([['a#b'], ['a*'], ['a/b'], ['a.b'], ['a,b'], ['a b'], ['a\tb'], ['_acme'], ['a'.repeat(129)], ['tenänt']])(
    'refuses %j as TENANT_HEADER_INVALID',
    async (value) => {
      expect(await reasonOf(() => step.requestedTenant(user(), event({ [TENANT_HEADER]: value })))).toBe('TENANT_HEADER_INVALID');
    },
  );

  it("compares an API key's tenant with the header exactly: another case is another tenant (TENANT_MISMATCH)", async () => {
    const key = apiKey({ tenantId: PROVIDER_TENANT_IDS.auth0 });

    expect(step.requestedTenant(key, event({ [TENANT_HEADER]: PROVIDER_TENANT_IDS.auth0 }))).toBe(key);
    const other = PROVIDER_TENANT_IDS.auth0.toLowerCase();
    expect(await reasonOf(() => step.requestedTenant(key, event({ [TENANT_HEADER]: other })))).toBe('TENANT_MISMATCH');
  });

  it('refuses a repeated tenant header as TENANT_HEADER_INVALID rather than picking one', async () => {
    const refusal = await refusalOf(() => step.requestedTenant(user(), event({ [TENANT_HEADER]: ['tenant-a', 'tenant-b'] })));

    expect(refusal.code).toBe('TENANT_HEADER_INVALID');
    expect(refusal.detail).toEqual({ multiple: true });
  });

  it("lets an API key name its own tenant, or none, and leaves it as it is", () => {
    const key = apiKey({ tenantId: 'tenant-a' });

    expect(step.requestedTenant(key, event({ [TENANT_HEADER]: 'tenant-a' }))).toBe(key);
    expect(step.requestedTenant(key, event({}))).toBe(key);
  });

  it('refuses an API key that names another tenant as TENANT_MISMATCH', async () => {
    expect(await reasonOf(() => step.requestedTenant(apiKey({ tenantId: 'tenant-a' }), event({ [TENANT_HEADER]: 'tenant-b' })))).toBe('TENANT_MISMATCH');
  });

  it('leaves services and signers as they are without reading the header', () => {
    const bad = event({ [TENANT_HEADER]: ['x', 'y'] }, '/internal/jobs', 'POST');

    expect(step.requestedTenant(service(), bad)).toEqual(service());
    expect(step.requestedTenant(signer(), bad)).toEqual(signer());
  });

  it('refuses users on a route keyed by Authorization alone as ROUTE_NOT_PERMITTED (no user may call it)', async () => {
    expect(await reasonOf(() => step.requestedTenant(user(), event({ [TENANT_HEADER]: 'tenant-a' }, '/v1/keys-only')))).toBe('ROUTE_NOT_PERMITTED');
  });

  it('decides an API key on a route keyed by Authorization alone without reading the header, which the cache key leaves out', () => {
    const key = apiKey({ tenantId: 'tenant-a' });

    expect(step.requestedTenant(key, event({ [TENANT_HEADER]: 'tenant-b' }, '/v1/keys-only'))).toBe(key);
  });

  it('reads the header on an uncached route (here one that accepts signed requests), where every header is read on every request', async () => {
    const on = event({ [TENANT_HEADER]: 'tenant-b' }, '/v1/relay', 'POST');

    expect(await reasonOf(() => step.requestedTenant(apiKey({ tenantId: 'tenant-a' }), on))).toBe('TENANT_MISMATCH');
  });

  it('treats a request whose route is not in the table as keyed by the header (fail closed)', async () => {
    expect(await reasonOf(() => step.requestedTenant(apiKey({ tenantId: 'tenant-a' }), event({ [TENANT_HEADER]: 'tenant-b' }, '/nowhere')))).toBe('TENANT_MISMATCH');
  });
});
