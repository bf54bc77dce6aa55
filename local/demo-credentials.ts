import type { ApiKind } from '../contract/stack-config';
import { SignJWT, importJWK } from 'jose';
import { randomBytes } from 'node:crypto';
import { type AuthorizerConfig, type RouteConfig, issuerIdentity } from '../contract/config';
import { devTokenClaims } from '../control/dev-tokens/claims';
import { signDevToken } from '../control/dev-tokens/sign';
import type { StandInIssuer } from '../control/dev-tokens/stand-in';
import { DEMO_TENANT, DEMO_USER, type LocalSecrets, type LocalSetup, OTHER_TENANT, OTHER_USER } from './local-setup';
import type { DroppedIssuer } from './stand-ins';
import { demoScopes } from './seed';

/** A configured issuer local mode stands in for, and a token of it for the demo user (where one can be made). */
export interface StandInCredential {
  readonly id: string;
  readonly type: string;
  /** The `iss` its tokens carry (the first, for an Entra issuer with several directories). */
  readonly iss: string;
  /** The tenant to mint its tokens for: the demo tenant, or for Entra the first configured directory. */
  readonly tenant: string;
  /** A token in the provider's shape for the demo user of the demo tenant, no scopes or roles; absent with `note`. */
  readonly token?: string;
  readonly note?: string;
}

/** What local mode prints as ready-to-paste requests (local/examples.ts) and writes to .local/demo-credentials.json. */
export interface DemoCredentials {
  readonly baseUrl: string;
  /** Which API Gateway API the gateway emulates (`deployment.api`): refusals differ (local/README.md). */
  readonly api: ApiKind;
  readonly tenantId: string;
  readonly userTokenHs256: string;
  readonly userTokenEs256: string;
  readonly otherTenantToken: string;
  readonly apiKeyRead: string;
  readonly apiKeyWrite: string;
  readonly serviceName: string;
  readonly serviceSecret: string;
  /** Every configured service with its local secret and scopes (serviceName/serviceSecret: the first). */
  readonly services: readonly { readonly name: string; readonly secret: string; readonly scopes: readonly string[] }[];
  /** The scopes of the demo tokens and the read-write key: the union of the route table's (local/seed.ts). */
  readonly scopes: readonly string[];
  /** The read-only API key's scopes. */
  readonly readScopes: readonly string[];
  /** Membership mode: the header a user names its tenant in ('' otherwise). */
  readonly tenantHeader: string;
  /** The route table this run serves (the printed requests are derived from it: local/route-examples.ts). */
  readonly routes: readonly RouteConfig[];
  /** The first configured signer (signed requests) and its secret; '' when none is configured. */
  readonly signerName: string;
  readonly signerSecret: string;
  /** Browser callers: the cookie that carries the user's token ('' when no route takes one), and the CSRF pair. */
  readonly tokenCookie: string;
  readonly csrf: { readonly cookie: string; readonly header: string; readonly token: string };
  /** The default tier's limits (config rateLimits.tiers.default). */
  readonly rateLimit: { readonly requestsPerMinute: number; readonly burst: number };
  /** The configured issuers served by local stand-ins (local/stand-ins.ts), and those dropped with the reason. */
  readonly standIns: readonly StandInCredential[];
  readonly droppedIssuers: readonly DroppedIssuer[];
}

/**
 * The demo credentials of a run whose gateway (and local issuer) is at `baseUrl`: user tokens from the local
 * issuer (HS256 and ES256, 12 hours), the demo API keys, the first service's and signer's secrets, the CSRF pair.
 */
export async function demoCredentials(
  baseUrl: string,
  setup: LocalSetup,
  secrets: LocalSecrets,
  config: AuthorizerConfig,
  issuers: { readonly standIns: readonly StandInIssuer[]; readonly dropped: readonly DroppedIssuer[] } = { standIns: [], dropped: [] },
  api: ApiKind = 'rest',
): Promise<DemoCredentials> {
  const { all: scopes, read: readScopes } = demoScopes(config);
  const token = await localIssuer(baseUrl, secrets, scopes);
  const serviceName = setup.services[0]?.name ?? '';
  const signerName = setup.signers[0]?.name ?? '';
  return {
    baseUrl,
    api,
    tenantId: DEMO_TENANT,
    userTokenHs256: await token('HS256', DEMO_TENANT, DEMO_USER),
    userTokenEs256: await token('ES256', DEMO_TENANT, DEMO_USER),
    otherTenantToken: await token('HS256', OTHER_TENANT, OTHER_USER),
    apiKeyRead: secrets.apiKeys.read,
    apiKeyWrite: secrets.apiKeys.write,
    serviceName,
    serviceSecret: secrets.serviceSecrets[serviceName] ?? '',
    readScopes,
    tenantHeader: config.membership?.header ?? '',
    routes: config.routes,
    services: setup.services.map((s) => ({ name: s.name, secret: secrets.serviceSecrets[s.name] ?? '', scopes: s.scopes })),
    scopes,
    signerName,
    signerSecret: secrets.signerSecrets?.[signerName] ?? '',
    tokenCookie: config.routes.find((r) => r.cookie !== undefined)?.cookie ?? '',
    // What the web app would draw per session and put in its CSRF cookie and header; any random value works.
    csrf: { cookie: config.csrf.cookie, header: config.csrf.header, token: randomBytes(18).toString('base64url') },
    rateLimit: { requestsPerMinute: config.rateLimits.tiers.default.requestsPerMinute, burst: config.rateLimits.tiers.default.burst },
    standIns: await Promise.all(issuers.standIns.map((s) => standInCredential(s, secrets, scopes))),
    droppedIssuers: issuers.dropped,
  };
}

/**
 * A stand-in issuer's demo token: the demo user in the demo tenant, in the provider's shape (control/dev-tokens),
 * signed as `tokens mint --issuer` signs. An Entra token's tenant is its directory, which the demo tenant is not.
 */
async function standInCredential(s: StandInIssuer, secrets: LocalSecrets, scopes: readonly string[]): Promise<StandInCredential> {
  const base = { id: s.id, type: s.config.type, iss: issuerIdentity(s.config).issuers[0]!, tenant: DEMO_TENANT };
  if (s.config.type === 'entra') {
    const tid = s.config.tenants[0]!;
    return { ...base, tenant: tid, note: `a token's tenant is its directory (tid): create it first with \`npx gatehouse --local tenants create ${tid}\`` };
  }
  try {
    const now = Math.floor(Date.now() / 1000);
    const request = { sub: DEMO_USER, tenant: DEMO_TENANT, scopes, roles: [], ttlSeconds: 12 * 3600, now };
    // With the route table's scopes where the issuer reads scopes; an issuer that reads none gets a token without.
    let token;
    try {
      token = devTokenClaims(s.config, request);
    } catch {
      token = devTokenClaims(s.config, { ...request, scopes: [] });
    }
    const key = s.signing.alg === 'HS256' ? secrets.issuerSecrets![s.id]! : JSON.stringify(secrets.rsaSigningKey);
    return { ...base, token: await signDevToken(token, s.signing, key) };
  } catch (err) {
    return { ...base, note: (err as Error).message };
  }
}

/** Signs Supabase-style user tokens as the local issuer: with its HS256 secret, or its ES256 key (served as JWKS). */
async function localIssuer(baseUrl: string, secrets: LocalSecrets, scopes: readonly string[]) {
  const signingKey = await importJWK(secrets.signingKey, 'ES256');
  return async (alg: 'HS256' | 'ES256', tenantId: string, sub: string): Promise<string> => {
    const now = Math.floor(Date.now() / 1000);
    const jwt = new SignJWT({
      role: 'authenticated',
      aud: 'authenticated',
      email: `${sub}@example.com`,
      session_id: randomBytes(8).toString('hex'),
      is_anonymous: false,
      app_metadata: { tenant_id: tenantId, scopes: [...scopes], roles: ['admin'] },
      user_metadata: {},
    })
      .setIssuer(`${baseUrl}/auth/v1`)
      .setSubject(sub)
      .setIssuedAt(now)
      .setExpirationTime(now + 12 * 3600);
    return alg === 'HS256'
      ? jwt.setProtectedHeader({ alg, typ: 'JWT' }).sign(new TextEncoder().encode(secrets.supabaseSecret))
      : jwt.setProtectedHeader({ alg, typ: 'JWT', kid: secrets.signingKey.kid! }).sign(signingKey);
  };
}
