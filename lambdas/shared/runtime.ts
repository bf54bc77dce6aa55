import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { HttpHandlerOptions } from './http-handler';
import { createRateLimiter } from './rate-limit/limiter';
import { rateLimitTiersFromEnv } from '../../contract/rate-limit-tiers';
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import type { ProxyHandler } from './http-router';

// The SDK default retries 3 times with no timeout; a handler should fail (500, client retries) well before
// API Gateway's 29 s integration timeout instead of hanging on one slow connection.
const DYNAMODB_OPTIONS = { maxAttempts: 3, requestHandler: { connectionTimeout: 1000, requestTimeout: 3000, throwOnRequestTimeout: true } };

let dynamodb: DynamoDBClient | undefined;

/**
 * The DynamoDB client of a deployed handler, built once per execution environment on first use. Region, endpoint
 * and credentials come from the standard SDK environment (`AWS_REGION`, `AWS_ENDPOINT_URL`, ...).
 */
export function sharedDynamoClient(): DynamoDBClient {
  return (dynamodb ??= new DynamoDBClient(DYNAMODB_OPTIONS));
}

/** The value of environment variable `name`; throws naming the variable when it is unset or empty. */
export function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`environment variable ${name} is not set: the stack must pass it to this function`);
  return value;
}

/**
 * A deployed entry point that builds its handler on the first invocation, not at import: tests import the module
 * for its factory without the deployed environment, and the environment is read once per execution environment.
 */
export function lazyHandler(make: () => ProxyHandler): ProxyHandler {
  let built: ProxyHandler | undefined;
  // async: a failure to build (a missing variable) is a rejected invocation, not a synchronous throw.
  return async (event: APIGatewayProxyEvent, context: Context) => (built ??= make())(event, context);
}

let rateLimit: NonNullable<HttpHandlerOptions['rateLimit']> | undefined;

/**
 * The per-tenant limiter of a deployed handler: the table from `TABLE_NAME`, the tiers from `RATE_LIMIT_TIERS`
 * (JSON, rendered by the stack), built once per execution environment. Its own client makes 2 attempts with short
 * timeouts: the middleware gives up after 1 s anyway, and then the tier's onLimiterError decides.
 */
export function sharedRateLimit(): NonNullable<HttpHandlerOptions['rateLimit']> {
  return (rateLimit ??= {
    limiter: createRateLimiter({
      dynamodb: new DynamoDBClient({ maxAttempts: 2, requestHandler: { connectionTimeout: 300, requestTimeout: 500, throwOnRequestTimeout: true } }),
      tableName: requiredEnv('TABLE_NAME'),
    }),
    tiers: rateLimitTiersFromEnv(),
  });
}
