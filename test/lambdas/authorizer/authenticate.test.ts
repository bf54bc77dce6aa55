import { generateApiKey } from '../../../contract/api-key';
import type { AuthorizerConfigInput } from '../../../contract/config';
import { authenticate } from '../../../lambdas/authorizer/authenticate';
import { authorizerEvent } from '../../support/fixture';
import { emulatorTable, reasonOf, wiredCollaborators } from './steps';

/**
 * The authentication step alone: a credential goes to the verifier of its kind, and a kind the configuration does not
 * enable is refused before any parsing or I/O. The verifiers are wired as the authorizer wires them (collaborators.ts).
 */
const env = emulatorTable('gatehouse-authenticate');

const wire = (overrides: Partial<AuthorizerConfigInput> = {}) => wiredCollaborators(env, overrides);
const JWT = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c2VyLTEifQ.c2lnbmF0dXJl';
const EVENT = authorizerEvent({});

describe('authentication step', () => {
  it('refuses a JWT as CREDENTIAL_UNRECOGNIZED, with no I/O, when no issuer is configured', async () => {
    const { verifiers } = wire({ issuers: [], routes: [{ method: 'GET', path: '/v1/me', accepts: ['apiKey'] }] });

    expect(await reasonOf(() => authenticate(verifiers, { kind: 'jwt', token: JWT, source: 'header' }, EVENT))).toBe('CREDENTIAL_UNRECOGNIZED');
    expect(env.clients.calls).toEqual([]);
  });

  it('refuses an API key as CREDENTIAL_UNRECOGNIZED, before parsing it, when API keys are not configured', async () => {
    const { verifiers } = wire({ apiKeys: undefined, routes: [{ method: 'GET', path: '/v1/me', accepts: ['user'] }] });

    expect(await reasonOf(() => authenticate(verifiers, { kind: 'apiKey', key: generateApiKey('zz', 'test') }, EVENT))).toBe('CREDENTIAL_UNRECOGNIZED');
    expect(env.clients.calls).toEqual([]);
  });

  it('hands an API key to the API-key verifier, which looks it up', async () => {
    const { verifiers } = wire();

    expect(await reasonOf(() => authenticate(verifiers, { kind: 'apiKey', key: generateApiKey('gh', 'live') }, EVENT))).toBe('APIKEY_NOT_FOUND');
    expect(env.clients.count('GetItemCommand')).toBe(1);
  });

  it('hands a service credential to the service verifier', async () => {
    const { verifiers } = wire();

    expect(await reasonOf(() => authenticate(verifiers, { kind: 'service', service: 'payroll', secret: 's' }, EVENT))).toBe('SERVICE_UNKNOWN');
  });

  it('hands a signature to the signed-request verifier', async () => {
    const { verifiers } = wire();
    const header = { caller: 'stripe-relay', timestamp: 1_900_000_000, nonce: 'n'.repeat(22), signature: 'a'.repeat(64) };

    expect(await reasonOf(() => authenticate(verifiers, { kind: 'signed', header }, EVENT))).toBe('SIGNER_UNKNOWN');
  });

  it('hands a JWT to the JWT verifier', async () => {
    const { verifiers } = wire();

    expect(await reasonOf(() => authenticate(verifiers, { kind: 'jwt', token: 'not.a.jwt', source: 'header' }, EVENT))).toBe('JWT_MALFORMED');
  });
});
