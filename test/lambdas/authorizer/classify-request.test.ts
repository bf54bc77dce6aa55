import { type AuthorizerConfigInput, parseConfig } from '../../../contract/config';
import { formatSignatureHeader } from '../../../contract/signing';
import { requestClassifier } from '../../../lambdas/authorizer/classify-request';
import { compileRoutes } from '../../../lambdas/authorizer/policy';
import { RouteIndex } from '../../../lambdas/authorizer/route-index';
import { reasonOf } from './steps';

/** The classification step alone: classify() with the options the route table and the request's route imply. */
const JWT = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c2VyLTEifQ.c2lnbmF0dXJl';
const SIGNATURE = formatSignatureHeader({ caller: 'stripe-relay', timestamp: 1_900_000_000, nonce: 'n'.repeat(22), signature: 'a'.repeat(64) });

function classifier(routes: AuthorizerConfigInput['routes'], extra: Partial<AuthorizerConfigInput> = {}) {
  const config = parseConfig({
    environment: 'live',
    issuers: [{ type: 'supabase', url: 'https://abcd.supabase.co', hs256SecretId: 'jwt' }],
    tenants: { verify: false },
    ...extra,
    routes,
  });
  return requestClassifier(config, compileRoutes(config.routes), new RouteIndex(config.routes));
}
const USERS = [
  { method: 'GET', path: '/v1/me', accepts: ['user'] },
  { method: 'GET', path: '/v1/session', accepts: ['user'], cookie: 'sb-access-token' },
] as AuthorizerConfigInput['routes'];
const event = (headers: Record<string, string>, resource = '/v1/me', method = 'GET') => ({ httpMethod: method, resource, headers });

describe('classification step', () => {
  it('takes a JWT from the cookie of a route that names one', () => {
    expect(classifier(USERS)(event({ Cookie: `sb-access-token=${JWT}` }, '/v1/session'))).toEqual({ kind: 'jwt', token: JWT, source: 'cookie' });
  });

  it('never reads cookies on a route that names none: the request has no credential', async () => {
    expect(await reasonOf(() => classifier(USERS)(event({ Cookie: `sb-access-token=${JWT}` })))).toBe('CREDENTIAL_MISSING');
  });

  it('refuses X-Service-Name as SERVICE_NOT_ACCEPTED when no route accepts services', async () => {
    expect(await reasonOf(() => classifier(USERS)(event({ Authorization: 'Bearer secret', 'X-Service-Name': 'billing' })))).toBe('SERVICE_NOT_ACCEPTED');
  });

  it('classifies a service credential when some route accepts services', () => {
    const routes = [...USERS, { method: 'POST', path: '/internal/jobs', accepts: ['service'] }] as AuthorizerConfigInput['routes'];
    const classify = classifier(routes, { services: [{ name: 'billing', secretId: 's' }] });

    expect(classify(event({ Authorization: 'Bearer secret', 'X-Service-Name': 'billing' }))).toMatchObject({ kind: 'service', service: 'billing' });
  });

  it('refuses a signature as SIGNED_NOT_ACCEPTED when no route accepts signed requests, and classifies it when one does', async () => {
    const routes = [...USERS, { method: 'POST', path: '/v1/webhooks', accepts: ['signed'] }] as AuthorizerConfigInput['routes'];
    const withSigned = classifier(routes, { tableName: 'gatehouse-test', signers: [{ name: 'stripe-relay', secretId: 'r' }] });

    expect(await reasonOf(() => classifier(USERS)(event({ Authorization: SIGNATURE })))).toBe('SIGNED_NOT_ACCEPTED');
    expect(withSigned(event({ Authorization: SIGNATURE }))).toMatchObject({ kind: 'signed' });
  });

  it('refuses an Authorization header over the configured size as AUTHORIZATION_TOO_LARGE', async () => {
    const classify = classifier(USERS, { maxAuthorizationBytes: 256 });

    expect(await reasonOf(() => classify(event({ Authorization: `Bearer ${'a'.repeat(300)}` })))).toBe('AUTHORIZATION_TOO_LARGE');
  });
});
