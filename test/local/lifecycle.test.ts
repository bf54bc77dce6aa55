import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { type LocalWithCli, bearer, call, exampleConfig, startLocalWithCli, waitForStatus } from '../support/local';

/**
 * The credential lifecycle as an operator runs it: the command-line tool (`gatehouse --local ...`, in-process, the
 * same code the npm bin runs) against local mode, and requests through the local gateway in between. Cache TTLs
 * are short here so that each documented revocation bound can be waited out.
 */
const BOUND = { apiKeyCache: 1, tenantCache: 1, resultTtl: 2 };
let local: LocalWithCli;
let base: string;

beforeAll(async () => {
  const example = exampleConfig();
  local = await startLocalWithCli({
    ...example,
    apiKeys: { prefix: 'gh', cacheTtlSeconds: BOUND.apiKeyCache, negativeCacheTtlSeconds: 1 },
    tenants: { verify: true, cacheTtlSeconds: BOUND.tenantCache },
    deployment: { ...(example.deployment as object), authorizerResultTtlSeconds: BOUND.resultTtl },
  });
  base = local.env.credentials.baseUrl;
});
afterAll(() => local.close());

const customers = (key: string) => call(base, 'GET', '/v1/customers', bearer(key)).then((r) => r.status);

describe('a script of CLI calls', () => {
  it('tenant create, key create, a request with the key, key revoke, the request again after the bound', async () => {
    const tenant = await local.cli('--json', 'tenants', 'create', 'acme', '--tier', 'default', '--name', 'Acme Inc');
    expect(tenant.code).toBe(0);
    expect(tenant.json()).toMatchObject({ tenantId: 'acme', status: 'active', tier: 'default', usageKeyId: expect.any(String) });
    expect(tenant.json()).not.toHaveProperty('usageKey');

    const created = await local.cli('--json', 'keys', 'create', '--tenant', 'acme', '--name', 'billing server', '--scope', 'customers:read');
    expect(created.code).toBe(0);
    const { key, keyId } = created.json();
    expect(key).toMatch(/^gh_test_[0-9a-f]{72}$/);
    expect(await customers(key)).toBe(200);

    const listed = await local.cli('--json', 'keys', 'list', '--tenant', 'acme');
    expect(listed.json()).toEqual([expect.objectContaining({ keyId, status: 'active', scopes: ['customers:read'] })]);
    expect(listed.stdout).not.toContain(key);

    const revoked = await local.cli('--json', 'keys', 'revoke', keyId, '--tenant', 'acme');
    expect(revoked.code).toBe(0);
    const bound = BOUND.apiKeyCache + BOUND.resultTtl;
    expect(revoked.json()).toMatchObject({ keyId, status: 'revoked', effectiveWithinSeconds: bound, flushed: false });
    const seen = await waitForStatus(() => customers(key), 401, (bound + 1) * 1000);
    expect(seen.status).toBe(401);
  });

  it('suspending a tenant stops its keys like a revocation; resuming lets them in again', async () => {
    await local.cli('tenants', 'create', 'initech');
    const { key } = (await local.cli('--json', 'keys', 'create', '--tenant', 'initech', '--name', 'k', '--scope', 'customers:read')).json();
    expect(await customers(key)).toBe(200);
    const suspended = await local.cli('--json', 'tenants', 'suspend', 'initech');
    expect(suspended.json()).toMatchObject({ status: 'suspended', effectiveWithinSeconds: BOUND.tenantCache + BOUND.resultTtl });
    expect((await waitForStatus(() => customers(key), 403, (BOUND.tenantCache + BOUND.resultTtl + 1) * 1000)).status).toBe(403);
    expect((await local.cli('--json', 'tenants', 'resume', 'initech')).json()).toMatchObject({ status: 'active' });
    expect((await waitForStatus(() => customers(key), 200, (BOUND.tenantCache + BOUND.resultTtl + 1) * 1000)).status).toBe(200);
  });

  it('rotating a key: both work during the grace period, then only the new one', async () => {
    await local.cli('tenants', 'create', 'umbrella');
    const old = (await local.cli('--json', 'keys', 'create', '--tenant', 'umbrella', '--name', 'rotating', '--scope', 'customers:read')).json();
    const rotated = await local.cli('--json', 'keys', 'rotate', old.keyId, '--tenant', 'umbrella', '--grace', '2s');
    expect(rotated.code).toBe(0);
    const fresh = rotated.json();
    expect(fresh.key).not.toBe(old.key);
    expect(fresh.old).toMatchObject({ keyId: old.keyId, replacedBy: fresh.keyId });
    expect(await customers(fresh.key)).toBe(200);
    expect(await customers(old.key)).toBe(200);
    expect((await waitForStatus(() => customers(old.key), 401, (2 + BOUND.apiKeyCache + BOUND.resultTtl + 1) * 1000)).status).toBe(401);
    expect(await customers(fresh.key)).toBe(200);
  });

  it('a tenant without a usage-plan key is refused (TENANT_NOT_ONBOARDED) until set-tier gives it one; an unknown tier is refused', async () => {
    const db = new DynamoDBClient({});
    try {
      await db.send(
        new PutItemCommand({
          TableName: local.env.tableName,
          Item: { pk: { S: 'TENANT#legacy' }, sk: { S: 'TENANT' }, tenantId: { S: 'legacy' }, status: { S: 'active' }, tier: { S: 'default' } },
        }),
      );
    } finally {
      db.destroy();
    }
    const { key } = (await local.cli('--json', 'keys', 'create', '--tenant', 'legacy', '--name', 'k', '--scope', 'customers:read')).json();
    expect(await customers(key)).toBe(403);
    const unknown = await local.cli('--json', 'tenants', 'set-tier', 'legacy', 'platinum');
    expect(unknown.code).toBe(2);
    expect(JSON.parse(unknown.stderr)).toMatchObject({ error: 'TIER_UNKNOWN' });
    const fixed = await local.cli('--json', 'tenants', 'set-tier', 'legacy', 'default');
    expect(fixed.code).toBe(0);
    expect(fixed.json()).toMatchObject({ tenantId: 'legacy', tier: 'default', usageKeyId: expect.any(String) });
    expect((await waitForStatus(() => customers(key), 200, (BOUND.tenantCache + BOUND.resultTtl + 1) * 1000)).status).toBe(200);
  });

  it('prints people-readable text without --json, and never a key in a listing', async () => {
    const show = await local.cli('tenants', 'show', 'demo');
    expect(show.code).toBe(0);
    expect(show.stdout).toMatch(/API keys:\n\s+KEYID\s+NAME/);
    expect(show.stdout).toContain('demo read-only key');
    expect(show.stdout).not.toContain(local.env.credentials.apiKeyRead);
    expect(show.stdout).not.toMatch(/gh_test_/);
    const list = await local.cli('tenants', 'list');
    expect(list.stdout.split('\n')[0]).toMatch(/^TENANTID\s+STATUS\s+TIER/);
  });
});

describe('bad input gets a clear answer and an exit code', () => {
  it.each([
    [['--json', 'keys', 'create', '--tenant', 'nobody', '--name', 'x'], 3, 'TENANT_NOT_FOUND'],
    [['--json', 'tenants', 'create', 'demo'], 4, 'TENANT_EXISTS'],
    [['--json', 'tenants', 'create', 'Bad#Id'], 2, 'INVALID_INPUT'],
    [['--json', 'keys', 'revoke', 'key_0000000000000000', '--tenant', 'demo'], 3, 'KEY_NOT_FOUND'],
    [['--json', 'keys', 'rotate', 'key_0000000000000000', '--tenant', 'demo', '--grace', 'soon'], 2, 'USAGE'],
    [['--json', 'members', 'add', '--tenant', 'demo', '--user', 'u1', '--issuer', 'nope'], 2, 'USAGE'],
    [['--json', 'services', 'rotate', 'nobody'], 3, 'SERVICE_NOT_FOUND'],
  ])('%j -> exit %i, %s', async (args, code, reason) => {
    const r = await local.cli(...args);
    expect(r.code).toBe(code);
    expect(r.stdout).toBe('');
    expect(JSON.parse(r.stderr)).toMatchObject({ error: reason, message: expect.any(String) });
  });

  it('a missing required option or unknown command is a usage error with help', async () => {
    const r = await local.cli('keys', 'create', '--tenant', 'demo');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("required option '--name <name>' not specified");
    expect((await local.cli('frobnicate')).code).toBe(2);
  });

  it('--help works on every command', async () => {
    for (const cmd of [[], ['tenants'], ['tenants', 'create'], ['keys', 'rotate'], ['services', 'rotate'], ['members', 'add'], ['sessions', 'revoke'], ['tokens', 'mint']]) {
      const r = await local.cli(...cmd, '--help');
      expect({ cmd, code: r.code }).toEqual({ cmd, code: 0 });
      expect(r.stdout).toMatch(/^Usage: gatehouse/);
    }
  });
});

describe('services', () => {
  it('rotates a service secret now while a client keeps calling: no failed request, both secrets work afterwards', async () => {
    const { serviceName, serviceSecret } = local.env.credentials;
    const job = (secret: string) => call(base, 'POST', '/internal/jobs', bearer(secret, { 'X-Service-Name': serviceName }), { job: 'x' }).then((r) => r.status);
    let calling = true;
    const statuses: number[] = [];
    const client = (async () => {
      while (calling) statuses.push(await job(serviceSecret));
    })();
    const rotated = await local.cli('--json', 'services', 'rotate', serviceName);
    calling = false;
    await client;
    expect(rotated.code).toBe(0);
    expect(rotated.json()).toMatchObject({ name: serviceName, mode: 'in-process', versionId: expect.any(String) });
    expect(statuses.length).toBeGreaterThan(0);
    expect(statuses.filter((s) => s !== 202)).toEqual([]);

    const secrets = new SecretsManagerClient({});
    const current = await secrets.send(new GetSecretValueCommand({ SecretId: local.env.cliTarget.services[serviceName]!, VersionStage: 'AWSCURRENT' }));
    secrets.destroy();
    expect(current.SecretString).not.toBe(serviceSecret);
    expect(await job(current.SecretString!)).toBe(202);
    expect(await job(serviceSecret)).toBe(202); // AWSPREVIOUS, within serviceSecrets.previousGraceSeconds

    const listed = (await local.cli('--json', 'services', 'list')).json();
    expect(listed).toEqual([expect.objectContaining({ name: serviceName, rotationInFlight: false })]);
  });
});

describe('members, sessions and development tokens', () => {
  it('mints a local token that the gateway accepts, for the tenant and scopes asked', async () => {
    const minted = await local.cli('--json', 'tokens', 'mint', '--sub', 'dev-1', '--tenant', 'demo', '--scope', 'customers:read', '--ttl', '10m');
    expect(minted.code).toBe(0);
    const { token, sessionId } = minted.json();
    const me = await call(base, 'GET', '/v1/me', bearer(token));
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ kind: 'user', subject: 'dev-1', tenantId: 'demo', scopes: ['customers:read'], sessionId });
  });

  it('adds, lists and removes members', async () => {
    expect((await local.cli('members', 'add', '--tenant', 'demo', '--user', 'dev-2', '--role', 'admin')).code).toBe(0);
    expect((await local.cli('--json', 'members', 'list', '--tenant', 'demo')).json()).toEqual(
      expect.arrayContaining([expect.objectContaining({ issuer: 'local', subject: 'dev-2', role: 'admin' })]),
    );
    const removed = await local.cli('--json', 'members', 'remove', '--tenant', 'demo', '--user', 'dev-2');
    expect(removed.json()).toMatchObject({ removed: true });
    expect((await local.cli('--json', 'members', 'remove', '--tenant', 'demo', '--user', 'dev-2')).code).toBe(3);
  });

  it("revokes a signed-out session: the session's token stops working within the bound, another session's does not", async () => {
    const mint = async () => (await local.cli('--json', 'tokens', 'mint', '--sub', 'dev-3', '--tenant', 'demo', '--ttl', '10m')).json();
    const [a, b] = [await mint(), await mint()];
    const me = (token: string) => call(base, 'GET', '/v1/me', bearer(token)).then((r) => r.status);
    expect([await me(a.token), await me(b.token)]).toEqual([200, 200]);
    const r = await local.cli('--json', 'sessions', 'revoke', a.sessionId, '--ttl', '1h');
    expect(r.code).toBe(0);
    expect(r.json()).toMatchObject({ issuer: 'local', sessionId: a.sessionId, effectiveWithinSeconds: expect.any(Number) });
    const within = r.json().effectiveWithinSeconds as number;
    expect((await waitForStatus(() => me(a.token), 401, (within + 1) * 1000)).status).toBe(401);
    expect(await me(b.token)).toBe(200);
  }, 20_000);
});

describe('the npm bin', () => {
  it('`gatehouse --local --json tenants list` runs as its own process (bundled like `npx gatehouse`) and its output parses', () => {
    const bin = path.resolve(__dirname, '../../scripts/gatehouse.mjs');
    const r = spawnSync(process.execPath, [bin, '--local', '--json', 'tenants', 'list'], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH, HOME: process.env.HOME, GATEHOUSE_ROOT: local.root },
      timeout: 60_000,
    });
    expect(r.status).toBe(0);
    const tenants = JSON.parse(r.stdout) as { tenantId: string }[];
    expect(tenants.map((t) => t.tenantId)).toEqual(expect.arrayContaining(['demo', 'globex']));
    // Without --local the tool looks for a deployed stack: with no AWS configuration (not even the developer's own
    // files) it has no region, and says what to pass instead of calling anything.
    const noAws = { AWS_CONFIG_FILE: '/nonexistent/config', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/credentials' };
    const refused = spawnSync(process.execPath, [bin, 'tenants', 'list'], { encoding: 'utf8', env: { PATH: process.env.PATH, HOME: process.env.HOME, ...noAws }, timeout: 60_000 });
    expect(refused.status).toBe(2);
    expect(refused.stderr).toBe('gatehouse: no AWS region: pass --region or set AWS_REGION (or --local, against `npm start`)\n');
  });
});

describe('--flush against a long result cache', () => {
  let slow: LocalWithCli;
  beforeAll(async () => {
    const example = exampleConfig();
    slow = await startLocalWithCli({
      ...example,
      apiKeys: { prefix: 'gh', cacheTtlSeconds: 1 },
      deployment: { ...(example.deployment as object), authorizerResultTtlSeconds: 300 },
    });
  });
  afterAll(() => slow.close());

  it('a revoked key keeps working from the result cache without --flush, and stops as soon as `keys revoke --flush` returns', async () => {
    const sbase = slow.env.credentials.baseUrl;
    const get = (key: string) => call(sbase, 'GET', '/v1/customers', bearer(key)).then((r) => r.status);
    const a = (await slow.cli('--json', 'keys', 'create', '--tenant', 'demo', '--name', 'a', '--scope', 'customers:read')).json();
    const b = (await slow.cli('--json', 'keys', 'create', '--tenant', 'demo', '--name', 'b', '--scope', 'customers:read')).json();
    expect([await get(a.key), await get(b.key)]).toEqual([200, 200]);

    const plain = await slow.cli('--json', 'keys', 'revoke', a.keyId, '--tenant', 'demo');
    expect(plain.json()).toMatchObject({ effectiveWithinSeconds: 301, flushed: false });
    await new Promise((r) => setTimeout(r, 1500));
    expect(await get(a.key)).toBe(200); // API Gateway's cached Allow, as documented

    const flushed = await slow.cli('--json', 'keys', 'revoke', b.keyId, '--tenant', 'demo', '--flush');
    expect(flushed.code).toBe(0);
    expect(flushed.json()).toMatchObject({ effectiveWithinSeconds: 1, flushed: true });
    expect(await get(b.key)).toBe(401);
    expect(await get(a.key)).toBe(401); // the flush empties the whole stage's cache
  });
});
