import * as z from 'zod/mini';
import { claimPath, httpsUrl, matching, seconds, text } from './config-fields';
import { commonIssuerFields } from './issuer-fields';

/**
 * The presets for the hosted identity providers teams use most: Amazon Cognito, Auth0, Clerk and Microsoft Entra ID.
 * Each takes what the provider's console shows (a user pool id, a domain, a Frontend API URL, a tenant id) and
 * derives the exact `iss`, the JWKS URL, the pinned algorithms and where the tenant, roles and scopes are
 * (lambdas/authorizer/issuer-presets.ts). Every preset takes `jwksUrl` to read the same keys from elsewhere (a
 * proxy, or local mode's stand-in issuer); the `iss` never changes with it.
 */

const jwksUrl = z.optional(httpsUrl);
const audience = z.union([text(1, 512), z.array(text(1, 512)).check(z.minLength(1), z.maxLength(20))]);

/** An AWS region, e.g. eu-west-1 or us-gov-west-1. */
const REGION = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;
/** A Cognito user pool id: `<region>_<id>` (the API's pattern is `[\w-]+_[0-9a-zA-Z]+`, 1-55 characters). */
export const USER_POOL_ID = /^([a-z]{2}(?:-[a-z]+)+-\d{1,2})_[0-9A-Za-z]{1,40}$/;

const cognitoIssuer = z.strictObject({
  type: z.literal('cognito'),
  /** The user pool id, e.g. eu-west-1_AbCdEf123; `iss` is https://cognito-idp.<region>.amazonaws.com/<id>. */
  userPoolId: matching(USER_POOL_ID, 'a user pool id looks like eu-west-1_AbCdEf123'),
  /** Defaults to the user pool id's region; if set, it must be that region. */
  region: z.optional(matching(REGION, 'an AWS region, e.g. eu-west-1')),
  /** The app clients whose tokens are accepted: checked against `client_id` (access tokens) or `aud` (id tokens). */
  clientIds: z.array(matching(/^[\w+]{1,128}$/, 'an app client id is 1-128 letters, digits, _ and +')).check(z.minLength(1), z.maxLength(50)),
  /** Which tokens this API accepts: `access` (recommended for APIs) or `id`; the other kind is refused. */
  tokenUse: z._default(z.enum(['access', 'id']), 'access'),
  /** Where the tenant is: a custom attribute, or a claim a pre token generation trigger adds. */
  tenantClaim: z._default(claimPath, 'custom:tenant_id'),
  /** Roles: the user's groups by default. */
  rolesClaim: z._default(claimPath, 'cognito:groups'),
  jwksUrl,
  ...commonIssuerFields,
});

/** A host name such as example.us.auth0.com or login.example.com: no scheme, no port, no path. */
const HOSTNAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

const auth0Issuer = z.strictObject({
  type: z.literal('auth0'),
  /** The tenant's domain or custom domain (whichever issues the tokens); `iss` is https://<domain>/ . */
  domain: matching(HOSTNAME, 'a domain is a host name such as example.us.auth0.com (no https://, no path)'),
  /** The API's identifier (its `aud`), as set in Auth0's APIs page. */
  audience,
  algorithms: z._default(z.array(z.enum(['RS256', 'PS256'])).check(z.minLength(1)), ['RS256']),
  /** Where the tenant is: the Organization's id by default; or a namespaced custom claim set by an Action. */
  tenantClaim: z._default(claimPath, 'org_id'),
  /** Roles, if an Action adds them (Auth0 requires a namespaced name, e.g. https://example.com/roles). */
  rolesClaim: z.optional(claimPath),
  jwksUrl,
  ...commonIssuerFields,
});

/** An origin: scheme, host and port only, e.g. https://app.example.com or http://localhost:5173. */
const origin = z.url().check(
  z.refine((u) => {
    try {
      return new URL(u).origin === u;
    } catch {
      return false;
    }
  }, 'an origin is scheme://host[:port] with no path or trailing slash, e.g. https://app.example.com'),
);

const clerkIssuer = z.strictObject({
  type: z.literal('clerk'),
  /** The instance's Frontend API URL (Dashboard, API keys), e.g. https://clerk.example.com; it is the `iss`. */
  frontendApiUrl: httpsUrl,
  /** The origins of your frontends: a token's `azp` must be one of them. */
  authorizedParties: z.array(origin).check(z.minLength(1), z.maxLength(50)),
  /** Accept tokens without `azp` (Clerk leaves it out when the request had no Origin header, e.g. native apps). */
  allowMissingAzp: z._default(z.boolean(), false),
  /** Accept sessions with tasks still pending (`sts: "pending"`), such as choosing an organization. */
  allowPendingSessions: z._default(z.boolean(), false),
  jwksUrl,
  ...commonIssuerFields,
});

/** A Microsoft Entra tenant id: a GUID, lowercase as tokens carry it. */
export const ENTRA_TENANT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const entraIssuer = z.strictObject({
  type: z.literal('entra'),
  /** The Entra tenants (directories) whose users are accepted; each has its own `iss`. */
  tenants: z.array(matching(ENTRA_TENANT_ID, 'an Entra tenant id is a lowercase GUID')).check(z.minLength(1), z.maxLength(100)),
  /** The API's application (client) id: v2.0 access tokens carry it as `aud`. */
  audience,
  /** Which claim identifies a user: `oid` (the object id, the same for every app) or `sub` (per app). */
  subjectClaim: z._default(z.enum(['oid', 'sub']), 'oid'),
  /** The cloud's sign-in host: login.microsoftonline.com, or a national cloud's. */
  authority: z._default(httpsUrl, 'https://login.microsoftonline.com'),
  jwksUrl,
  ...commonIssuerFields,
  /**
   * 28 hours by default: tokens for clients capable of continuous access evaluation live 20-28 hours
   * (https://learn.microsoft.com/en-us/entra/identity-platform/access-tokens#token-lifetime); others 60-90 minutes.
   */
  maxTokenAgeSeconds: z._default(seconds(30 * 86_400), 100_800),
});

export const presetSchemas = [cognitoIssuer, auth0Issuer, clerkIssuer, entraIssuer] as const;

export type CognitoIssuer = z.output<typeof cognitoIssuer>;
export type Auth0Issuer = z.output<typeof auth0Issuer>;
export type ClerkIssuer = z.output<typeof clerkIssuer>;
export type EntraIssuer = z.output<typeof entraIssuer>;
export type PresetIssuer = CognitoIssuer | Auth0Issuer | ClerkIssuer | EntraIssuer;

/**
 * The region a user pool id names; undefined for a string that is no user pool id. The document's rules run even when
 * a field failed its pattern (its own issue names it), so nothing here may assume the id is well formed.
 */
function poolRegion(userPoolId: string): string | undefined {
  return USER_POOL_ID.exec(userPoolId)?.[1];
}

/** A Cognito issuer's region: the one it names, else its user pool id's. */
export function cognitoRegion(iss: CognitoIssuer): string {
  return iss.region ?? poolRegion(iss.userPoolId) ?? '';
}

/** Each `iss` a preset accepts (one per Entra tenant). */
export function presetIssuers(iss: PresetIssuer): readonly string[] {
  switch (iss.type) {
    case 'cognito':
      // The original issuer and the updated one AWS recommends; a pool uses one of them
      // (https://docs.aws.amazon.com/cognito/latest/developerguide/federation-endpoints.html).
      return [`https://cognito-idp.${cognitoRegion(iss)}.amazonaws.com/${iss.userPoolId}`, `https://issuer-cognito-idp.${cognitoRegion(iss)}.amazonaws.com/${iss.userPoolId}`];
    case 'auth0':
      return [`https://${iss.domain}/`];
    case 'clerk':
      return [iss.frontendApiUrl.replace(/\/+$/, '')];
    case 'entra':
      return iss.tenants.map((tid) => `${iss.authority.replace(/\/+$/, '')}/${tid}/v2.0`);
  }
}

/** The rules of a preset that its schema cannot say, at paths relative to the issuer. */
export function checkPreset(iss: PresetIssuer, issue: (path: (string | number)[], message: string) => void): void {
  if (iss.type === 'cognito' && iss.region !== undefined) {
    const named = poolRegion(iss.userPoolId);
    if (named !== undefined && iss.region !== named) issue(['region'], "must be the user pool's region (userPoolId's part before the underscore), or left out");
  }
  if (iss.type === 'auth0') {
    const management = `https://${iss.domain}/api/v2/`;
    if ((typeof iss.audience === 'string' ? [iss.audience] : iss.audience).includes(management)) {
      issue(['audience'], "that is the Management API's audience: its tokens are for Auth0 itself; use your API's identifier");
    }
  }
  if (iss.type === 'entra' && new Set(iss.tenants).size !== iss.tenants.length) issue(['tenants'], 'a tenant is listed twice');
}
