import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

/**
 * The AWS SDK, loaded on first use. Loading an SDK client package costs tens of milliseconds of cold start, and
 * most decisions need none: a JWT checked against a JWKS, or an HS256 or service secret already read. So nothing
 * here loads the SDK at module load; a package is loaded the first time a store or the secret reader builds a client
 * or a command. The test in test/lambdas/authorizer/cold-start.test.ts holds this in place.
 *
 * `require`, not `import()`: esbuild keeps `import()` as it is in CommonJS output for node22, so the deployed bundle
 * would load the runtime's SDK through the ES module loader (Lambda's own NODE_PATH arrangement for ESM, and a
 * slower path for a CommonJS package) rather than with `require`, as top-level imports of it always have. In the
 * ESM bundles of local mode and the benchmarks, esbuild bundles the package and resolves this `require` itself.
 */

export type DynamoDbSdk = typeof import('@aws-sdk/client-dynamodb');
export type SecretsManagerSdk = typeof import('@aws-sdk/client-secrets-manager');

// AWS SDK defaults retry 3 times with no timeout: a hung dependency would hold the authorizer until Lambda's
// own timeout. Two attempts and a 1 s request timeout keep the worst case bounded.
export const CLIENT_OPTIONS = { maxAttempts: 2, requestHandler: { connectionTimeout: 500, requestTimeout: 1000, throwOnRequestTimeout: true } };

let dynamodb: DynamoDbSdk | undefined;
let secretsManager: SecretsManagerSdk | undefined;

/** `@aws-sdk/client-dynamodb`, loaded on the first call. */
export function dynamodbSdk(): DynamoDbSdk {
  return (dynamodb ??= require('@aws-sdk/client-dynamodb') as DynamoDbSdk);
}

/** `@aws-sdk/client-secrets-manager`, loaded on the first call. */
export function secretsManagerSdk(): SecretsManagerSdk {
  return (secretsManager ??= require('@aws-sdk/client-secrets-manager') as SecretsManagerSdk);
}

/**
 * The DynamoDB client getter of one authorizer: the given client (tests, tools), or one built on the first call from
 * the standard SDK environment (`AWS_REGION`, `AWS_ENDPOINT_URL_DYNAMODB`, ...) with {@link CLIENT_OPTIONS}. A
 * constructor that throws is tried again on the next call.
 */
export function dynamodbClient(given?: DynamoDBClient): () => DynamoDBClient {
  if (given) return () => given;
  let client: DynamoDBClient | undefined;
  return () => (client ??= new (dynamodbSdk().DynamoDBClient)(CLIENT_OPTIONS));
}

/** As {@link dynamodbClient}, for Secrets Manager. */
export function secretsManagerClient(given?: SecretsManagerClient): () => SecretsManagerClient {
  if (given) return () => given;
  let client: SecretsManagerClient | undefined;
  return () => (client ??= new (secretsManagerSdk().SecretsManagerClient)(CLIENT_OPTIONS));
}
