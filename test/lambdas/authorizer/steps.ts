import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { AuthError, type ReasonCode } from '../../../lambdas/authorizer/errors';
import type { ApiKeyPrincipal } from '../../../lambdas/authorizer/api-keys';
import type { UserPrincipal } from '../../../lambdas/authorizer/jwt';
import type { ServicePrincipal } from '../../../lambdas/authorizer/service-secrets';
import type { SignedPrincipal } from '../../../lambdas/authorizer/signed-requests';
import type { CachedLookupOptions } from '../../../lambdas/authorizer/store';
import { DEAD_ENDPOINT } from '../../support/faults';

/**
 * What the unit tests of the authorizer's steps share: the refusal a step throws, principals as the verifiers make
 * them, and store settings. Stores run against the emulator's tables; an unreachable store is a client on a dead port.
 */

/** The AuthError a step refuses with (sync or async); fails the test if it does not refuse. */
export async function refusalOf(step: () => unknown): Promise<AuthError> {
  try {
    await step();
  } catch (err) {
    if (err instanceof AuthError) return err;
    throw err;
  }
  throw new Error('the step did not refuse');
}

/** The reason code a step refuses with. */
export async function reasonOf(step: () => unknown): Promise<ReasonCode> {
  return (await refusalOf(step)).code;
}

/** Cache settings for a store under test: hits for a minute, misses for ten seconds. */
export const LOOKUP: CachedLookupOptions = { maxEntries: 100, ttlSeconds: 60, negativeTtlSeconds: 10 };

/** A DynamoDB client whose every request is refused at the TCP level: a store that cannot be read. */
export function unreachableDynamoDb(): DynamoDBClient {
  return new DynamoDBClient({ endpoint: DEAD_ENDPOINT, maxAttempts: 1 });
}

export const user = (o: Partial<UserPrincipal> = {}): UserPrincipal => ({
  kind: 'user',
  issuerId: 'supabase',
  subject: 'user-1',
  tenantId: 'acme',
  scopes: [],
  roles: [],
  tenantRequired: false,
  ...o,
});
export const apiKey = (o: Partial<ApiKeyPrincipal> = {}): ApiKeyPrincipal => ({ kind: 'apiKey', keyId: 'key_1', tenantId: 'acme', scopes: [], ...o });
export const service = (): ServicePrincipal => ({ kind: 'service', service: 'billing', scopes: ['jobs:run'] });
export const signer = (): SignedPrincipal => ({ kind: 'signed', signer: 'stripe-relay', scopes: [], bodySha256: 'a'.repeat(64) });
