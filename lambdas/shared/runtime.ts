import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { HttpHandlerOptions } from './http-handler';
import { createRateLimiter } from './rate-limit/limiter';
import { RATE_LIMIT_TIERS_FILE, type RateLimitTiers, rateLimitTiersFromEnv, rateLimitTiersFromJson } from '../../contract/rate-limit-tiers';
import path from 'node:path';
import { readBundledFile } from './bundled-file';
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import type { ProxyHandler } from './http-router';

/**
 * The deployed handlers' DynamoDB client options (local mode gives its handlers the same). The SDK default retries
 * 3 times with no timeout; a handler should fail (500, client retries) well before API Gateway's 29 s integration
 * timeout instead of hanging on one slow connection.
 */
export const DYNAMODB_OPTIONS = { maxAttempts: 3, requestHandler: { connectionTimeout: 1000, requestTimeout: 3000, throwOnRequestTimeout: true } };

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

/** The rate limiter's DynamoDB client options: 2 attempts with short timeouts (see {@link sharedRateLimit}). */
export const RATE_LIMIT_DYNAMODB_OPTIONS = { maxAttempts: 2, requestHandler: { connectionTimeout: 300, requestTimeout: 500, throwOnRequestTimeout: true } };

let rateLimit: NonNullable<HttpHandlerOptions['rateLimit']> | undefined;

/**
 * The per-tenant limiter of a deployed handler: the table from `TABLE_NAME`, the tiers from the file the stack
 * bundles with the code (else `RATE_LIMIT_TIERS`, JSON), built once per execution environment, which is what makes
 * its leases pay: a busy tenant's requests in this environment spend tokens leased in one write (rate-limit/lease.ts),
 * a quiet tenant's cost one write each as before. Its own client makes 2 attempts with short
 * timeouts: the middleware gives up after 1 s anyway, and then the tier's onLimiterError decides.
 */
export function sharedRateLimit(): NonNullable<HttpHandlerOptions['rateLimit']> {
  return (rateLimit ??= {
    limiter: createRateLimiter({
      dynamodb: new DynamoDBClient(RATE_LIMIT_DYNAMODB_OPTIONS),
      tableName: requiredEnv('TABLE_NAME'),
    }),
    tiers: bundledRateLimitTiers(),
  });
}

/**
 * The tiers bundled next to this code (lib/handler-functions.ts), else from the environment. Up to 300 tiers fit in
 * the file; the environment's 4 KB would hold about 50. (`__dirname` is the bundle's directory in the CommonJS
 * Lambda bundle; the local mode's ESM bundle has none, and passes the tiers in the environment.)
 */
function bundledRateLimitTiers(): RateLimitTiers {
  const raw = typeof __dirname === 'undefined' ? undefined : readBundledFile(path.join(__dirname, RATE_LIMIT_TIERS_FILE));
  return raw === undefined ? rateLimitTiersFromEnv() : rateLimitTiersFromJson(raw, RATE_LIMIT_TIERS_FILE);
}
