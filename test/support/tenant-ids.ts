/** Organization ids in each identity provider's documented format, as tenant ids (the rule: contract/patterns.ts). */
export const PROVIDER_TENANT_IDS = {
  // WorkOS: `org_` and a 26-character ULID (Crockford base32, capitals).
  workos: 'org_01EHZNVPK3SFK441A1RGBFSHRT',
  // Auth0 Organizations: `org_` and 16 mixed-case alphanumerics.
  auth0: 'org_9ybsU1dN2dKfDkBi',
  // Clerk: `org_` and 27 mixed-case alphanumerics (31 characters).
  clerk: 'org_2Z1b3XkQd9YtMpFkYaS7vR0cW4e',
  // Microsoft Entra ID: the `tid` claim, a GUID.
  entra: '72f988bf-86f1-41af-91ab-2d7cd011db47',
} as const;
