import type { IssuerSpec } from '../../../lambdas/authorizer/issuers';

/**
 * An issuer as the verifier takes it (issuers.ts, after the configuration's defaults), for tests of the JWT parts:
 * an OIDC issuer with ES256, no key source and the configuration's default timings, `overrides` on top.
 */
export function issuerSpec(overrides: Partial<IssuerSpec> = {}): IssuerSpec {
  return {
    id: 'oidc',
    issuer: 'https://login.example/',
    algorithms: ['ES256'],
    keys: {},
    clockToleranceSeconds: 30,
    maxTokenAgeSeconds: 0,
    requiredClaims: [],
    requiredClaimValues: {},
    claims: { subject: 'sub' },
    tenantRequired: false,
    secretCacheTtlSeconds: 300,
    jwksTimeoutMs: 300,
    jwksCooldownSeconds: 30,
    jwksCacheMaxAgeSeconds: 600,
    revokedSessions: false,
    sessionCacheTtlSeconds: 60,
    ...overrides,
  };
}
