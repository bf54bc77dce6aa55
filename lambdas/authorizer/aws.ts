import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

/**
 * The AWS SDK, loaded on first use. Importing an SDK client package costs milliseconds of cold start (hundreds of
 * modules), and most decisions need none: a JWT checked against a JWKS, or an HS256 or service secret already read.
 * So nothing here imports the SDK at module load; the packages are `import()`ed the first time a store or the
 * secret reader sends a command. (esbuild's CommonJS output, the deployed form, turns that into a `require` inside
 * a promise callback: still lazy.) The test in test/lambdas/authorizer/cold-start.test.ts holds this in place.
 */

export type DynamoDbSdk = typeof import('@aws-sdk/client-dynamodb');
export type SecretsManagerSdk = typeof import('@aws-sdk/client-secrets-manager');

/** A client, or a promise of one: what the stores call before each send. */
export type ClientGetter<C> = () => C | Promise<C>;

// AWS SDK defaults retry 3 times with no timeout: a hung dependency would hold the authorizer until Lambda's
// own timeout. Two attempts and a 1 s request timeout keep the worst case bounded.
export const CLIENT_OPTIONS = { maxAttempts: 2, requestHandler: { connectionTimeout: 500, requestTimeout: 1000, throwOnRequestTimeout: true } };

/**
 * Memoizes an async load; a rejected load is forgotten, so the next call tries again (as a constructor that threw
 * would be retried). Memoizing matters beyond the first call too: each bundled `import()` wraps the module's
 * exports in a fresh object.
 */
function once<T>(load: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () =>
    (pending ??= load().catch((err: unknown) => {
      pending = undefined;
      throw err;
    }));
}

/** `@aws-sdk/client-dynamodb`, imported on the first call. */
export const dynamodbSdk: () => Promise<DynamoDbSdk> = once(() => import('@aws-sdk/client-dynamodb'));

/** `@aws-sdk/client-secrets-manager`, imported on the first call. */
export const secretsManagerSdk: () => Promise<SecretsManagerSdk> = once(() => import('@aws-sdk/client-secrets-manager'));

/**
 * The DynamoDB client getter of one authorizer: the given client (tests, tools), or one built on the first call from
 * the standard SDK environment (`AWS_REGION`, `AWS_ENDPOINT_URL_DYNAMODB`, ...) with {@link CLIENT_OPTIONS}.
 */
export function dynamodbClient(given?: DynamoDBClient): () => Promise<DynamoDBClient> {
  if (given) return () => Promise.resolve(given);
  return once(async () => new (await dynamodbSdk()).DynamoDBClient(CLIENT_OPTIONS));
}

/** As {@link dynamodbClient}, for Secrets Manager. */
export function secretsManagerClient(given?: SecretsManagerClient): () => Promise<SecretsManagerClient> {
  if (given) return () => Promise.resolve(given);
  return once(async () => new (await secretsManagerSdk()).SecretsManagerClient(CLIENT_OPTIONS));
}
