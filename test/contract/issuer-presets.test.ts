import { type AuthorizerConfig, issuerIdentity, parseConfig } from '../../contract/config';
import { ConfigError } from '../../contract/config-error';

/**
 * The issuer presets as configuration (contract/issuer-presets.ts, contract/config-issuers.ts): each parses with its
 * documented defaults and derives the exact `iss` values the provider's tokens carry; each wrong configuration is
 * refused with the field named, as `cdk synth` shows it (test/lib/preset-config-stack.test.ts).
 */

/** A valid document around one issuer. */
const documentWith = (...issuers: unknown[]) => ({
  environment: 'live',
  tableName: 'gatehouse-main',
  issuers,
  apiKeys: { prefix: 'gh' },
  routes: [{ method: 'GET', path: '/v1/me', accepts: ['user', 'apiKey'] }],
});
const parsed = (issuer: unknown): AuthorizerConfig['issuers'][number] => parseConfig(documentWith(issuer)).issuers[0]!;

/** The ConfigError message parseConfig throws for a document with these issuers (fails on acceptance or any other error). */
function rejection(...issuers: unknown[]): string {
  let thrown: unknown;
  try {
    parseConfig(documentWith(...issuers));
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(ConfigError);
  return (thrown as ConfigError).message;
}

const COMMON_DEFAULTS = { clockToleranceSeconds: 30, maxTokenAgeSeconds: 86_400, tenantRequired: true, revokedSessions: false, jwksTimeoutMs: 1500 };
const cognito = { type: 'cognito', userPoolId: 'us-west-2_example', clientIds: ['xxxxxxxxxxxxexample'] };
const auth0 = { type: 'auth0', domain: 'exampleco.auth0.com', audience: 'https://example-api/' };
const clerk = { type: 'clerk', frontendApiUrl: 'https://clerk.your-site.com', authorizedParties: ['https://example.com'] };
const entra = { type: 'entra', tenants: ['72f988bf-86f1-41af-91ab-2d7cd011db47'], audience: '6e74172b-be56-4843-9ff4-e66a39bb12e3' };

describe('issuer presets: defaults', () => {
  it('cognito: access tokens, tenant from custom:tenant_id, groups as roles; the original and the updated iss', () => {
    const iss = parsed(cognito);

    expect(iss).toMatchObject({ ...cognito, tokenUse: 'access', tenantClaim: 'custom:tenant_id', rolesClaim: 'cognito:groups', ...COMMON_DEFAULTS });
    expect(iss).not.toHaveProperty('region');
    expect(issuerIdentity(iss)).toEqual({
      id: 'cognito',
      issuers: ['https://cognito-idp.us-west-2.amazonaws.com/us-west-2_example', 'https://issuer-cognito-idp.us-west-2.amazonaws.com/us-west-2_example'],
    });
    expect(parsed({ ...cognito, region: 'us-west-2', tokenUse: 'id' })).toMatchObject({ region: 'us-west-2', tokenUse: 'id' });
  });

  it('auth0: RS256, tenant from org_id, no roles claim; iss is the domain with its trailing slash', () => {
    const iss = parsed(auth0);

    expect(iss).toMatchObject({ ...auth0, algorithms: ['RS256'], tenantClaim: 'org_id', ...COMMON_DEFAULTS });
    expect(iss).not.toHaveProperty('rolesClaim');
    expect(issuerIdentity(iss)).toEqual({ id: 'auth0', issuers: ['https://exampleco.auth0.com/'] });
    expect(parsed({ ...auth0, audience: ['https://example-api/', 'https://other-api/'], algorithms: ['PS256'] })).toMatchObject({ algorithms: ['PS256'] });
  });

  it('clerk: azp required, pending sessions refused; iss is the Frontend API URL without a trailing slash', () => {
    const iss = parsed({ ...clerk, frontendApiUrl: 'https://clerk.your-site.com/' });

    expect(iss).toMatchObject({ allowMissingAzp: false, allowPendingSessions: false, ...COMMON_DEFAULTS });
    expect(issuerIdentity(iss)).toEqual({ id: 'clerk', issuers: ['https://clerk.your-site.com'] });
    expect(parsed({ ...clerk, authorizedParties: ['http://localhost:5173'] })).toMatchObject({ authorizedParties: ['http://localhost:5173'] });
  });

  it('entra: oid as subject, the public cloud; one v2.0 iss per tenant', () => {
    const second = 'fa15d692-e9c7-4460-a743-29f2956fd429';
    const iss = parsed({ ...entra, tenants: [...entra.tenants, second] });

    // The age cap is 28 hours: tokens of clients capable of continuous access evaluation live 20-28 hours.
    expect(iss).toMatchObject({ subjectClaim: 'oid', authority: 'https://login.microsoftonline.com', ...COMMON_DEFAULTS, maxTokenAgeSeconds: 100_800 });
    expect(issuerIdentity(iss).issuers).toEqual([
      'https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0',
      `https://login.microsoftonline.com/${second}/v2.0`,
    ]);
    expect(issuerIdentity(parsed({ ...entra, authority: 'https://login.microsoftonline.us/' })).issuers).toEqual([
      'https://login.microsoftonline.us/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0',
    ]);
  });

  it('workos: the per-client issuer unless `issuer` says otherwise (one or a list)', () => {
    expect(issuerIdentity(parsed({ type: 'workos', clientId: 'client_123456789' })).issuers).toEqual(['https://api.workos.com/user_management/client_123456789']);
    expect(issuerIdentity(parsed({ type: 'workos', clientId: 'client_1', issuer: 'https://api.workos.com' })).issuers).toEqual(['https://api.workos.com']);
    const list = ['https://api.workos.com/user_management/client_1', 'https://auth.example.com/user_management/client_1'];
    expect(issuerIdentity(parsed({ type: 'workos', clientId: 'client_1', issuer: list })).issuers).toEqual(list);
  });

  it('supabase: JWKS on, anonymous users refused, the tenant from app_metadata, aud authenticated', () => {
    const iss = parsed({ type: 'supabase', url: 'https://abcdefghijklmnopqrst.supabase.co' });

    expect(iss).toMatchObject({ jwks: true, allowAnonymous: false, tenantClaim: 'app_metadata.tenant_id', rolesClaim: 'app_metadata.roles', audience: 'authenticated' });
    expect(issuerIdentity(iss).issuers).toEqual(['https://abcdefghijklmnopqrst.supabase.co/auth/v1']);
  });

  it('oidc: no audience needed when `client` pins the app', () => {
    const iss = parsed({ type: 'oidc', issuer: 'https://login.example.com/', keys: { jwksUrl: 'https://login.example.com/jwks' }, algorithms: ['RS256'], client: { claim: 'client_id', allowed: ['app-1'] } });

    expect(iss).toMatchObject({ client: { claim: 'client_id', allowed: ['app-1'] } });
    expect(iss).not.toHaveProperty('audience');
  });

  it('every preset takes a loopback jwksUrl (plain http only on loopback)', () => {
    for (const preset of [cognito, auth0, clerk, entra]) {
      expect(parsed({ ...preset, jwksUrl: 'http://127.0.0.1:4010/.well-known/jwks.json' })).toMatchObject({ jwksUrl: 'http://127.0.0.1:4010/.well-known/jwks.json' });
      expect(rejection({ ...preset, jwksUrl: 'http://keys.example.com/jwks.json' })).toContain('issuers[0].jwksUrl: ');
    }
  });
});

describe('issuer presets: wrong configurations are refused with the field named', () => {
  it.each<[string, unknown, string]>([
    ['cognito: a region other than the user pool id says', { ...cognito, region: 'eu-west-1' }, 'issuers[0].region: '],
    ['cognito: a user pool id without its region', { ...cognito, userPoolId: 'example' }, 'issuers[0].userPoolId: '],
    ['cognito: a user pool id with a bad character', { ...cognito, userPoolId: 'us-west-2_ex-ample' }, 'issuers[0].userPoolId: '],
    ['cognito: no app client', { ...cognito, clientIds: [] }, 'issuers[0].clientIds: '],
    ['cognito: an app client id with a dash', { ...cognito, clientIds: ['xxxx-example'] }, 'issuers[0].clientIds[0]: '],
    ['cognito: a tokenUse other than access or id', { ...cognito, tokenUse: 'both' }, 'issuers[0].tokenUse: '],
    ['cognito: the singular clientId (a typo)', { ...cognito, clientId: 'xxxxxxxxxxxxexample' }, 'issuers[0]: Unrecognized key: "clientId"'],
    ['auth0: a domain with https://', { ...auth0, domain: 'https://exampleco.auth0.com' }, 'issuers[0].domain: '],
    ['auth0: a domain with a path', { ...auth0, domain: 'exampleco.auth0.com/' }, 'issuers[0].domain: '],
    ["auth0: the Management API's audience", { ...auth0, audience: 'https://exampleco.auth0.com/api/v2/' }, 'issuers[0].audience: '],
    ["auth0: the Management API's audience among others", { ...auth0, audience: ['https://example-api/', 'https://exampleco.auth0.com/api/v2/'] }, 'issuers[0].audience: '],
    ['auth0: no audience', { type: 'auth0', domain: 'exampleco.auth0.com' }, 'issuers[0].audience: '],
    ['auth0: HS256 (needs the API secret, not the JWKS)', { ...auth0, algorithms: ['HS256'] }, 'issuers[0].algorithms[0]: '],
    ['clerk: an authorized party with a path', { ...clerk, authorizedParties: ['https://example.com/app'] }, 'issuers[0].authorizedParties[0]: '],
    ['clerk: an authorized party with a trailing slash', { ...clerk, authorizedParties: ['https://example.com', 'https://example.com/'] }, 'issuers[0].authorizedParties[1]: '],
    ['clerk: no authorized party', { ...clerk, authorizedParties: [] }, 'issuers[0].authorizedParties: '],
    ['clerk: a Frontend API URL over plain http', { ...clerk, frontendApiUrl: 'http://clerk.your-site.com' }, 'issuers[0].frontendApiUrl: '],
    ['entra: a tenant that is not a GUID (a domain)', { ...entra, tenants: ['contoso.onmicrosoft.com'] }, 'issuers[0].tenants[0]: '],
    ['entra: the multi-tenant alias common', { ...entra, tenants: ['common'] }, 'issuers[0].tenants[0]: '],
    ['entra: an uppercase GUID', { ...entra, tenants: ['72F988BF-86F1-41AF-91AB-2D7CD011DB47'] }, 'issuers[0].tenants[0]: '],
    ['entra: a tenant listed twice', { ...entra, tenants: [entra.tenants[0], entra.tenants[0]] }, 'issuers[0].tenants: '],
    ['entra: a subject claim other than oid or sub', { ...entra, subjectClaim: 'upn' }, 'issuers[0].subjectClaim: '],
    ['oidc: neither audience nor client', { type: 'oidc', issuer: 'https://login.example.com/', keys: { jwksUrl: 'https://login.example.com/jwks' }, algorithms: ['RS256'] }, 'issuers[0].audience: '],
    ['workos: an issuer over plain http', { type: 'workos', clientId: 'client_1', issuer: 'http://api.workos.com' }, 'issuers[0].issuer: '],
  ])('%s', (_name, issuer, named) => {
    expect(rejection(issuer)).toContain(`  - ${named}`);
  });

  it('names every bad field of several presets at once, each at its own index', () => {
    const message = rejection(auth0, { ...entra, tenants: ['common'] }, { ...cognito, clientIds: [] });

    expect(message).toMatch(/issuers\[1\]\.tenants\[0\]: [^\n]+\n {2}- issuers\[2\]\.clientIds: /);
  });

  it('two presets with the same iss are refused', () => {
    expect(rejection(cognito, { ...cognito, id: 'cognito-again', tokenUse: 'id' })).toContain('  - issuers[1]: duplicate issuer');
  });

  it('never echoes a value in the message (a misplaced secret must not reach the logs)', () => {
    const MARKER = 'zqxmarkerzqx';

    for (const issuer of [
      { ...cognito, userPoolId: `us-west-2_${MARKER}`, region: 'eu-west-1' },
      { ...cognito, userPoolId: MARKER },
      { ...auth0, domain: `https://${MARKER}.auth0.com` },
      { ...clerk, authorizedParties: [`https://${MARKER}.example.com/path`] },
      { ...entra, tenants: [MARKER] },
    ]) {
      expect(rejection(issuer)).not.toContain(MARKER);
    }
  });
});
