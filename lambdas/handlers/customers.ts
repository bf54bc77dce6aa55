import {
  type AttributeValue,
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { randomUUID } from 'node:crypto';
import * as z from 'zod/mini';
import {
  CUSTOMER_SORT_PREFIX,
  type Customer,
  customerFromItem,
  customerKeyAttributes,
  customerToItem,
  customersPartitionKey,
} from '../shared/customers-table';
import { type AuthedHttpRequest, type HttpHandlerOptions, httpHandler } from '../shared/http-handler';
import { HttpError } from '../shared/http-errors';
import { type HttpResponse, json } from '../shared/http-response';
import { type ProxyHandler, httpRouter } from '../shared/http-router';
import { validate } from '../shared/json-body';
import { type Logger, jsonLogger } from '../../contract/log';
import { lazyHandler, requiredEnv, sharedDynamoClient, sharedRateLimit } from '../shared/runtime';

export interface CustomersDeps {
  readonly dynamodb: DynamoDBClient;
  readonly tableName: string;
  readonly logger?: Logger;
  /** Milliseconds since the epoch, for createdAt/updatedAt (default: Date.now). */
  readonly now?: () => number;
  /** The per-tenant limiter (429 with Retry-After beyond the tenant's tier). @default - none */
  readonly rateLimit?: HttpHandlerOptions['rateLimit'];
}

const name = z.string().check(z.trim(), z.minLength(1), z.maxLength(200));
const email = z.email().check(z.maxLength(320));
// strictObject: an unknown field is a 400, not silently dropped (a typo'd field must not look saved).
const createBody = z.strictObject({ name, email: z.optional(email) });
const patchBody = z
  .strictObject({ name: z.optional(name), email: z.optional(z.nullable(email)) })
  .check(z.refine((b) => Object.keys(b).length > 0, { message: 'no_field_to_change' }));
// Ids are server-generated v4 UUIDs: anything else cannot exist, so it is refused before any I/O.
const customerId = z.string().check(z.regex(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/));
const pathParams = z.object({ id: customerId });
const listQuery = z.object({
  limit: z._default(z.coerce.number().check(z.int(), z.minimum(1), z.maximum(100)), 50),
  cursor: z.optional(customerId),
});

const NOT_FOUND = () => new HttpError(404, 'not_found', 'customer not found', { reason: 'CUSTOMER_NOT_FOUND' });
const READ = ['customers:read'];
const WRITE = ['customers:write'];
// Customers belong to a tenant; a service principal has none and has no business here.
const KINDS = ['user', 'apiKey'] as const;

/** What every route needs: the table, and the clock for createdAt/updatedAt (an ISO timestamp). */
interface CustomersContext {
  readonly dynamodb: DynamoDBClient;
  readonly tableName: string;
  readonly now: () => string;
}

type Route = (ctx: CustomersContext, r: AuthedHttpRequest) => Promise<HttpResponse>;

/**
 * Tenant-scoped customers: GET/POST /v1/customers and GET/PUT/PATCH/DELETE /v1/customers/{id}. Every key comes
 * from the caller's tenant id, so another tenant's customer is simply not there: 404, exactly as for a missing id.
 * Reads need `customers:read`, writes `customers:write`.
 */
export function createCustomersHandler(deps: CustomersDeps): ProxyHandler {
  const ctx: CustomersContext = { dynamodb: deps.dynamodb, tableName: deps.tableName, now: () => new Date((deps.now ?? Date.now)()).toISOString() };
  const logger = deps.logger ?? jsonLogger('gatehouse-customers');
  const route = (fn: Route, scopes: string[]) =>
    httpHandler(
      (r) => {
        // A user of an issuer with tenantRequired: false has no tenant, so no customers either.
        if (!r.auth.tenantId) throw new HttpError(403, 'forbidden', 'a tenant is required', { reason: 'TENANT_REQUIRED' });
        return fn(ctx, r);
      },
      { logger, scopes, kinds: [...KINDS], ...(deps.rateLimit ? { rateLimit: deps.rateLimit } : {}) },
    );
  return httpRouter(
    {
      'GET /v1/customers': route(listCustomers, READ),
      'POST /v1/customers': route(createCustomer, WRITE),
      'GET /v1/customers/{id}': route(getCustomer, READ),
      'PUT /v1/customers/{id}': route(updateCustomer, WRITE),
      'PATCH /v1/customers/{id}': route(updateCustomer, WRITE),
      'DELETE /v1/customers/{id}': route(removeCustomer, WRITE),
    },
    { logger },
  );
}

const listCustomers: Route = async ({ dynamodb, tableName }, { auth, event }) => {
  const q = validate(listQuery, event.queryStringParameters ?? {}, 'query');
  const out = await dynamodb.send(
    new QueryCommand({
      TableName: tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': { S: customersPartitionKey(auth.tenantId) }, ':prefix': { S: CUSTOMER_SORT_PREFIX } },
      Limit: q.limit,
      // The cursor is only an id: the start key is rebuilt from the caller's own tenant, never taken from input.
      ...(q.cursor ? { ExclusiveStartKey: customerKeyAttributes(auth.tenantId, q.cursor) } : {}),
      ConsistentRead: true,
    }),
  );
  const items = (out.Items ?? []).map(customerFromItem);
  const last = out.LastEvaluatedKey?.sk?.S;
  return json(200, { items, ...(last ? { nextCursor: last.slice(CUSTOMER_SORT_PREFIX.length) } : {}) });
};

const createCustomer: Route = async ({ dynamodb, tableName, now }, { auth, body }) => {
  const input = validate(createBody, body, 'body');
  const at = now();
  const customer: Customer = { id: randomUUID(), name: input.name, ...(input.email ? { email: input.email } : {}), createdAt: at, updatedAt: at };
  await dynamodb.send(
    new PutItemCommand({ TableName: tableName, Item: customerToItem(auth.tenantId, customer), ConditionExpression: 'attribute_not_exists(pk)' }),
  );
  return json(201, customer);
};

const getCustomer: Route = async ({ dynamodb, tableName }, { auth, event }) => {
  const { id } = validate(pathParams, event.pathParameters ?? {}, 'path');
  const out = await dynamodb.send(new GetItemCommand({ TableName: tableName, Key: customerKeyAttributes(auth.tenantId, id), ConsistentRead: true }));
  if (!out.Item) throw NOT_FOUND();
  return json(200, customerFromItem(out.Item));
};

/** PUT replaces the mutable fields (an absent email is removed); PATCH changes only those given (null removes). */
const updateCustomer: Route = async ({ dynamodb, tableName, now }, { auth, event, body }) => {
  const { id } = validate(pathParams, event.pathParameters ?? {}, 'path');
  const replace = event.httpMethod === 'PUT';
  const input = replace ? { email: null, ...validate(createBody, body, 'body') } : validate(patchBody, body, 'body');
  const update = updateExpression(input, now());
  try {
    const out = await dynamodb.send(
      new UpdateItemCommand({
        TableName: tableName,
        Key: customerKeyAttributes(auth.tenantId, id),
        ...update,
        // Without the condition UpdateItem would create the item: an update must never conjure a customer.
        ConditionExpression: 'attribute_exists(pk)',
        ReturnValues: 'ALL_NEW',
      }),
    );
    return json(200, customerFromItem(out.Attributes ?? {}));
  } catch (err) {
    throw conditionFailed(err) ? NOT_FOUND() : err;
  }
};

/** The UpdateItem expression that sets `updatedAt` and the given fields (an email of null is removed). */
function updateExpression(input: { name?: string | undefined; email?: string | null | undefined }, updatedAt: string) {
  const set = ['#updatedAt = :updatedAt'];
  const remove: string[] = [];
  const names: Record<string, string> = { '#updatedAt': 'updatedAt' };
  const values: Record<string, AttributeValue> = { ':updatedAt': { S: updatedAt } };
  if (input.name !== undefined) {
    // `name` is a DynamoDB reserved word: every attribute goes through a placeholder.
    set.push('#name = :name');
    names['#name'] = 'name';
    values[':name'] = { S: input.name };
  }
  if (input.email !== undefined) {
    names['#email'] = 'email';
    if (input.email === null) remove.push('#email');
    else {
      set.push('#email = :email');
      values[':email'] = { S: input.email };
    }
  }
  return {
    UpdateExpression: `SET ${set.join(', ')}${remove.length ? ` REMOVE ${remove.join(', ')}` : ''}`,
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
  };
}

const removeCustomer: Route = async ({ dynamodb, tableName }, { auth, event }) => {
  const { id } = validate(pathParams, event.pathParameters ?? {}, 'path');
  try {
    await dynamodb.send(
      new DeleteItemCommand({ TableName: tableName, Key: customerKeyAttributes(auth.tenantId, id), ConditionExpression: 'attribute_exists(pk)' }),
    );
  } catch (err) {
    throw conditionFailed(err) ? NOT_FOUND() : err;
  }
  return json(204);
};

// By name, not instanceof: a second copy of the SDK in a bundle would have its own class.
function conditionFailed(err: unknown): boolean {
  return (err as { name?: unknown } | null)?.name === 'ConditionalCheckFailedException';
}

/** The deployed entry point: the table from `TABLE_NAME`, the client from the standard SDK environment. */
export const handler = lazyHandler(() =>
  createCustomersHandler({ dynamodb: sharedDynamoClient(), tableName: requiredEnv('TABLE_NAME'), logger: jsonLogger('gatehouse-customers'), rateLimit: sharedRateLimit() }),
);
