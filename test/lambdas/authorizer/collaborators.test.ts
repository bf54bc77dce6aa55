import { type AuthorizerConfigInput, parseConfig } from '../../../contract/config';
import { buildCollaborators } from '../../../lambdas/authorizer/collaborators';
import { createTable, uniqueName } from '../../support/aws';
import { countingClients } from '../../support/fixture';
import { reasonOf, user } from './steps';

/** The wiring (collaborators.ts) alone: which steps a configuration gets, and that building them does no I/O. */
let tableName: string;
let clients: ReturnType<typeof countingClients>;
beforeAll(async () => {
  tableName = await createTable(uniqueName('gatehouse-wiring'));
  clients = countingClients();
});
afterAll(() => {
  clients.dynamodb.destroy();
  clients.secretsManager.destroy();
});
beforeEach(() => clients.reset());

const SUPABASE = { type: 'supabase', url: 'https://abcd.supabase.co', hs256SecretId: 'jwt', jwks: false } as const;
function wire(overrides: Partial<AuthorizerConfigInput> = {}) {
  const config = parseConfig({
    environment: 'live',
    tableName,
    issuers: [SUPABASE],
    apiKeys: { prefix: 'gh' },
    services: [{ name: 'billing', secretId: 'svc' }],
    routes: [
      { method: 'GET', path: '/v1/me', accepts: ['user', 'apiKey'] },
      { method: 'POST', path: '/internal/jobs', accepts: ['service'] },
    ],
    ...overrides,
  });
  return buildCollaborators(config, { dynamodb: clients.dynamodb, secretsManager: clients.secretsManager, logger: { info() {}, warn() {}, error() {} } });
}

describe('collaborators', () => {
  it('builds every step without a single AWS call', () => {
    wire({ membership: {}, issuers: [{ ...SUPABASE, revokedSessions: true }], owner: { subject: 'user-1' } });

    expect(clients.calls).toEqual([]);
  });

  it('builds the membership steps in membership mode only', () => {
    expect(wire()).toMatchObject({ tenantHeader: undefined, members: undefined });
    expect(wire({ membership: {} }).tenantHeader).toBeDefined();
    expect(wire({ membership: {} }).members).toBeDefined();
  });

  it('gives only the issuers that ask for it a session deny list', async () => {
    const on = wire({ issuers: [{ ...SUPABASE, revokedSessions: true }] });

    expect(await reasonOf(() => on.sessions.check(user({ sessionId: undefined })))).toBe('SESSION_MISSING');
    await expect(wire().sessions.check(user({ sessionId: undefined }))).resolves.toBeUndefined();
  });

  it('reads no tenant record when tenants are not verified', async () => {
    await expect(wire({ tenants: { verify: false } }).tenants.tenantOf(user({ tenantId: 'nobody' }))).resolves.toBeUndefined();
    expect(clients.calls).toEqual([]);
  });
});
