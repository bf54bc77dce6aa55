import { CLAIM_NAME_PATTERN, DOTTED_CLAIM_PATH, claimAt, claimLabel, claimRoot, claimSegments } from '../../contract/claim-path';

/**
 * Claim paths (contract/claim-path.ts): dotted plain names nest, any other string is one top-level claim, an array
 * names each level. The names providers use: Supabase `app_metadata.tenant_id`, Cognito `custom:tenant_id` and
 * `cognito:groups`, Auth0's namespaced `https://example.com/roles`, Clerk's `o.id`.
 */
describe('claimSegments', () => {
  it.each<[string, string[]]>([
    ['sub', ['sub']],
    ['app_metadata.tenant_id', ['app_metadata', 'tenant_id']],
    ['o.id', ['o', 'id']],
    ['a-b.c_d.E9', ['a-b', 'c_d', 'E9']],
    ['_private.x', ['_private', 'x']],
  ])('splits the dotted plain names %s', (path, segments) => {
    expect(claimSegments(path)).toEqual(segments);
  });

  it.each<[string]>([
    ['custom:tenant_id'],
    ['cognito:groups'],
    ['https://example.com/roles'],
    // A URL with dots, a colon and slashes: one claim, never split at its dots.
    ['https://my-app.example.com/tenant.id'],
    ['app_metadata.tenant:id'],
    ['urn:example:claims.tenant'],
    ['a..b'],
    ['.a'],
    ['a.'],
    ['1a.b'],
    ['tenant id'],
    ['with.space here'],
  ])('reads %s verbatim as one top-level claim', (path) => {
    expect(claimSegments(path)).toEqual([path]);
  });

  it('returns an array as it is, one name per level, dots inside a name kept', () => {
    const path = ['https://example.com/app', 'tenant.id'] as const;

    expect(claimSegments(path)).toBe(path);
    expect(claimSegments(['tenant.id'])).toEqual(['tenant.id']);
  });

  it('keeps __proto__ and constructor plain names, read as own properties only', () => {
    const payload = JSON.parse('{"__proto__": {"tenant": "from-json"}, "constructor": {"prototype": "x"}}');

    expect(claimSegments('__proto__')).toEqual(['__proto__']);
    expect(claimSegments('__proto__.tenant')).toEqual(['__proto__', 'tenant']);
    expect(claimAt(payload, claimSegments('__proto__.tenant'))).toBe('from-json');
    expect(claimAt(payload, claimSegments('constructor.prototype'))).toBe('x');
    // Never the prototype chain of an object that lacks them.
    expect(claimAt({}, claimSegments('__proto__'))).toBeUndefined();
    expect(claimAt({}, claimSegments('constructor.name'))).toBeUndefined();
    expect(claimAt({ a: [{ b: 1 }] }, ['a', '0', 'b'])).toBeUndefined();
    expect(({} as Record<string, unknown>).tenant).toBeUndefined();
  });

  it('reads each provider claim where the provider puts it', () => {
    const payload = {
      'custom:tenant_id': 'acme',
      'https://example.com/roles': ['admin'],
      app_metadata: { tenant_id: 'globex' },
      o: { id: 'org_2ZUtbk2yvnFGItdeze1ivCh3uqh' },
      'https://example.com/app': { 'tenant.id': 'initech' },
    };

    expect(claimAt(payload, claimSegments('custom:tenant_id'))).toBe('acme');
    expect(claimAt(payload, claimSegments('https://example.com/roles'))).toEqual(['admin']);
    expect(claimAt(payload, claimSegments('app_metadata.tenant_id'))).toBe('globex');
    expect(claimAt(payload, claimSegments('o.id'))).toBe('org_2ZUtbk2yvnFGItdeze1ivCh3uqh');
    expect(claimAt(payload, claimSegments(['https://example.com/app', 'tenant.id']))).toBe('initech');
  });
});

describe('claimLabel and claimRoot', () => {
  it('labels a string path as itself and an array as JSON', () => {
    expect(claimLabel('custom:tenant_id')).toBe('custom:tenant_id');
    expect(claimLabel('app_metadata.tenant_id')).toBe('app_metadata.tenant_id');
    expect(claimLabel(['https://example.com/app', 'tenant'])).toBe('["https://example.com/app","tenant"]');
  });

  it('finds the first level, so a rule about user_metadata sees every way of naming it', () => {
    expect(claimRoot('user_metadata.tenant_id')).toBe('user_metadata');
    expect(claimRoot(['user_metadata', 'tenant_id'])).toBe('user_metadata');
    expect(claimRoot('custom:tenant_id')).toBe('custom:tenant_id');
    // Not nested: a top-level claim whose name merely starts with user_metadata.
    expect(claimRoot('user_metadata:tenant')).toBe('user_metadata:tenant');
  });
});

describe('the patterns', () => {
  it('a claim name is 1-256 characters without control characters', () => {
    expect(CLAIM_NAME_PATTERN.test('https://example.com/roles')).toBe(true);
    expect(CLAIM_NAME_PATTERN.test('x'.repeat(256))).toBe(true);
    expect(CLAIM_NAME_PATTERN.test('x'.repeat(257))).toBe(false);
    expect(CLAIM_NAME_PATTERN.test('')).toBe(false);
    expect(CLAIM_NAME_PATTERN.test('tenant\nid')).toBe(false);
    expect(CLAIM_NAME_PATTERN.test('tenant\u0000')).toBe(false);
    expect(CLAIM_NAME_PATTERN.test('tenant\u007f')).toBe(false);
  });

  it('only plain names joined by single dots are dotted', () => {
    expect(DOTTED_CLAIM_PATH.test('app_metadata.tenant_id')).toBe(true);
    expect(DOTTED_CLAIM_PATH.test('sub')).toBe(true);
    expect(DOTTED_CLAIM_PATH.test('custom:tenant_id')).toBe(false);
    expect(DOTTED_CLAIM_PATH.test('a..b')).toBe(false);
  });
});
