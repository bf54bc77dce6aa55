import { readFileSync } from 'node:fs';
import path from 'node:path';
import { demoRequests } from '../../local/examples';
import { type LocalWithCli, bearer, call, startLocalWithCli } from '../support/local';

/**
 * Each provider's example configuration (config/examples/<provider>.json) in local mode, over HTTP: the configured
 * issuer is served by a local stand-in (same iss and claim rules, keys from the gateway), `gatehouse --local tokens
 * mint --issuer <id>` mints a token in that provider's shape, the gateway allows it for the tenant it names, and a
 * token for another app (audience, client or authorized party) is a 401. One local mode per provider, shared by its
 * cases. Tenant ids are lowercase (`acme`): the providers' org ids (`org_...`) do not match TENANT_ID_PATTERN on this
 * branch; Entra's tenant is its directory id, a lowercase GUID, which does.
 */
const ROOT = path.resolve(__dirname, '../..');
const example = (provider: string): Record<string, unknown> => JSON.parse(readFileSync(path.join(ROOT, 'config/examples', `${provider}.json`), 'utf8'));
/** The example with short caches: each token is decided afresh. */
const fresh = (doc: Record<string, unknown>) => ({ ...doc, deployment: { ...(doc.deployment as object), authorizerResultTtlSeconds: 0 } });

const ENTRA_TID = '3f1c2a9e-8b4d-4e7a-9c21-5d6e7f8a9b0c';

interface Provider {
  readonly provider: string;
  readonly tenant: string;
  /** Mint options that make a token for another app of the same provider. */
  readonly wrongApp: readonly string[];
  /** The claims the provider's documentation puts in such a token, as minted here. */
  readonly shape: Record<string, unknown>;
  /** The principal /v1/me reports. */
  readonly principal: Record<string, unknown>;
}

const PROVIDERS: readonly Provider[] = [
  {
    provider: 'cognito',
    tenant: 'acme',
    wrongApp: ['--client-id', '1other2client3id4567890abc'],
    shape: { token_use: 'access', client_id: '5g0m4k7q2r8t1v3x6z9b2d4f6h', scope: 'customers:read customers:write', 'custom:tenant_id': 'acme', 'cognito:groups': ['admin'], iss: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_7Xk9QmZ2p' },
    principal: { issuer: 'cognito', tenantId: 'acme', scopes: ['customers:read', 'customers:write'], roles: ['admin'] },
  },
  {
    provider: 'auth0',
    tenant: 'acme',
    wrongApp: ['--audience', 'https://other-api.acme.example/'],
    shape: {
      iss: 'https://acme-prod.eu.auth0.com/',
      aud: ['https://api.acme.example/', 'https://acme-prod.eu.auth0.com/userinfo'],
      org_id: 'acme',
      permissions: ['customers:read', 'customers:write'],
      'https://acme.example/roles': ['admin'],
    },
    principal: { issuer: 'auth0', tenantId: 'acme', scopes: expect.arrayContaining(['customers:read', 'customers:write']), roles: ['admin'] },
  },
  {
    provider: 'entra',
    tenant: ENTRA_TID,
    wrongApp: ['--audience', '00000000-1111-4222-8333-444444444444'],
    shape: { iss: `https://login.microsoftonline.com/${ENTRA_TID}/v2.0`, ver: '2.0', aud: 'b7d3e1f2-4a5c-4d8e-9f01-2a3b4c5d6e7f', tid: ENTRA_TID, scp: 'customers:read customers:write', roles: ['admin'] },
    principal: { issuer: 'entra', tenantId: ENTRA_TID, scopes: ['customers:read', 'customers:write'], roles: ['admin'] },
  },
  {
    provider: 'workos',
    tenant: 'acme',
    wrongApp: ['--client-id', 'client_01HZ8QW3N5V7X9B2D4F6H8OTHER'],
    shape: { iss: 'https://api.workos.com/user_management/client_01HZ8QW3N5V7X9B2D4F6H8J0KM', org_id: 'acme', permissions: ['customers:read', 'customers:write'], role: 'admin', roles: ['admin'] },
    principal: { issuer: 'workos', tenantId: 'acme', scopes: ['customers:read', 'customers:write'], roles: ['admin'] },
  },
];

describe.each(PROVIDERS)('$provider example in local mode', ({ provider, tenant, wrongApp, shape, principal }) => {
  let local: LocalWithCli;
  let base: string;
  beforeAll(async () => {
    local = await startLocalWithCli(fresh(example(provider)));
    base = local.env.credentials.baseUrl;
  });
  afterAll(() => local?.close());

  const mint = async (...args: string[]) => {
    const r = await local.cli('--json', 'tokens', 'mint', '--issuer', provider, '--sub', 'user-1', '--tenant', tenant, ...args);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    return r.json() as { token: string; claims: Record<string, unknown>; issuer: string };
  };

  it('keeps the configured issuer as a stand-in and answers every request local mode prints as promised', async () => {
    expect(local.env.credentials.standIns).toEqual([expect.objectContaining({ id: provider, type: provider })]);
    expect(local.env.credentials.droppedIssuers).toEqual([]);
    for (const r of demoRequests(local.env.credentials).filter((x) => x.expect !== undefined)) {
      const { status } = await call(base, r.method, r.path, { ...r.headers }, r.body);
      expect({ request: r.title, status }).toEqual({ request: r.title, status: r.expect });
    }
  });

  it("mints a token in the provider's shape that the gateway allows for the tenant: the tenant's customers, 200", async () => {
    expect((await local.cli('tenants', 'create', tenant)).code).toBe(0);
    const minted = await mint('--scope', 'customers:read', '--scope', 'customers:write', '--role', 'admin');
    expect(minted.issuer).toBe(provider);
    expect(minted.claims).toMatchObject(shape);

    const me = await call(base, 'GET', '/v1/me', bearer(minted.token));
    expect(me).toMatchObject({ status: 200, body: { kind: 'user', subject: 'user-1', ...principal } });
    const created = await call(base, 'POST', '/v1/customers', bearer(minted.token), { name: `${provider} customer` });
    expect(created.status).toBe(201);
    const read = await mint('--scope', 'customers:read');
    const list = await call(base, 'GET', '/v1/customers', bearer(read.token));
    expect(list.status).toBe(200);
    expect(list.body.items).toEqual([expect.objectContaining({ id: created.body.id, name: `${provider} customer` })]);
    // Another tenant's token of the same issuer sees none of them (globex has no customers).
    if (provider !== 'entra') {
      const other = (await local.cli('--json', 'tokens', 'mint', '--issuer', provider, '--sub', 'user-2', '--tenant', 'globex', '--scope', 'customers:read')).json();
      expect((await call(base, 'GET', '/v1/customers', bearer(other.token))).body.items).toEqual([]);
    }
  });

  it('refuses a token minted for another app of the same provider (401)', async () => {
    const wrong = await mint('--scope', 'customers:read', ...wrongApp);
    expect((await call(base, 'GET', '/v1/customers', bearer(wrong.token))).status).toBe(401);
  });
});

describe('cognito: id tokens and the token kinds', () => {
  let local: LocalWithCli;
  beforeAll(async () => {
    local = await startLocalWithCli(fresh(example('cognito')));
  });
  afterAll(() => local?.close());

  it('an id token (aud = the app client, no scope) is refused by an issuer that accepts access tokens, and mint says so', async () => {
    const r = await local.cli('tokens', 'mint', '--issuer', 'cognito', '--sub', 'u', '--tenant', 'demo', '--token-use', 'id');
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('this issuer accepts access tokens only');
    const json = (await local.cli('--json', 'tokens', 'mint', '--issuer', 'cognito', '--sub', 'u', '--tenant', 'demo', '--token-use', 'id')).json();
    expect(json.claims).toMatchObject({ token_use: 'id', aud: '5g0m4k7q2r8t1v3x6z9b2d4f6h', 'cognito:username': 'u', 'custom:tenant_id': 'demo' });
    expect(json.claims).not.toHaveProperty('scope');
    expect((await call(local.env.credentials.baseUrl, 'GET', '/v1/me', bearer(r.stdout.trim()))).status).toBe(401);
  });

  it.each([
    [['--token-use', 'id', '--scope', 'customers:read'], 'Cognito id tokens carry no scopes'],
    [['--azp', 'https://app.example'], '--azp: not a choice of cognito tokens'],
    [['--token-use', 'both'], "argument 'both' is invalid"],
  ])('%j is a usage error (exit 2)', async (args, message) => {
    const r = await local.cli('tokens', 'mint', '--issuer', 'cognito', '--sub', 'u', ...args);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
  });
});

describe('clerk example in local mode', () => {
  let local: LocalWithCli;
  let base: string;
  beforeAll(async () => {
    local = await startLocalWithCli(fresh(example('clerk')));
    base = local.env.credentials.baseUrl;
  });
  afterAll(() => local?.close());

  it('answers every request local mode prints as promised (the __session cookie routes included)', async () => {
    expect(local.env.credentials.standIns).toEqual([expect.objectContaining({ id: 'clerk', type: 'clerk' })]);
    for (const r of demoRequests(local.env.credentials).filter((x) => x.expect !== undefined)) {
      const { status } = await call(base, r.method, r.path, { ...r.headers }, r.body);
      expect({ request: r.title, status }).toEqual({ request: r.title, status: r.expect });
    }
  });

  it('a v2 session token: the organization in o, permissions encoded in fea/o.per/o.fpm and read back as org:<feature>:<permission>', async () => {
    expect((await local.cli('tenants', 'create', 'acme')).code).toBe(0);
    const r = await local.cli('--json', 'tokens', 'mint', '--issuer', 'clerk', '--sub', 'user_2ZUtbk2yvnFGItdeze1ivCh3uqh', '--tenant', 'acme', '--scope', 'customers:read', '--scope', 'customers:write', '--scope', 'invoices:read', '--role', 'admin');
    expect(r.code).toBe(0);
    const { token, claims } = r.json();
    expect(claims).toMatchObject({ v: 2, azp: 'https://app.acme.example', iss: 'https://clerk.acme.example', fea: 'o:customers,o:invoices', o: { id: 'acme', rol: 'admin', per: 'read,write', fpm: '3,1' } });
    const me = await call(base, 'GET', '/v1/me', bearer(token));
    expect(me).toMatchObject({ status: 200, body: { issuer: 'clerk', tenantId: 'acme', roles: ['org:admin'], scopes: ['org:customers:read', 'org:customers:write', 'org:invoices:read'] } });
    // Clerk's permission keys are org:<feature>:<permission>; the example's customer routes (and the customers
    // handler) require customers:read, which no Clerk token carries: refused by the route's policy.
    expect((await call(base, 'GET', '/v1/customers', bearer(token))).status).toBe(403);
  });

  it('refuses a token made for another origin (azp)', async () => {
    const other = (await local.cli('--json', 'tokens', 'mint', '--issuer', 'clerk', '--sub', 'u', '--tenant', 'acme', '--azp', 'https://evil.example')).json();
    expect((await call(base, 'GET', '/v1/me', bearer(other.token))).status).toBe(401);
  });

  it('permissions and a role need an active organization (--tenant); one role only', async () => {
    expect((await local.cli('tokens', 'mint', '--issuer', 'clerk', '--sub', 'u', '--scope', 'customers:read')).stderr).toContain('pass --tenant');
    expect((await local.cli('tokens', 'mint', '--issuer', 'clerk', '--sub', 'u', '--tenant', 'acme', '--role', 'a', '--role', 'b')).code).toBe(2);
    expect((await local.cli('tokens', 'mint', '--issuer', 'clerk', '--sub', 'u', '--tenant', 'acme', '--scope', 'read')).stderr).toContain('<feature>:<permission>');
  });
});

describe('entra: the tenant is a configured directory', () => {
  let local: LocalWithCli;
  beforeAll(async () => {
    local = await startLocalWithCli(fresh(example('entra')));
  });
  afterAll(() => local?.close());

  it('refuses a tenant that is not one of the configured directories, and mints for the second one with its own iss', async () => {
    const r = await local.cli('--json', 'tokens', 'mint', '--issuer', 'entra', '--sub', 'u', '--tenant', 'acme');
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stderr).message).toContain('not one of 3f1c2a9e-8b4d-4e7a-9c21-5d6e7f8a9b0c, a4e8b2c6-1d3f-4a5b-8c7d-9e0f1a2b3c4d');
    const second = 'a4e8b2c6-1d3f-4a5b-8c7d-9e0f1a2b3c4d';
    expect((await local.cli('tenants', 'create', second)).code).toBe(0);
    const minted = (await local.cli('--json', 'tokens', 'mint', '--issuer', 'entra', '--sub', 'u', '--tenant', second)).json();
    expect(minted.claims).toMatchObject({ iss: `https://login.microsoftonline.com/${second}/v2.0`, tid: second, oid: 'u' });
    const me = await call(local.env.credentials.baseUrl, 'GET', '/v1/me', bearer(minted.token));
    expect(me).toMatchObject({ status: 200, body: { issuer: 'entra', tenantId: second, subject: 'u' } });
  });

  it('local mode prints how to mint for it rather than a demo token (the demo tenant is no directory)', () => {
    expect(local.env.credentials.standIns).toEqual([expect.objectContaining({ id: 'entra', tenant: ENTRA_TID, note: expect.stringContaining(`tenants create ${ENTRA_TID}`) })]);
    expect(local.env.credentials.standIns[0]).not.toHaveProperty('token');
  });
});

describe('oidc stand-ins, and the issuers local mode cannot stand in for', () => {
  let local: LocalWithCli;
  const base = JSON.parse(readFileSync(path.join(ROOT, 'config/gatehouse.example.json'), 'utf8')) as Record<string, unknown>;
  const oidc = { type: 'oidc', claims: { tenant: 'org', scopes: 'scope', roles: 'roles' } };
  beforeAll(async () => {
    local = await startLocalWithCli(
      fresh({
        ...base,
        issuers: [
          ...(base.issuers as object[]),
          { ...oidc, id: 'keycloak', issuer: 'https://sso.acme.example/realms/acme', keys: { jwksUrl: 'https://sso.acme.example/realms/acme/protocol/openid-connect/certs' }, algorithms: ['RS256'], audience: 'acme-api' },
          { ...oidc, id: 'legacy', issuer: 'https://legacy.acme.example', keys: { hs256SecretId: 'acme/legacy-jwt-secret' }, algorithms: ['HS256'], audience: 'acme-api' },
          { ...oidc, id: 'pinned', issuer: 'https://pinned.acme.example', keys: { jwks: { keys: [{ kty: 'EC', crv: 'P-256', x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU', y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0' }] } }, algorithms: ['ES256'], audience: 'acme-api' },
          { ...oidc, id: 'edwards', issuer: 'https://ed.acme.example', keys: { jwksUrl: 'https://ed.acme.example/jwks' }, algorithms: ['EdDSA'], audience: 'acme-api' },
        ],
      }),
    );
  });
  afterAll(() => local?.close());

  it('keeps the JWKS and HS256 issuers, and says why each other one is not served', () => {
    const c = local.env.credentials;
    expect(c.standIns.map((s) => s.id)).toEqual(['supabase', 'workos', 'keycloak', 'legacy']);
    expect(c.droppedIssuers).toEqual([
      { id: 'pinned', reason: expect.stringContaining('static JWKS') },
      { id: 'edwards', reason: expect.stringContaining('this issuer pins EdDSA') },
    ]);
    expect(local.env.cliTarget.issuerIds).toEqual(['local', 'supabase', 'workos', 'keycloak', 'legacy']);
  });

  it("stands in for the Supabase issuer with its own iss and claim paths, HS256 with a local secret: its minted tokens pass", async () => {
    const r = await local.cli('--json', 'tokens', 'mint', '--issuer', 'supabase', '--sub', 'u', '--tenant', 'demo', '--scope', 'customers:read', '--role', 'admin');
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    const { token, claims } = r.json();
    expect(claims).toMatchObject({ iss: 'https://abcdefghijklmnop.supabase.co/auth/v1', aud: 'authenticated', app_metadata: { tenant_id: 'demo', scopes: ['customers:read'], roles: ['admin'] } });
    expect(JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString()).alg).toBe('HS256');
    const me = await call(local.env.credentials.baseUrl, 'GET', '/v1/customers', bearer(token));
    expect(me.status).toBe(200);
    expect((await call(local.env.credentials.baseUrl, 'GET', '/v1/me', bearer(token))).body).toMatchObject({ issuer: 'supabase', tenantId: 'demo', subject: 'u' });
  });

  it.each(['keycloak', 'legacy'])('mints %s tokens from its configuration (claims where it reads them) that the gateway allows; another audience is a 401', async (id) => {
    const r = await local.cli('--json', 'tokens', 'mint', '--issuer', id, '--sub', 'u', '--tenant', 'demo', '--scope', 'customers:read', '--role', 'admin');
    expect(r.code).toBe(0);
    const { token, claims } = r.json();
    expect(claims).toMatchObject({ aud: 'acme-api', org: 'demo', scope: 'customers:read', roles: ['admin'] });
    expect(JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString()).alg).toBe(id === 'legacy' ? 'HS256' : 'RS256');
    const answer = await call(local.env.credentials.baseUrl, 'GET', '/v1/customers', bearer(token));
    expect(answer.status).toBe(200);
    const wrong = (await local.cli('--json', 'tokens', 'mint', '--issuer', id, '--sub', 'u', '--tenant', 'demo', '--scope', 'customers:read', '--audience', 'other-api')).json();
    expect((await call(local.env.credentials.baseUrl, 'GET', '/v1/customers', bearer(wrong.token))).status).toBe(401);
  });

  it('names the stand-ins when --issuer names none, and keeps the preset choices to --issuer', async () => {
    const none = await local.cli('--json', 'tokens', 'mint', '--issuer', 'pinned', '--sub', 'u');
    expect(none.code).toBe(2);
    expect(JSON.parse(none.stderr).message).toContain('pinned has no local stand-in (stand-ins: supabase, workos, keycloak, legacy');
    const local1 = await local.cli('tokens', 'mint', '--sub', 'u', '--audience', 'x');
    expect(local1.code).toBe(2);
    expect(local1.stderr).toContain('--audience: only with --issuer');
    expect((await local.cli('tokens', 'mint', '--issuer', 'keycloak', '--sub', 'u', '--azp', 'x')).stderr).toContain('--azp: not a choice of oidc tokens');
  });

  it('without --issuer, or with the local issuer, mints the Supabase-style HS256 token as before; members still default to the local issuer', async () => {
    for (const args of [[], ['--issuer', 'local']]) {
      const r = (await local.cli('--json', 'tokens', 'mint', '--sub', 'dev', '--tenant', 'demo', ...args)).json();
      expect(Object.keys(r).sort()).toEqual(['expiresAt', 'sessionId', 'token']);
      expect(JSON.parse(Buffer.from(r.token.split('.')[0], 'base64url').toString())).toEqual({ alg: 'HS256', typ: 'JWT' });
    }
    const added = await local.cli('--json', 'members', 'add', '--tenant', 'demo', '--user', 'dev', '--role', 'member');
    expect(added.json()).toMatchObject({ issuer: 'local' });
    expect((await local.cli('--json', 'members', 'add', '--tenant', 'demo', '--user', 'dev', '--issuer', 'keycloak')).json()).toMatchObject({ issuer: 'keycloak' });
  });
});
