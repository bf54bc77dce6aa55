import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { randomBytes } from 'node:crypto';
import { Directory } from '../../../control/directory/directory';
import { encodeKeyCursor } from '../../../control/directory/key-pages';
import { createApiKeysHandler, handler as deployedHandler } from '../../../lambdas/handlers/api-keys';
import type { ProxyHandler } from '../../../lambdas/shared/http-router';
import { createGatehouseTable } from '../../../local/create-table';
import { dynamoClient, uniqueName } from '../../support/aws';
import { captureLogger, lambdaContext, parsed, proxyEvent, userAuthorizer } from '../proxy-event';

let dynamodb: DynamoDBClient;
let tableName: string;
let dir: Directory;
let log: ReturnType<typeof captureLogger>;
let handler: ProxyHandler;

beforeAll(async () => {
  dynamodb = dynamoClient();
  tableName = await createGatehouseTable(dynamodb, uniqueName('gatehouse-api-keys'));
  dir = new Directory(dynamodb, tableName);
});
afterAll(() => dynamodb.destroy());
beforeEach(() => {
  log = captureLogger();
  handler = createApiKeysHandler({ dynamodb, tableName, prefix: 'gh', environment: 'test', logger: log.logger, maxKeysPerTenant: 5 });
});

/** A fresh active tenant, so no test sees another's keys. */
async function freshTenant(): Promise<string> {
  const tenantId = `t-${randomBytes(6).toString('hex')}`;
  await dir.createTenant({ tenantId, tier: 'default' });
  return tenantId;
}

const adminOf = (tenantId: string) => userAuthorizer({ tenantId, scopes: 'customers:read customers:write' });

async function call(tenantId: string, method: string, spec: { query?: Record<string, string>; body?: unknown; keyId?: string } = {}) {
  const event = proxyEvent({
    method,
    resource: spec.keyId === undefined ? '/v1/api-keys' : '/v1/api-keys/{keyId}',
    pathParameters: spec.keyId === undefined ? null : { keyId: spec.keyId },
    query: spec.query ?? null,
    headers: {},
    body: spec.body,
    authorizer: adminOf(tenantId),
  });
  return parsed(await handler(event, lambdaContext()));
}

type Page = { items: { keyId: string; tenantId: string }[]; nextCursor?: string };

/** Creates `n` keys straight in the directory (no cap there beyond the default). */
async function seedKeys(tenantId: string, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push((await dir.createApiKey({ tenantId, name: `k${i}`, scopes: [], prefix: 'gh', environment: 'test' })).record.keyId);
  return ids;
}

describe('GET /v1/api-keys: pages', () => {
  it('pages through more keys than one page holds, each key once, the last page without a cursor', async () => {
    // Prepare
    const tenantId = await freshTenant();
    const ids = await seedKeys(tenantId, 7);

    // Act
    const seen: string[] = [];
    const cursors: (string | undefined)[] = [];
    let cursor: string | undefined;
    do {
      const res = await call(tenantId, 'GET', { query: { limit: '3', ...(cursor ? { cursor } : {}) } });
      expect(res.status).toBe(200);
      const page = res.body as Page;
      expect(page.items.length).toBeLessThanOrEqual(3);
      seen.push(...page.items.map((k) => k.keyId));
      cursor = page.nextCursor;
      cursors.push(cursor);
    } while (cursor);

    // Assert
    expect(seen.sort()).toEqual([...ids].sort());
    expect(cursors).toHaveLength(3);
    expect(JSON.stringify(cursors)).not.toMatch(/APIKEY#/);
  });

  it('answers one page of at most 50 without a limit, and no cursor when they all fit', async () => {
    // Prepare
    const tenantId = await freshTenant();
    await seedKeys(tenantId, 2);

    // Act
    const res = await call(tenantId, 'GET');

    // Assert
    expect(res.status).toBe(200);
    expect((res.body as Page).items).toHaveLength(2);
    expect(res.body).not.toHaveProperty('nextCursor');
  });

  it.each([['0'], ['101'], ['abc'], ['1e2'], ['-1'], ['']])('refuses limit=%s with a 400 naming the field', async (limit) => {
    // Act
    const res = await call(await freshTenant(), 'GET', { query: { limit } });

    // Assert
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body)).toContain('limit');
  });

  it("refuses a cursor of another tenant's listing with a 400, never its keys", async () => {
    // Prepare
    const [victim, attacker] = [await freshTenant(), await freshTenant()];
    await seedKeys(victim, 3);
    const victimCursor = (await dir.listApiKeyPage(victim, { limit: 1 })).nextCursor!;

    // Act
    const res = await call(attacker, 'GET', { query: { cursor: victimCursor } });

    // Assert
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: 'bad_request' });
    expect(log.lines.at(-1)).toMatchObject({ status: 400, reason: 'CURSOR_INVALID' });
  });

  it.each([
    ['garbage', 'not a cursor!'],
    ['base64url of something else', Buffer.from('{"pk":"APIKEY#00","sk":"APIKEY"}').toString('base64url')],
    ['a cursor whose key id is no key id', Buffer.from(JSON.stringify({ v: 1, t: 'x', k: 'APIKEY#00' })).toString('base64url')],
    ['a very long cursor', 'A'.repeat(2000)],
  ])('refuses %s with a 400, never a 500', async (_name, cursor) => {
    // Act
    const res = await call(await freshTenant(), 'GET', { query: { cursor } });

    // Assert
    expect(res.status).toBe(400);
  });

  it("a forged cursor naming the caller's own tenant only moves within that tenant's keys", async () => {
    // Prepare
    const tenantId = await freshTenant();
    await seedKeys(tenantId, 2);

    // Act
    const res = await call(tenantId, 'GET', { query: { cursor: encodeKeyCursor(tenantId, 'key_0000000000000000') } });

    // Assert
    expect(res.status).toBe(200);
    expect((res.body as Page).items.every((k) => k.tenantId === tenantId)).toBe(true);
  });
});

describe('POST /v1/api-keys: the per-tenant cap', () => {
  it('answers 409 KEY_LIMIT_REACHED past the cap, logs the reason code without a stack frame, and frees a slot on revocation', async () => {
    // Prepare
    const tenantId = await freshTenant();
    const ids = await seedKeys(tenantId, 5);

    // Act
    const refused = await call(tenantId, 'POST', { body: { name: 'one too many' } });
    const revoked = await call(tenantId, 'DELETE', { keyId: ids[0]! });
    const admitted = await call(tenantId, 'POST', { body: { name: 'in the freed slot' } });

    // Assert
    expect(refused.status).toBe(409);
    expect(refused.body).toEqual({ error: 'conflict', message: `tenant ${tenantId} has 5 live API keys, the most it may hold (5): revoke one first` });
    const line = log.lines.find((l) => l.status === 409)!;
    expect(line).toMatchObject({ level: 'WARN', reason: 'KEY_LIMIT_REACHED' });
    expect(JSON.stringify(line)).not.toMatch(/\bat |\.ts:|\.js:|\/var\/task|stack/);
    expect(revoked.status).toBe(200);
    expect(admitted.status).toBe(201);
  });
});

describe('api-keys: deployed entry point', () => {
  const names = ['TABLE_NAME', 'API_KEY_PREFIX', 'API_KEY_ENVIRONMENT', 'API_KEYS_MAX_PER_TENANT'] as const;
  const saved = Object.fromEntries(names.map((n) => [n, process.env[n]]));
  afterAll(() => {
    for (const n of names) {
      if (saved[n] === undefined) delete process.env[n];
      else process.env[n] = saved[n];
    }
  });

  it.each([['abc'], ['0'], ['1001'], ['1e3']])('refuses API_KEYS_MAX_PER_TENANT=%s, naming the variable, rather than guess a cap', async (value) => {
    // Prepare
    Object.assign(process.env, { TABLE_NAME: tableName, API_KEY_PREFIX: 'gh', API_KEY_ENVIRONMENT: 'test', API_KEYS_MAX_PER_TENANT: value });

    // Act
    const attempt = deployedHandler(proxyEvent({ resource: '/v1/api-keys', authorizer: adminOf('acme') }), lambdaContext());

    // Assert
    await expect(attempt).rejects.toThrow(/API_KEYS_MAX_PER_TENANT/);
  });
});
