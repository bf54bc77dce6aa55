import { type DynamoDBClient, GetItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { randomBytes, randomUUID } from 'node:crypto';
import { createCustomersHandler, handler as deployedHandler } from '../../../lambdas/handlers/customers';
import type { ProxyHandler } from '../../../lambdas/shared/http-router';
import { createTable, dynamoClient, uniqueName } from '../../support/aws';
import { BEARER_TOKEN, apiKeyAuthorizer, captureLogger, lambdaContext, parsed, proxyEvent, serviceAuthorizer, userAuthorizer } from '../proxy-event';

let dynamodb: DynamoDBClient;
let tableName: string;
let log: ReturnType<typeof captureLogger>;
let handler: ProxyHandler;

beforeAll(async () => {
  dynamodb = dynamoClient();
  tableName = await createTable(uniqueName('gatehouse-customers'));
});
afterAll(() => dynamodb.destroy());
beforeEach(() => {
  log = captureLogger();
  handler = createCustomersHandler({ dynamodb, tableName, logger: log.logger });
});

const RW = 'customers:read customers:write';
/** A fresh tenant per test, so lists never see another test's customers. */
const tenantId = () => `t-${randomBytes(6).toString('hex')}`;
const userOf = (tenant: string, scopes = RW) => userAuthorizer({ tenantId: tenant, scopes });
const keyOf = (tenant: string, scopes = RW) => apiKeyAuthorizer({ tenantId: tenant, scopes });

interface CallSpec {
  readonly id?: string;
  readonly body?: unknown;
  readonly query?: Record<string, string>;
  readonly headers?: Record<string, string>;
}

/** Sends one request through the exported factory, as API Gateway would. */
async function call(authorizer: Record<string, unknown> | undefined, method: string, spec: CallSpec = {}) {
  const resource = spec.id === undefined ? '/v1/customers' : '/v1/customers/{id}';
  const event = proxyEvent({
    method,
    resource,
    pathParameters: spec.id === undefined ? null : { id: spec.id },
    query: spec.query ?? null,
    headers: spec.headers ?? {},
    body: spec.body,
    authorizer,
  });
  return parsed(await handler(event, lambdaContext()));
}

async function createCustomer(authorizer: Record<string, unknown>, body: unknown = { name: 'Ada Lovelace', email: 'ada@example.com' }) {
  const res = await call(authorizer, 'POST', { body });
  expect(res.status).toBe(201);
  return res.body as { id: string; name: string; email?: string; createdAt: string; updatedAt: string };
}

describe('customers: create and read', () => {
  it('creates a customer with a server-generated id and returns it with 201', async () => {
    // Act
    const res = await call(userOf(tenantId()), 'POST', { body: { name: 'Ada Lovelace', email: 'ada@example.com' } });

    // Assert
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/),
      name: 'Ada Lovelace',
      email: 'ada@example.com',
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
  });

  it('stores the customer under keys derived from the caller’s tenant only', async () => {
    // Prepare
    const tenant = tenantId();

    // Act
    const created = await createCustomer(userOf(tenant));

    // Assert
    const out = await dynamodb.send(
      new GetItemCommand({ TableName: tableName, Key: { pk: { S: `TENANT#${tenant}#CUSTOMERS` }, sk: { S: `CUSTOMER#${created.id}` } } }),
    );
    expect(out.Item).toMatchObject({ tenantId: { S: tenant }, name: { S: 'Ada Lovelace' } });
  });

  it('reads back a created customer by id', async () => {
    // Prepare
    const caller = keyOf(tenantId());
    const created = await createCustomer(caller);

    // Act
    const res = await call(caller, 'GET', { id: created.id });

    // Assert
    expect(res).toMatchObject({ status: 200, body: created });
  });

  it('lists the caller’s customers', async () => {
    // Prepare
    const caller = userOf(tenantId());
    const a = await createCustomer(caller, { name: 'A' });
    const b = await createCustomer(caller, { name: 'B' });

    // Act
    const res = await call(caller, 'GET');

    // Assert
    expect(res.status).toBe(200);
    expect((res.body as { items: { id: string }[] }).items.map((c) => c.id).sort()).toEqual([a.id, b.id].sort());
  });

  it('pages a list with limit and an opaque cursor', async () => {
    // Prepare
    const caller = userOf(tenantId());
    for (const name of ['A', 'B', 'C']) await createCustomer(caller, { name });

    // Act
    const first = (await call(caller, 'GET', { query: { limit: '2' } })).body as { items: unknown[]; nextCursor?: string };
    const second = (await call(caller, 'GET', { query: { limit: '2', cursor: first.nextCursor! } })).body as { items: unknown[]; nextCursor?: string };

    // Assert
    expect(first.items).toHaveLength(2);
    expect(first.nextCursor).toEqual(expect.any(String));
    expect(second.items).toHaveLength(1);
    expect(second.nextCursor).toBeUndefined();
  });

  it.each([
    ['a limit of 0', { limit: '0' }],
    ['a limit over 100', { limit: '101' }],
    ['a non-numeric limit', { limit: 'all' }],
    ['a cursor that is not a customer id', { cursor: 'TENANT#other#CUSTOMERS' }],
  ])('answers 400 to %s', async (_name, query) => {
    expect(await call(userOf(tenantId()), 'GET', { query })).toMatchObject({ status: 400, body: { error: 'bad_request', message: 'invalid query' } });
  });
});

describe('customers: tenant isolation', () => {
  it('keeps one tenant’s customer invisible and untouchable for another, and intact for its owner', async () => {
    // Prepare
    const tenantA = userOf(tenantId());
    const tenantB = keyOf(tenantId());
    const created = await createCustomer(tenantA);
    const missing = await call(tenantB, 'GET', { id: randomUUID() });

    // Act
    const list = await call(tenantB, 'GET');
    const get = await call(tenantB, 'GET', { id: created.id });
    const put = await call(tenantB, 'PUT', { id: created.id, body: { name: 'Mallory' } });
    const patch = await call(tenantB, 'PATCH', { id: created.id, body: { email: 'mallory@example.com' } });
    const del = await call(tenantB, 'DELETE', { id: created.id });

    // Assert
    expect(list).toMatchObject({ status: 200, body: { items: [] } });
    for (const res of [get, put, patch, del]) {
      // Byte for byte what a missing id gets: nothing tells B that the id exists elsewhere.
      expect(res).toEqual(missing);
      expect(res).toMatchObject({ status: 404, body: { error: 'not_found', message: 'customer not found' } });
    }
    expect(await call(tenantA, 'GET', { id: created.id })).toMatchObject({ status: 200, body: created });
    expect((await call(tenantA, 'GET')).body).toEqual({ items: [created] });
  });

  it('keeps tenants whose ids differ only in case apart: org_<id> and its lower-case twin share nothing', async () => {
    // Prepare: a provider-style org id (capitals and `_`), unique per run, and the same id lower-cased.
    const upper = `org_${randomBytes(8).toString('hex').toUpperCase()}Ab`;
    const lower = upper.toLowerCase();
    const created = await createCustomer(keyOf(upper));

    // Act
    const lowerList = await call(userOf(lower), 'GET');
    const lowerGet = await call(keyOf(lower), 'GET', { id: created.id });
    const stored = await dynamodb.send(new GetItemCommand({ TableName: tableName, Key: { pk: { S: `TENANT#${upper}#CUSTOMERS` }, sk: { S: `CUSTOMER#${created.id}` } } }));

    // Assert
    expect(lowerList).toMatchObject({ status: 200, body: { items: [] } });
    expect(lowerGet).toMatchObject({ status: 404 });
    expect((await call(userOf(upper), 'GET')).body).toEqual({ items: [created] });
    expect(stored.Item?.tenantId?.S).toBe(upper);
  });

  it('refuses (403) a user without a tenant, whom an issuer with tenantRequired: false lets through', async () => {
    const res = await call(userOf(''), 'GET');

    expect(res).toMatchObject({ status: 403, body: { error: 'forbidden' } });
  });

  it('does not let a cursor taken from one tenant page through another’s customers', async () => {
    // Prepare
    const tenantA = userOf(tenantId());
    for (const name of ['A', 'B']) await createCustomer(tenantA, { name });
    const { nextCursor } = (await call(tenantA, 'GET', { query: { limit: '1' } })).body as { nextCursor: string };

    // Act
    const res = await call(keyOf(tenantId()), 'GET', { query: { cursor: nextCursor } });

    // Assert
    expect(res).toMatchObject({ status: 200, body: { items: [] } });
  });

  it('does not create a customer when the id to update does not exist', async () => {
    // Prepare
    const tenant = tenantId();
    const id = randomUUID();

    // Act
    const res = await call(userOf(tenant), 'PUT', { id, body: { name: 'Ghost' } });

    // Assert
    expect(res.status).toBe(404);
    const out = await dynamodb.send(
      new QueryCommand({ TableName: tableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': { S: `TENANT#${tenant}#CUSTOMERS` } } }),
    );
    expect(out.Items).toEqual([]);
  });
});

describe('customers: update and delete', () => {
  it('replaces the fields with PUT, removing an email the body leaves out', async () => {
    // Prepare
    const caller = userOf(tenantId());
    const created = await createCustomer(caller);

    // Act
    const res = await call(caller, 'PUT', { id: created.id, body: { name: 'Ada King' } });

    // Assert
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ id: created.id, name: 'Ada King', createdAt: created.createdAt, updatedAt: expect.any(String) });
  });

  it('changes only the given fields with PATCH, and removes the email on null', async () => {
    // Prepare
    const caller = userOf(tenantId());
    const created = await createCustomer(caller);

    // Act
    const renamed = await call(caller, 'PATCH', { id: created.id, body: { name: 'Countess of Lovelace' } });
    const cleared = await call(caller, 'PATCH', { id: created.id, body: { email: null } });

    // Assert
    expect(renamed.body).toMatchObject({ name: 'Countess of Lovelace', email: 'ada@example.com' });
    expect(cleared.body).toEqual({ id: created.id, name: 'Countess of Lovelace', createdAt: created.createdAt, updatedAt: expect.any(String) });
  });

  it('deletes with 204 and an empty body; the customer is then gone', async () => {
    // Prepare
    const caller = userOf(tenantId());
    const created = await createCustomer(caller);

    // Act
    const res = await call(caller, 'DELETE', { id: created.id });

    // Assert
    expect(res).toMatchObject({ status: 204, body: undefined });
    expect((await call(caller, 'GET', { id: created.id })).status).toBe(404);
    expect((await call(caller, 'DELETE', { id: created.id })).status).toBe(404);
  });
});

describe('customers: validation', () => {
  it('answers 400 to a body that is not JSON', async () => {
    expect(await call(userOf(tenantId()), 'POST', { body: '{"name": "Ada"' })).toMatchObject({
      status: 400,
      body: { error: 'bad_request', message: 'body is not valid JSON' },
    });
  });

  it('answers 400 to unknown fields, naming them, and stores nothing', async () => {
    // Prepare
    const caller = userOf(tenantId());

    // Act
    const res = await call(caller, 'POST', { body: { name: 'Ada', id: 'chosen-by-client', tenantId: 'other' } });

    // Assert
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      error: 'bad_request',
      message: 'invalid body',
      issues: [
        { field: 'id', problem: 'unknown_field' },
        { field: 'tenantId', problem: 'unknown_field' },
      ],
    });
    expect((await call(caller, 'GET')).body).toEqual({ items: [] });
  });

  it.each([
    ['no body', undefined, '(root)'],
    ['no name', { email: 'ada@example.com' }, 'name'],
    ['a blank name', { name: '   ' }, 'name'],
    ['a malformed email', { name: 'Ada', email: 'not an email' }, 'email'],
    ['a JSON array', [{ name: 'Ada' }], '(root)'],
  ])('answers 400 to a create with %s', async (_name, body, field) => {
    // Act
    const res = await call(userOf(tenantId()), 'POST', { body });

    // Assert
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: 'bad_request', issues: [expect.objectContaining({ field })] });
  });

  it('answers 400 to an empty PATCH and to unknown fields in one', async () => {
    // Prepare
    const caller = userOf(tenantId());
    const created = await createCustomer(caller);

    // Act
    const empty = await call(caller, 'PATCH', { id: created.id, body: {} });
    const unknown = await call(caller, 'PATCH', { id: created.id, body: { createdAt: '1970-01-01T00:00:00Z' } });

    // Assert
    expect(empty).toMatchObject({ status: 400, body: { issues: [{ field: '(root)', problem: 'no_field_to_change' }] } });
    expect(unknown.status).toBe(400);
    expect((unknown.body as { issues: unknown[] }).issues).toContainEqual({ field: 'createdAt', problem: 'unknown_field' });
  });

  it.each(['not-a-uuid', '../../TENANT#other', '6F1C3B2A-1111-4222-8333-944455556666', ''])('answers 400 to the junk id %j', async (id) => {
    // Act
    const res = await call(userOf(tenantId()), 'GET', { id });

    // Assert
    expect(res).toMatchObject({ status: 400, body: { error: 'bad_request', message: 'invalid path', issues: [{ field: 'id' }] } });
  });
});

describe('customers: who may call', () => {
  it.each([
    ['list without customers:read', 'GET', {}, 'customers:read'],
    ['get without customers:read', 'GET', { id: randomUUID() }, 'customers:read'],
    ['create without customers:write', 'POST', { body: { name: 'Ada' } }, 'customers:write'],
    ['replace without customers:write', 'PUT', { id: randomUUID(), body: { name: 'Ada' } }, 'customers:write'],
    ['patch without customers:write', 'PATCH', { id: randomUUID(), body: { name: 'Ada' } }, 'customers:write'],
    ['delete without customers:write', 'DELETE', { id: randomUUID() }, 'customers:write'],
  ])('answers 403 to a %s', async (_name, method, spec, missing) => {
    // Prepare: the caller holds the other scope only.
    const other = missing === 'customers:read' ? 'customers:write' : 'customers:read';

    // Act
    const res = await call(keyOf(tenantId(), other), method, spec);

    // Assert
    expect(res).toEqual(expect.objectContaining({ status: 403, body: { error: 'forbidden', message: `missing scope ${missing}` } }));
  });

  it('answers 403 to a service, which has no tenant to hold customers', async () => {
    expect(await call(serviceAuthorizer({ scopes: RW }), 'GET')).toMatchObject({ status: 403, body: { error: 'forbidden' } });
  });

  it('answers 500 with a generic body when there is no authorizer context, and logs why', async () => {
    // Act
    const res = await call(undefined, 'POST', { body: { name: 'Ada' } });

    // Assert
    expect(res).toMatchObject({ status: 500, body: { error: 'internal_error' } });
    expect(log.lines).toEqual([expect.objectContaining({ status: 500, reason: 'AUTH_CONTEXT_MISSING' })]);
  });

  it('answers 405 to a method the resource does not serve and 404 to a resource it does not know', async () => {
    // Prepare
    const other = proxyEvent({ resource: '/v1/orders', authorizer: userOf(tenantId()) });

    // Act
    const head = await call(userOf(tenantId()), 'HEAD');
    const unknown = parsed(await handler(other, lambdaContext()));

    // Assert
    expect(head).toMatchObject({ status: 405, body: { error: 'method_not_allowed' } });
    expect(unknown).toMatchObject({ status: 404, body: { error: 'not_found' } });
  });
});

describe('customers: errors and logs', () => {
  it('turns a DynamoDB failure into a generic 500 and logs the AWS error name with the correlation id', async () => {
    // Prepare
    const broken = createCustomersHandler({ dynamodb, tableName: uniqueName('no-such-table'), logger: log.logger });
    const event = proxyEvent({ resource: '/v1/customers', authorizer: userOf(tenantId()) });

    // Act
    const res = parsed(await broken(event, lambdaContext()));

    // Assert
    expect(res).toMatchObject({ status: 500, body: { error: 'internal_error' } });
    expect(log.lines).toEqual([
      expect.objectContaining({ level: 'ERROR', requestId: event.requestContext.requestId, reason: 'UNHANDLED_ERROR', errorName: 'ResourceNotFoundException', awsStatus: 400 }),
    ]);
  });

  it('never logs the bearer token or the body, whatever goes wrong', async () => {
    // Prepare
    const caller = userOf(tenantId(), 'customers:read');

    // Act
    await call(caller, 'POST', { body: { name: 'Ada', password: 'hunter2-secret' } });
    await call(userOf(tenantId()), 'POST', { body: { name: 'Ada', password: 'hunter2-secret' } });
    await call(userOf(tenantId()), 'POST', { body: '{"password": "hunter2-secret"' });
    await call(undefined, 'GET');

    // Assert
    expect(log.lines).toHaveLength(4);
    expect(log.text()).not.toContain(BEARER_TOKEN);
    expect(log.text()).not.toMatch(/hunter2|authorization/i);
  });
});

describe('customers: deployed entry point', () => {
  const saved = process.env.TABLE_NAME;
  afterAll(() => {
    if (saved === undefined) delete process.env.TABLE_NAME;
    else process.env.TABLE_NAME = saved;
  });

  it('names the missing TABLE_NAME instead of guessing a table', async () => {
    // Prepare
    delete process.env.TABLE_NAME;

    // Act
    const attempt = deployedHandler(proxyEvent({ resource: '/v1/customers', authorizer: userOf(tenantId()) }), lambdaContext());

    // Assert
    await expect(attempt).rejects.toThrow(/TABLE_NAME/);
  });

  it('serves from the table in TABLE_NAME through the standard SDK environment', async () => {
    // Prepare
    process.env.TABLE_NAME = tableName;
    const caller = userOf(tenantId());

    // Act
    const created = parsed(await deployedHandler(proxyEvent({ method: 'POST', resource: '/v1/customers', body: { name: 'Ada' }, authorizer: caller }), lambdaContext()));

    // Assert
    expect(created.status).toBe(201);
    expect(await call(caller, 'GET', { id: (created.body as { id: string }).id })).toMatchObject({ status: 200, body: { name: 'Ada' } });
  });
});
