import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { generateApiKey } from '../../../contract/api-key';
import { ApiKeyVerifier } from '../../../lambdas/authorizer/api-keys';
import { ApiKeyStore } from '../../../lambdas/authorizer/store';
import { uniqueName } from '../../support/aws';
import { putApiKeyItem } from './records';
import { emulatorTable, LOOKUP, reasonOf, refusalOf, unreachableDynamoDb } from './steps';

/**
 * The API-key step alone: ApiKeyVerifier over an ApiKeyStore on the emulator's table. Shape, checksum and environment
 * are decided before the table is read; the record decides the rest.
 */
const env = emulatorTable('gatehouse-keys');

const NOW = Date.UTC(2030, 0, 1);
function verifier(opts: { client?: DynamoDBClient; now?: () => number; environment?: 'live' | 'test' } = {}) {
  const client = opts.client ?? env.clients.dynamodb;
  const now = opts.now ?? (() => NOW);
  return new ApiKeyVerifier(new ApiKeyStore(() => client, env.tableName, LOOKUP, now), { prefix: 'gh', environment: opts.environment ?? 'live' }, now);
}
const ACTIVE = { tenantId: 'acme', status: 'active', environment: 'live', name: 'ci', createdAt: '2029-01-01T00:00:00Z' };
async function storedKey(attrs: Record<string, string> = {}, expiresAt?: number) {
  const key = generateApiKey('gh', 'live');
  const keyId = `key_${uniqueName('k')}`;
  await putApiKeyItem(env.tableName, key, { keyId, ...ACTIVE, ...attrs }, {
    scopes: { L: [{ S: 'customers:read' }] },
    ...(expiresAt !== undefined ? { expiresAt: { N: String(expiresAt) } } : {}),
  });
  return { key, keyId };
}

describe('API-key step', () => {
  it("answers an active key of this environment with its key id, tenant and scopes", async () => {
    const { key, keyId } = await storedKey();

    const principal = await verifier().verify(key);

    expect(principal).toEqual({ kind: 'apiKey', keyId, tenantId: 'acme', scopes: ['customers:read'] });
  });

  it('refuses a key of the other environment as APIKEY_ENVIRONMENT_MISMATCH without reading the table', async () => {
    const testKey = generateApiKey('gh', 'test');

    expect(await reasonOf(() => verifier().verify(testKey))).toBe('APIKEY_ENVIRONMENT_MISMATCH');
    expect(env.clients.count('GetItemCommand')).toBe(0);
  });

  it('refuses a key with a broken checksum as APIKEY_CHECKSUM_INVALID without reading the table', async () => {
    const { key } = await storedKey();
    const broken = `${key.slice(0, -1)}${key.endsWith('0') ? '1' : '0'}`;
    env.clients.reset();

    expect(await reasonOf(() => verifier().verify(broken))).toBe('APIKEY_CHECKSUM_INVALID');
    expect(env.clients.count('GetItemCommand')).toBe(0);
  });

  it('refuses a key with another prefix as APIKEY_PREFIX_UNKNOWN', async () => {
    expect(await reasonOf(() => verifier().verify(generateApiKey('zz', 'live')))).toBe('APIKEY_PREFIX_UNKNOWN');
  });

  it('refuses a well-formed key with no record as APIKEY_NOT_FOUND', async () => {
    expect(await reasonOf(() => verifier().verify(generateApiKey('gh', 'live')))).toBe('APIKEY_NOT_FOUND');
  });

  it('refuses a revoked key as APIKEY_REVOKED, naming the key and tenant in the detail', async () => {
    const { key, keyId } = await storedKey({ status: 'revoked' });

    const refusal = await refusalOf(() => verifier().verify(key));

    expect(refusal.code).toBe('APIKEY_REVOKED');
    expect(refusal.detail).toEqual({ keyId, tenantId: 'acme' });
  });

  it('refuses a key from the second its expiry names, and not a millisecond before', async () => {
    const expiresAt = NOW / 1000 + 60;
    const { key } = await storedKey({}, expiresAt);

    await expect(verifier({ now: () => expiresAt * 1000 - 1 }).verify(key)).resolves.toMatchObject({ kind: 'apiKey' });
    expect(await reasonOf(() => verifier({ now: () => expiresAt * 1000 }).verify(key))).toBe('APIKEY_EXPIRED');
  });

  it('refuses a record whose environment differs from the key it is stored under as APIKEY_ENVIRONMENT_MISMATCH', async () => {
    const { key } = await storedKey({ environment: 'test' });

    expect(await reasonOf(() => verifier().verify(key))).toBe('APIKEY_ENVIRONMENT_MISMATCH');
  });

  it('fails closed on a record it cannot decode (APIKEY_RECORD_INVALID, a 500), naming the field', async () => {
    const { key } = await storedKey({ status: 'maybe' });

    const refusal = await refusalOf(() => verifier().verify(key));

    expect(refusal.code).toBe('APIKEY_RECORD_INVALID');
    expect(refusal.outcome).toBe('error');
    expect(refusal.detail).toEqual({ field: 'status' });
  });

  it('fails closed as APIKEY_STORE_UNAVAILABLE when the table cannot be read', async () => {
    const client = unreachableDynamoDb();
    try {
      const refusal = await refusalOf(() => verifier({ client }).verify(generateApiKey('gh', 'live')));

      expect(refusal.code).toBe('APIKEY_STORE_UNAVAILABLE');
      expect(refusal.outcome).toBe('error');
    } finally {
      client.destroy();
    }
  });
});
