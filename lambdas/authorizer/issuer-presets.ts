/**
 * The hosted identity providers' presets (contract/issuer-presets.ts) resolved into issuer specs: each provider's
 * documented token shape, its key source, its pinned algorithm, and the checks that tell its tokens for this API
 * apart from its other tokens. The provider's documentation page for each choice is cited where it is made.
 */
import { type PresetIssuer, presetIssuers } from '../../contract/issuer-presets';
import type { CommonSettings, IssuerSpec } from './issuer-spec';

export function resolvePreset(iss: PresetIssuer, common: CommonSettings): IssuerSpec {
  switch (iss.type) {
    case 'cognito':
      return cognito(iss, common);
    case 'auth0':
      return auth0(iss, common);
    case 'clerk':
      return clerk(iss, common);
    case 'entra':
      return entra(iss, common);
  }
}

/**
 * Amazon Cognito user pools, "Verifying a JSON Web Token"
 * (https://docs.aws.amazon.com/cognito/latest/developerguide/amazon-cognito-user-pools-using-tokens-verifying-a-jwt.html):
 * either form of `iss` (the original cognito-idp host, or the updated issuer-cognito-idp one), RS256 keys at
 * `<iss>/.well-known/jwks.json` as AWS's own aws-jwt-verify reads them; `token_use` says access or id; an access token names its app client
 * in `client_id` and has no `aud`, an id token names it in `aud`. Groups are `cognito:groups`, scopes `scope`.
 */
function cognito(iss: Extract<PresetIssuer, { type: 'cognito' }>, common: CommonSettings): IssuerSpec {
  const access = iss.tokenUse === 'access';
  return {
    ...common,
    algorithms: ['RS256'],
    keys: { jwksUrl: iss.jwksUrl ?? `${common.issuer}/.well-known/jwks.json` },
    ...(access ? { client: { claim: 'client_id', allowed: iss.clientIds } } : { audience: iss.clientIds }),
    tokenType: { claim: 'token_use', expected: iss.tokenUse },
    requiredClaims: ['sub', 'exp'],
    requiredClaimValues: {},
    claims: {
      subject: 'sub',
      tenant: iss.tenantClaim,
      roles: iss.rolesClaim,
      ...(access ? { scopes: 'scope' } : { email: 'email' }),
      // Every token minted from one sign-in (and its refresh token) shares origin_jti: revoking it ends them all.
      session: 'origin_jti',
    },
  };
}

/**
 * Auth0 access tokens for a custom API (https://auth0.com/docs/secure/tokens/access-tokens/access-token-profiles):
 * `iss` is https://<domain>/ with its trailing slash, `aud` the API identifier (a string, or an array that also
 * holds the /userinfo audience), `scope` a string and, with RBAC's "Add Permissions in the Access Token",
 * `permissions` an array; Organizations add `org_id`. Keys at https://<domain>/.well-known/jwks.json.
 */
function auth0(iss: Extract<PresetIssuer, { type: 'auth0' }>, common: CommonSettings): IssuerSpec {
  return {
    ...common,
    algorithms: iss.algorithms,
    keys: { jwksUrl: iss.jwksUrl ?? `https://${iss.domain}/.well-known/jwks.json` },
    audience: iss.audience,
    requiredClaims: ['sub', 'exp'],
    requiredClaimValues: {},
    claims: {
      subject: 'sub',
      tenant: iss.tenantClaim,
      scopes: 'scope',
      permissions: 'permissions',
      ...(iss.rolesClaim !== undefined ? { roles: iss.rolesClaim } : {}),
      session: 'sid',
    },
  };
}

/**
 * Clerk session tokens, version 2 (https://clerk.com/docs/guides/sessions/session-tokens): `iss` is the
 * Frontend API URL, keys at `<iss>/.well-known/jwks.json`, `azp` the origin the token was made for (checked against
 * the authorized parties, as Clerk's own SDKs do), `v: 2`, `sts` the session's status, and the active organization
 * under `o` (`o.id`, `o.rol`, its permissions in `o.per` and `o.fpm` with the features in `fea`).
 */
function clerk(iss: Extract<PresetIssuer, { type: 'clerk' }>, common: CommonSettings): IssuerSpec {
  return {
    ...common,
    algorithms: ['RS256'],
    keys: { jwksUrl: iss.jwksUrl ?? `${common.issuer}/.well-known/jwks.json` },
    client: { claim: 'azp', allowed: iss.authorizedParties, optional: iss.allowMissingAzp },
    tokenType: { claim: 'v', expected: 2 },
    pending: { claim: 'sts', value: 'pending', allow: iss.allowPendingSessions },
    clerkOrganization: true,
    requiredClaims: ['sub', 'exp'],
    requiredClaimValues: {},
    claims: { subject: 'sub', tenant: ['o', 'id'], session: 'sid' },
  };
}

/**
 * Microsoft Entra ID v2.0 access tokens (https://learn.microsoft.com/en-us/entra/identity-platform/access-token-claims-reference):
 * `iss` is https://login.microsoftonline.com/<tid>/v2.0, `ver` "2.0", `aud` the API's client id, `tid` the
 * customer's tenant, `oid` the user's object id, `scp` the delegated scopes (space-separated), `roles` the app
 * roles. Keys per tenant at <authority>/<tid>/discovery/v2.0/keys. A v1.0 token (`iss` https://sts.windows.net/<tid>/)
 * is refused as the wrong kind: the API's app registration should ask for v2 (`accessTokenAcceptedVersion: 2`).
 */
function entra(iss: Extract<PresetIssuer, { type: 'entra' }>, common: CommonSettings): IssuerSpec {
  const tid = iss.tenants[presetIssuers(iss).indexOf(common.issuer)]!;
  const authority = iss.authority.replace(/\/+$/, '');
  return {
    ...common,
    algorithms: ['RS256'],
    keys: { jwksUrl: iss.jwksUrl ?? `${authority}/${tid}/discovery/v2.0/keys` },
    audience: iss.audience,
    tokenType: { claim: 'ver', expected: '2.0' },
    otherKindIssuers: [`https://sts.windows.net/${tid}/`],
    requiredClaims: ['sub', 'exp', iss.subjectClaim],
    // The issuer was chosen by this tenant's `iss`; its `tid` must say the same.
    requiredClaimValues: { tid },
    claims: { subject: iss.subjectClaim, tenant: 'tid', scopes: 'scp', roles: 'roles', email: 'email', session: 'sid' },
  };
}
