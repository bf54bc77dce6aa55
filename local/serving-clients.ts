import { APIGatewayClient } from '@aws-sdk/client-api-gateway';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CLIENT_OPTIONS } from '../lambdas/authorizer/aws';
import { DYNAMODB_OPTIONS, RATE_LIMIT_DYNAMODB_OPTIONS } from '../lambdas/shared/runtime';

/**
 * The AWS clients that serve requests in local mode, each with the attempts and timeouts of its deployed
 * counterpart: the authorizer's (lambdas/authorizer/aws.ts), the handlers' and the rate limiter's
 * (lambdas/shared/runtime.ts). The SDK's defaults (3 attempts, no timeout) would let an emulator that accepts
 * connections but never answers hang every request, where the deployed functions give up within their bounds.
 * Provisioning (table, secrets, usage plans, --keep's scan) keeps its own clients without timeouts: it runs once,
 * before serving, and may wait on a busy emulator.
 */
export interface ServingClients {
  readonly authorizer: { readonly dynamodb: DynamoDBClient; readonly secretsManager: SecretsManagerClient };
  readonly handlers: DynamoDBClient;
  readonly rateLimiter: DynamoDBClient;
  /** The usage-plan lookups of the gateway (API Gateway's own control plane), bounded as the authorizer's reads. */
  readonly apigateway: APIGatewayClient;
  destroy(): void;
}

/** Serving clients on the standard SDK environment (`AWS_ENDPOINT_URL`: the emulator). */
export function servingClients(): ServingClients {
  const clients = {
    authorizer: { dynamodb: new DynamoDBClient(CLIENT_OPTIONS), secretsManager: new SecretsManagerClient(CLIENT_OPTIONS) },
    handlers: new DynamoDBClient(DYNAMODB_OPTIONS),
    rateLimiter: new DynamoDBClient(RATE_LIMIT_DYNAMODB_OPTIONS),
    apigateway: new APIGatewayClient(CLIENT_OPTIONS),
  };
  return {
    ...clients,
    destroy() {
      for (const c of [clients.authorizer.dynamodb, clients.authorizer.secretsManager, clients.handlers, clients.rateLimiter, clients.apigateway]) c.destroy();
    },
  };
}
