import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { AuthError, type ReasonCode } from '../../../lambdas/authorizer/errors';
import type { ApiKeyPrincipal } from '../../../lambdas/authorizer/api-keys';
import type { UserPrincipal } from '../../../lambdas/authorizer/jwt';
import type { ServicePrincipal } from '../../../lambdas/authorizer/service-secrets';
import type { SignedPrincipal } from '../../../lambdas/authorizer/signed-requests';
import type { CachedLookupOptions } from '../../../lambdas/authorizer/store';
import { type AuthorizerConfigInput, parseConfig } from '../../../contract/config';
import { buildCollaborators } from '../../../lambdas/authorizer/collaborators';
import { createTable, uniqueName } from '../../support/aws';
import { DEAD_ENDPOINT } from '../../support/faults';
import { countingClients } from '../../support/fixture';

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

/** A step's test file's own table on the emulator, and AWS clients that count their calls (reset before each test). */
export interface EmulatorTable {
  readonly tableName: string;
  readonly clients: ReturnType<typeof countingClients>;
}

/** Creates the table and the clients before the file's tests, resets the counts before each, closes the clients after. */
export function emulatorTable(name: string): EmulatorTable {
  const env = {} as { tableName: string; clients: ReturnType<typeof countingClients> };
  beforeAll(async () => {
    env.tableName = await createTable(uniqueName(name));
    env.clients = countingClients();
  });
  afterAll(() => {
    env.clients.dynamodb.destroy();
    env.clients.secretsManager.destroy();
  });
  beforeEach(() => env.clients.reset());
  return env;
}

/** A Supabase issuer verified with its legacy HS256 secret only. */
export const SUPABASE = { type: 'supabase', url: 'https://abcd.supabase.co', hs256SecretId: 'jwt', jwks: false } as const;

/**
 * The authorizer's collaborators as collaborators.ts wires them, on `env`'s table and clients: a Supabase issuer,
 * API keys and one service by default, `overrides` on top.
 */
export function wiredCollaborators(env: EmulatorTable, overrides: Partial<AuthorizerConfigInput> = {}) {
  const config = parseConfig({
    environment: 'live',
    tableName: env.tableName,
    issuers: [SUPABASE],
    apiKeys: { prefix: 'gh' },
    services: [{ name: 'billing', secretId: 'svc' }],
    routes: [
      { method: 'GET', path: '/v1/me', accepts: ['user', 'apiKey'] },
      { method: 'POST', path: '/internal/jobs', accepts: ['service'] },
    ],
    ...overrides,
  });
  return buildCollaborators(config, { dynamodb: env.clients.dynamodb, secretsManager: env.clients.secretsManager, logger: { info() {}, warn() {}, error() {} } });
}
