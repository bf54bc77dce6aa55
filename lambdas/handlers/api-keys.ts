import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import * as z from 'zod/mini';
import { Directory } from '../../control/directory/directory';
import { KEY_PAGE_LIMIT } from '../../control/directory/key-pages';
import { API_KEYS_PER_TENANT } from '../../contract/table';
import { DIRECTORY_ERRORS, DirectoryError } from '../../control/directory/errors';
import { type AuthedHttpRequest, type HttpHandlerOptions, httpHandler } from '../shared/http-handler';
import { HttpError } from '../shared/http-errors';
import { type HttpResponse, json } from '../shared/http-response';
import { type ProxyHandler, httpRouter } from '../shared/http-router';
import { validate } from '../shared/json-body';
import { type Logger, jsonLogger } from '../../contract/log';
import { lazyHandler, requiredEnv, sharedDynamoClient, sharedRateLimit } from '../shared/runtime';
import { KEY_ID_PATTERN, SCOPE_PATTERN } from '../../contract/patterns';

export interface ApiKeysDeps {
  readonly dynamodb: DynamoDBClient;
  readonly tableName: string;
  /** The deployment's API key prefix and environment (the authorizer's `apiKeys.prefix` and `environment`). */
  readonly prefix: string;
  readonly environment: 'live' | 'test';
  readonly logger?: Logger;
  readonly now?: () => number;
  /** Live keys a tenant may hold (the authorizer's `apiKeys.maxPerTenant`); one more is a 409. @default 100 */
  readonly maxKeysPerTenant?: number;
  /** The per-tenant limiter. @default - none */
  readonly rateLimit?: HttpHandlerOptions['rateLimit'];
}

/** The role a user needs in the tenant to manage its keys (membership record, or the issuer's roles claim). */
export const ADMIN_ROLE = 'admin';

const createBody = z.strictObject({
  name: z.string().check(z.trim(), z.minLength(1), z.maxLength(128)),
  scopes: z._default(z.array(z.string().check(z.regex(SCOPE_PATTERN))).check(z.maxLength(64)), []),
  expiresInDays: z.optional(z.number().check(z.int(), z.minimum(1), z.maximum(3660))),
});
const pathParams = z.object({ keyId: z.string().check(z.regex(KEY_ID_PATTERN)) });
/** `?limit=1..100&cursor=<nextCursor>`: limit in decimal digits only (no `1e2`, no `+5`), the cursor as it was given. */
const listQuery = z.strictObject({
  limit: z.optional(z.pipe(z.string().check(z.regex(/^[1-9][0-9]{0,2}$/)), z.transform(Number))),
  cursor: z.optional(z.string().check(z.minLength(1), z.maxLength(400))),
});

/**
 * Self-service API keys for tenant admins: GET/POST /v1/api-keys and DELETE /v1/api-keys/{keyId}. The tenant is
 * always the caller's own (from the authorizer context, never from the request), so an admin of one tenant can
 * neither see, create nor revoke another tenant's keys: another tenant's key id is a 404, like an unknown one.
 * A key may carry only scopes the admin holds (no escalation through a key). The key is in the 201 body once.
 * Past the tenant's cap of live keys, a create is 409 KEY_LIMIT_REACHED: the request conflicts with the tenant's
 * state (revoking a key resolves it), which is not a permission (403), a malformed body (422) or a rate (429).
 */
export function createApiKeysHandler(deps: ApiKeysDeps): ProxyHandler {
  const logger = deps.logger ?? jsonLogger('gatehouse-api-keys');
  const directory = new Directory(deps.dynamodb, deps.tableName, deps.now);
  const route = (fn: (r: AuthedHttpRequest & { tenantId: string }) => Promise<HttpResponse>) =>
    httpHandler(
      async (r) => {
        if (r.auth.kind !== 'user' || !r.auth.roles.includes(ADMIN_ROLE)) {
          throw new HttpError(403, 'forbidden', `managing API keys needs the ${ADMIN_ROLE} role in the tenant`, { reason: 'ADMIN_REQUIRED' });
        }
        if (!r.auth.tenantId) throw new HttpError(403, 'forbidden', 'a tenant is required', { reason: 'TENANT_REQUIRED' });
        try {
          return await fn({ ...r, tenantId: r.auth.tenantId });
        } catch (err) {
          throw err instanceof DirectoryError ? asHttp(err) : err;
        }
      },
      { logger, kinds: ['user'], ...(deps.rateLimit ? { rateLimit: deps.rateLimit } : {}) },
    );

  async function list({ tenantId, event }: AuthedHttpRequest & { tenantId: string }) {
    const query = validate(listQuery, event.queryStringParameters ?? {}, 'query');
    if (query.limit !== undefined && query.limit > KEY_PAGE_LIMIT.max) {
      throw new HttpError(400, 'bad_request', `limit: at most ${KEY_PAGE_LIMIT.max} keys a page`, { reason: 'QUERY_INVALID', details: { issues: [{ field: 'limit', problem: 'too_big' }] } });
    }
    return json(200, await directory.listApiKeyPage(tenantId, query));
  }

  async function create({ tenantId, auth, body }: AuthedHttpRequest & { tenantId: string }) {
    const input = validate(createBody, body, 'body');
    const beyond = input.scopes.filter((s) => !auth.scopes.includes(s));
    if (beyond.length) {
      throw new HttpError(403, 'forbidden', 'a key may carry only scopes you hold yourself', { reason: 'SCOPE_ESCALATION', details: { scopes: beyond } });
    }
    const { key, record } = await directory.createApiKey({
      tenantId,
      name: input.name,
      scopes: input.scopes,
      prefix: deps.prefix,
      environment: deps.environment,
      ...(deps.maxKeysPerTenant !== undefined ? { maxKeysPerTenant: deps.maxKeysPerTenant } : {}),
      ...(input.expiresInDays ? { expiresInSeconds: input.expiresInDays * 86_400 } : {}),
    });
    logger.info('api key created', { tenantId, keyId: record.keyId, by: auth.principalId });
    return json(201, { key, ...record });
  }

  async function revoke({ tenantId, auth, event }: AuthedHttpRequest & { tenantId: string }) {
    const { keyId } = validate(pathParams, event.pathParameters ?? {}, 'path');
    const record = await directory.revokeApiKey(tenantId, keyId);
    logger.info('api key revoked', { tenantId, keyId, by: auth.principalId });
    return json(200, record);
  }

  return httpRouter(
    {
      'GET /v1/api-keys': route(list),
      'POST /v1/api-keys': route(create),
      'DELETE /v1/api-keys/{keyId}': route(revoke),
    },
    { logger },
  );
}

function asHttp(err: DirectoryError): HttpError {
  const status = DIRECTORY_ERRORS[err.code].status;
  // Messages name ids the caller sent or owns (their tenant, the key id), never another tenant's data.
  return new HttpError(status, status === 404 ? 'not_found' : status === 409 ? 'conflict' : 'bad_request', err.message, { reason: err.code });
}

/** The deployed entry point: table, prefix and environment from the function's environment. */
export const handler = lazyHandler(() =>
  createApiKeysHandler({
    dynamodb: sharedDynamoClient(),
    tableName: requiredEnv('TABLE_NAME'),
    prefix: requiredEnv('API_KEY_PREFIX'),
    environment: keyEnvironment(requiredEnv('API_KEY_ENVIRONMENT')),
    ...maxKeys(process.env.API_KEYS_MAX_PER_TENANT),
    logger: jsonLogger('gatehouse-api-keys'),
    rateLimit: sharedRateLimit(),
  }),
);

function keyEnvironment(value: string): 'live' | 'test' {
  if (value !== 'live' && value !== 'test') throw new Error('environment variable API_KEY_ENVIRONMENT must be live or test');
  return value;
}

/** `API_KEYS_MAX_PER_TENANT` (set by the stack from `apiKeys.maxPerTenant`); unset: the directory's default. */
function maxKeys(value: string | undefined): { maxKeysPerTenant?: number } {
  if (value === undefined || value === '') return {};
  if (!/^[1-9][0-9]{0,3}$/.test(value) || Number(value) > API_KEYS_PER_TENANT.max) {
    throw new Error(`environment variable API_KEYS_MAX_PER_TENANT must be a whole number 1-${API_KEYS_PER_TENANT.max}`);
  }
  return { maxKeysPerTenant: Number(value) };
}
