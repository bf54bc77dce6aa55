import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { createApiKeysHandler } from '../lambdas/handlers/api-keys';
import { createCustomersHandler } from '../lambdas/handlers/customers';
import { createHealthHandler } from '../lambdas/handlers/health';
import { createInternalJobsHandler } from '../lambdas/handlers/internal-jobs';
import { createMeHandler } from '../lambdas/handlers/me';
import { createWebhooksHandler } from '../lambdas/handlers/webhooks';
import type { HttpHandlerOptions } from '../lambdas/shared/http-handler';
import type { Logger } from '../contract/log';
import type { LambdaHandler } from './gateway';
import type { CorsPolicy } from '../contract/cors';
import { withCors } from '../lambdas/shared/cors';

export type ProxyLambda = LambdaHandler<APIGatewayProxyEvent, APIGatewayProxyResult>;

/**
 * The handlers the stack deploys (lib/handler-functions.ts HANDLERS, same names), built from their factories with
 * the local table and client instead of the deployed environment.
 */
export function localHandlers(deps: {
  dynamodb: DynamoDBClient;
  tableName: string;
  apiKeyPrefix: string;
  /** apiKeys.maxPerTenant, as the stack passes it (API_KEYS_MAX_PER_TENANT). @default - the directory's (100) */
  apiKeysPerTenant?: number;
  environment: 'live' | 'test';
  /** The per-tenant limiter, as the stack gives it to the same handlers. @default - none */
  rateLimit?: HttpHandlerOptions['rateLimit'];
  logger?: Logger;
  /** The CORS policy the stack bundles with every handler (CORS_FILE). @default - none */
  cors?: CorsPolicy;
}): Record<string, ProxyLambda> {
  const log = deps.logger ? { logger: deps.logger } : {};
  const limited = deps.rateLimit ? { rateLimit: deps.rateLimit } : {};
  const handlers: Record<string, ProxyLambda> = {
    health: createHealthHandler(log) as ProxyLambda,
    me: createMeHandler({ ...log, ...limited }) as ProxyLambda,
    customers: createCustomersHandler({ dynamodb: deps.dynamodb, tableName: deps.tableName, ...log, ...limited }) as ProxyLambda,
    'api-keys': createApiKeysHandler({ dynamodb: deps.dynamodb, tableName: deps.tableName, prefix: deps.apiKeyPrefix, environment: deps.environment, ...(deps.apiKeysPerTenant !== undefined ? { maxKeysPerTenant: deps.apiKeysPerTenant } : {}), ...log, ...limited }) as ProxyLambda,
    'internal-jobs': createInternalJobsHandler(log) as ProxyLambda,
    webhooks: createWebhooksHandler(log) as ProxyLambda,
  };
  return deps.cors ? withLocalCors(handlers, deps.cors) : handlers;
}

/**
 * Each handler with the policy around it: what the deployed ones read from their bundled CORS_FILE (local mode's
 * handlers have no bundle); the same middleware (lambdas/shared/cors.ts), so the same headers.
 */
function withLocalCors(handlers: Readonly<Record<string, ProxyLambda>>, cors: CorsPolicy): Record<string, ProxyLambda> {
  return Object.fromEntries(Object.entries(handlers).map(([name, h]) => [name, withCors(h, cors)]));
}
