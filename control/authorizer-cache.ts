import { type APIGatewayClient, FlushStageAuthorizersCacheCommand } from '@aws-sdk/client-api-gateway';

/**
 * Empties API Gateway's authorizer result cache of one stage (`FlushStageAuthorizersCache`), so the next request
 * of every caller is decided by the authorizer again. Works against AWS and, with the client's `endpoint` set to
 * the local gateway's `controlPlaneUrl` (and its `restApiId` and `stageName`), against local mode.
 *
 * It does not empty the authorizer's own caches: to make a revocation take effect at once after them, call this
 * once the record's authorizer cache TTL has passed since the change (`flushAfterSeconds` in
 * contract/revocation.ts). Rejects with the SDK's `NotFoundException` for an unknown API or stage.
 */
export async function flushStageAuthorizersCache(client: APIGatewayClient, restApiId: string, stage: string): Promise<void> {
  await client.send(new FlushStageAuthorizersCacheCommand({ restApiId, stageName: stage }));
}
