import { claimAt as claimAtNames, claimSegments } from '../../contract/claim-path';
import { type AuthorizerConfigInput, parseConfig } from '../../contract/config';
import { ConfigError } from '../../contract/config-error';

// Lower-case letters only, so it is a legal value for most fields and easy to spot if echoed.
const MARKER = 'zqxmarkerzqx';

/** A complete, valid document: every issuer type, API keys, services and routes. */
function fullDocument(): AuthorizerConfigInput {
  return {
    environment: 'live',
    tableName: 'gatehouse-main',
    issuers: [
      { type: 'supabase', url: 'https://abcd.supabase.co', hs256SecretId: 'gatehouse/supabase-jwt', jwks: true },
      { type: 'workos', clientId: 'client_01HXYZ' },
      {
        type: 'oidc',
        issuer: 'https://login.example.com',
        keys: { jwksUrl: 'https://login.example.com/.well-known/jwks.json' },
        algorithms: ['RS256', 'ES256'],
        audience: 'api://gatehouse',
      },
    ],
    apiKeys: { prefix: 'gh' },
    services: [{ name: 'billing', secretId: 'gatehouse/service/billing' }],
    routes: [
      { method: 'GET', path: '/health', public: true },
      { method: 'GET', path: '/v1/me', accepts: ['user', 'apiKey'] },
      { method: 'GET', path: '/v1/customers/{id}', accepts: ['user', 'apiKey'], scopes: ['customers:read'] },
      { method: 'POST', path: '/internal/sync', accepts: ['service'], services: ['billing'] },
    ],
  };
}

/** A small valid base for the rejection cases; `change` edits it into the bad document. */
function document(change: (d: Record<string, any>) => void): unknown {
  const d: Record<string, any> = {
    environment: 'live',
    tableName: 'gatehouse-main',
    issuers: [{ type: 'supabase', url: 'https://abcd.supabase.co' }],
    apiKeys: { prefix: 'gh' },
    services: [{ name: 'billing', secretId: 'gatehouse/service/billing' }],
    routes: [{ method: 'GET', path: '/v1/me', accepts: ['user', 'apiKey'] }],
  };
  change(d);
  return d;
}

function oidc(extra: Record<string, unknown>): Record<string, unknown> {
  return { type: 'oidc', issuer: 'https://login.example.com', audience: 'api', algorithms: ['RS256'], keys: { jwksUrl: 'https://login.example.com/jwks' }, ...extra };
}

/** The ConfigError message parseConfig throws (fails the test if it accepts the document). */
function rejection(doc: unknown): string {
  try {
    parseConfig(doc);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).message;
  }
  throw new Error('parseConfig accepted the document');
}

describe('config', () => {
  describe('parseConfig', () => {
    it('accepts a full document and applies the defaults', () => {
      // Act
      const config = parseConfig(fullDocument());

      // Assert
      expect(config.maxAuthorizationBytes).toBe(8192);
      expect(config.issuers[0]).toMatchObject({
        type: 'supabase',
        jwks: true,
        allowAnonymous: false,
        tenantClaim: 'app_metadata.tenant_id',
        rolesClaim: 'app_metadata.roles',
        audience: 'authenticated',
        clockToleranceSeconds: 30,
        maxTokenAgeSeconds: 86_400,
        tenantRequired: true,
        jwksTimeoutMs: 1500,
      });
      expect(config.issuers[2]).toMatchObject({ claims: { subject: 'sub' }, requiredClaims: [], requiredClaimValues: {} });
      expect(config.apiKeys).toEqual({ prefix: 'gh', cacheTtlSeconds: 60, negativeCacheTtlSeconds: 10, cacheMaxEntries: 10_000, maxPerTenant: 100, unknownKeyLookupsPerSecond: 100 });
      expect(config.records).toEqual({ staleIfErrorSeconds: 300, failureCooldownSeconds: 5 });
      expect(config.services[0]!.scopes).toEqual([]);
      expect(config.serviceSecrets).toEqual({ cacheTtlSeconds: 300, refetchCooldownSeconds: 30, previousGraceSeconds: 86_400, maxStaleSeconds: 3600, failureCooldownSeconds: 10, versionCheckSeconds: 5 });
      expect(config.tenants).toEqual({ verify: true, cacheTtlSeconds: 60, requireUsageKey: false });
      expect(config.rateLimits).toEqual({ tiers: { default: { requestsPerMinute: 100, burst: 200, onLimiterError: 'open' } }, usagePlanHeadroom: 2 });
      expect(config.routes[0]).toEqual({ method: 'GET', path: '/health', public: true, accepts: [], scopes: [] });
      expect(config.routes[1]).toMatchObject({ public: false, scopes: [] });
    });

    it.each([
      ['http://127.0.0.1:9999/jwks.json'],
      ['http://localhost:8080/.well-known/jwks.json'],
      ['http://[::1]/jwks'],
    ])('accepts a plain-http JWKS url on loopback (%s)', (jwksUrl) => {
      // Act
      const config = parseConfig(document((d) => d.issuers.push(oidc({ keys: { jwksUrl } }))));

      // Assert
      expect(config.issuers).toHaveLength(2);
    });

    it.each<[string, (d: Record<string, any>) => void, string]>([
      ['an unknown top-level key (a typo)', (d) => (d.tabelName = 'gatehouse-main'), 'tabelName'],
      ['a tier with no rate', (d) => (d.rateLimits = { tiers: { pro: { requestsPerMinute: 0, burst: 10 } } }), 'rateLimits.tiers.pro.requestsPerMinute'],
      ['usage plans tighter than the tiers', (d) => (d.rateLimits = { usagePlanHeadroom: 0.5 }), 'rateLimits.usagePlanHeadroom'],
      ['a supabase tenant claim under user_metadata', (d) => (d.issuers[0].tenantClaim = 'user_metadata.tenant_id'), 'issuers[0].tenantClaim:'],
      ['supabase scopes under user_metadata', (d) => (d.issuers[0].scopesClaim = 'user_metadata.scopes'), 'issuers[0].scopesClaim:'],
      ['supabase roles under user_metadata', (d) => (d.issuers[0].rolesClaim = 'user_metadata.roles'), 'issuers[0].rolesClaim:'],
      ['an oidc issuer with HS256 and a jwksUrl (key confusion)', (d) => d.issuers.push(oidc({ algorithms: ['HS256'] })), 'issuers[1].algorithms:'],
      ['an oidc issuer with HS256 and an asymmetric algorithm on a jwksUrl', (d) => d.issuers.push(oidc({ algorithms: ['RS256', 'HS256'] })), 'issuers[1].algorithms:'],
      [
        'a static JWKS with a private `d` member',
        (d) => d.issuers.push(oidc({ keys: { jwks: { keys: [{ kty: 'EC', crv: 'P-256', x: 'eA', y: 'eQ', d: 'ZA' }] } }, algorithms: ['ES256'] })),
        'issuers[1].keys.jwks.keys[0].d:',
      ],
      ['a non-https oidc JWKS url', (d) => d.issuers.push(oidc({ keys: { jwksUrl: 'http://login.example.com/jwks' } })), 'issuers[1].keys.jwksUrl:'],
      ['a non-https workos JWKS url', (d) => d.issuers.push({ type: 'workos', clientId: 'c1', jwksUrl: 'http://api.workos.com/jwks' }), 'issuers[1].jwksUrl:'],
      ['an http url on a loopback lookalike host', (d) => (d.issuers[0].url = 'http://localhost.evil.example'), 'issuers[0].url:'],
      ['an http url with loopback userinfo', (d) => (d.issuers[0].url = 'http://localhost@evil.example/'), 'issuers[0].url:'],
      ['a duplicate issuer', (d) => d.issuers.push({ type: 'supabase', url: 'https://abcd.supabase.co/', id: 'second' }), 'issuers[1]:'],
      ['a duplicate route', (d) => d.routes.push({ method: 'GET', path: '/v1/me', accepts: ['user'] }), 'routes[1]:'],
      ['a route that accepts services and users', (d) => (d.routes[0].accepts = ['service', 'user']), 'routes[0].accepts:'],
      ['a route with no accepts that is not public', (d) => delete d.routes[0].accepts, 'routes[0].accepts:'],
      ['an unknown service in route.services', (d) => d.routes.push({ method: 'POST', path: '/sync', accepts: ['service'], services: ['search'] }), 'routes[1].services[0]:'],
      ['apiKeys without tableName', (d) => delete d.tableName, 'tableName:'],
      ['a bad api key prefix', (d) => (d.apiKeys.prefix = 'GH_'), 'apiKeys.prefix:'],
    ])('rejects %s, naming the field', (_name, change, field) => {
      // Prepare
      const doc = document(change);

      // Act
      const message = rejection(doc);

      // Assert
      expect(message).toContain(field);
    });

    it.each<[string, (d: Record<string, any>) => void]>([
      ['tableName', (d) => (d.tableName = `${MARKER}!`)],
      ['apiKeys.prefix', (d) => (d.apiKeys.prefix = `${MARKER}_`)],
      ['environment', (d) => (d.environment = MARKER)],
      ['issuers[0].url', (d) => (d.issuers[0].url = `http://${MARKER}.example/`)],
      ['issuers[0].tenantClaim', (d) => (d.issuers[0].tenantClaim = `user_metadata.${MARKER}`)],
      ['issuers[1].keys.jwksUrl', (d) => d.issuers.push(oidc({ keys: { jwksUrl: `http://${MARKER}.example/jwks` } }))],
      ['services[0].secretId', (d) => (d.services[0].secretId = MARKER.repeat(200))],
      ['routes[0].scopes[0]', (d) => (d.routes[0].scopes = [`${MARKER} with spaces`])],
      ['routes[1].services[0]', (d) => d.routes.push({ method: 'POST', path: '/sync', accepts: ['service'], services: [MARKER] })],
      ['issuers[2]', (d) => d.issuers.push(oidc({ issuer: MARKER, id: 'one' }), oidc({ issuer: MARKER, id: 'two' }))],
    ])('never echoes the bad value of %s in the message', (field, change) => {
      // Prepare
      const doc = document(change);

      // Act
      const message = rejection(doc);

      // Assert
      expect(message).toContain(`${field}:`);
      expect(message).not.toContain(MARKER);
    });
  });
});

/** The claim at a dotted path (contract/claim-path.ts), as the authorizer reads it. */
const claimAt = (claims: unknown, path: string) => claimAtNames(claims, claimSegments(path));

describe('claimAt', () => {
  const payload = JSON.parse('{"sub":"user-1","app_metadata":{"tenant_id":"t-1","roles":["admin"]}}');

  it('reads a dotted path of own properties', () => {
    expect(claimAt(payload, 'app_metadata.tenant_id')).toBe('t-1');
    expect(claimAt(payload, 'app_metadata.roles')).toEqual(['admin']);
  });

  it.each(['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'constructor.name', '__proto__.toString', 'app_metadata.constructor', 'sub.length', 'app_metadata.roles.0'])(
    'reads %s as undefined: it is not an own property of the claims',
    (path) => {
      expect(claimAt(payload, path)).toBeUndefined();
    },
  );

  it('reads a "__proto__" key in the JSON as plain data, never as the prototype', () => {
    // Prepare: JSON.parse makes "__proto__" an own data property; the object's prototype is untouched.
    const hostile = JSON.parse('{"sub":"user-1","__proto__":{"tenant_id":"t-evil","isAdmin":true}}');

    // Act
    const topLevelTenant = claimAt(hostile, 'tenant_id');

    // Assert
    expect(topLevelTenant).toBeUndefined();
    expect(claimAt(hostile, 'isAdmin')).toBeUndefined();
    expect(claimAt(hostile, '__proto__.tenant_id')).toBe('t-evil');
    expect(claimAt(hostile, 'constructor')).toBeUndefined();
    expect(claimAt(hostile, 'toString')).toBeUndefined();
    expect(({} as Record<string, unknown>).tenant_id).toBeUndefined();
  });

  it('reads nothing from non-objects', () => {
    expect(claimAt(null, 'sub')).toBeUndefined();
    expect(claimAt('user-1', 'length')).toBeUndefined();
    expect(claimAt(['a'], '0')).toBeUndefined();
  });
});
