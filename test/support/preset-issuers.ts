/**
 * Two hosted-provider presets on the fixture's own RS256 key and JWKS server (test/support/fixture.ts), for tests
 * that need a preset's checks through the real authorizer: a Cognito user pool accepting access tokens of one app
 * client, and a Clerk instance with one authorized party. Token claims follow each provider's documented shape
 * (Cognito: https://docs.aws.amazon.com/cognito/latest/developerguide/amazon-cognito-user-pools-using-the-access-token.html;
 * Clerk v2: https://clerk.com/docs/guides/sessions/session-tokens).
 */
import type { IssuerConfig } from '../../contract/config';
import type { Fixture } from './fixture';
import { nowSeconds, signWith } from './jwt';

export const COGNITO_POOL = 'eu-west-1_Gatehouse1';
export const COGNITO_ISS = `https://cognito-idp.eu-west-1.amazonaws.com/${COGNITO_POOL}`;
export const COGNITO_CLIENT = '1example23456789abcdefghij';
export const CLERK_ISS = 'https://clerk.gatehouse.test';
export const CLERK_ORIGIN = 'https://app.gatehouse.test';

/** The issuers, on the fixture's RS256 JWKS server (the `iss` stays the provider's; only the keys are read there). */
export function presetIssuers(fx: Pick<Fixture, 'oidcJwks'>): IssuerConfig[] {
  return [
    { type: 'cognito', userPoolId: COGNITO_POOL, clientIds: [COGNITO_CLIENT], jwksUrl: fx.oidcJwks.url } as IssuerConfig,
    { type: 'clerk', frontendApiUrl: CLERK_ISS, authorizedParties: [CLERK_ORIGIN], jwksUrl: fx.oidcJwks.url } as IssuerConfig,
  ];
}

/** A Cognito access token (tenant from custom:tenant_id, which a pre token generation trigger adds), `over` on top. */
export function cognitoAccess(fx: Pick<Fixture, 'oidcKey'>, over: Record<string, unknown> = {}): Promise<string> {
  const now = nowSeconds();
  return signWith(fx.oidcKey, {
    sub: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee',
    'cognito:groups': ['admin'],
    iss: COGNITO_ISS,
    client_id: COGNITO_CLIENT,
    origin_jti: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee',
    event_id: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee',
    token_use: 'access',
    scope: 'aws.cognito.signin.user.admin',
    auth_time: now,
    exp: now + 3600,
    iat: now,
    jti: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee',
    username: 'ada',
    'custom:tenant_id': 'acme',
    ...over,
  });
}

/** A Clerk v2 session token with `acme` as the active organization, `over` on top. */
export function clerkSession(fx: Pick<Fixture, 'oidcKey'>, over: Record<string, unknown> = {}): Promise<string> {
  const now = nowSeconds();
  return signWith(fx.oidcKey, {
    azp: CLERK_ORIGIN,
    exp: now + 60,
    fva: [0, -1],
    iat: now,
    iss: CLERK_ISS,
    nbf: now - 10,
    sid: 'sess_2ZUtbk2yvnFGItdeze1ivCh3uqh',
    sub: 'user_2ZUtbk2yvnFGItdeze1ivCh3uqh',
    v: 2,
    fea: 'o:dashboard',
    o: { id: 'acme', rol: 'admin', slg: 'acme', per: 'read', fpm: '1' },
    ...over,
  });
}
