import * as z from 'zod/mini';
import { routeCached } from './route-authorizer';
import { ZOD_MESSAGES, rateLimitTiersSchema } from './rate-limit-tiers';
import { AUTHORIZATION_HEADER, CONTENT_SHA256_HEADER, CSRF_COOKIE, CSRF_HEADER, SERVICE_NAME_HEADER, TENANT_HEADER } from './headers';
import { ConfigError } from './config-error';
import { API_KEY_PREFIX_PATTERN, CALLER_NAME_PATTERN, COOKIE_NAME_MESSAGE, COOKIE_NAME_PATTERN, HANDLER_NAME_PATTERN, HEADER_NAME_MESSAGE, HEADER_NAME_PATTERN, ISSUER_ID_PATTERN, SCOPE_MESSAGE, SCOPE_PATTERN } from './patterns';

/**
 * The authorizer's whole configuration: one typed document, validated once at cold start. The stack renders it
 * into the deployed function's environment; tests and tools build the same document. Unknown keys are errors
 * (a typo must not silently drop a check), and every error names the field.
 *
 * Written with zod/mini, zod's functional API: it tree-shakes, so the authorizer bundle carries about 30 KB of zod
 * instead of 440 KB (classic zod's chained methods pull in the whole library). Messages are classic zod's English
 * ones (ZOD_MESSAGES, passed per parse).
 */

/** `signed`: a caller that signs each request with HMAC-SHA256 (contract/signing.ts). */
export const CREDENTIAL_KINDS = ['user', 'apiKey', 'service', 'signed'] as const;
export type CredentialKind = (typeof CREDENTIAL_KINDS)[number];

export const JWT_ALGORITHMS = ['HS256', 'RS256', 'PS256', 'ES256', 'ES384', 'EdDSA'] as const;
export type JwtAlgorithm = (typeof JWT_ALGORITHMS)[number];
const ASYMMETRIC: ReadonlySet<JwtAlgorithm> = new Set(['RS256', 'PS256', 'ES256', 'ES384', 'EdDSA']);

/** An integer in [min, max]: classic zod's `z.number().int().min(min).max(max)`. */
const int = (min: number, max: number) => z.number().check(z.int(), z.minimum(min), z.maximum(max));
const seconds = (max: number) => int(0, max);
/** A string matching `pattern`, with `message` (or zod's own) when it does not. */
const matching = (pattern: RegExp, message?: string) => z.string().check(z.regex(pattern, message));
/** A string of `min` to `max` characters. */
const text = (min: number, max?: number) => z.string().check(z.minLength(min), ...(max === undefined ? [] : [z.maxLength(max)]));
const scope = matching(SCOPE_PATTERN, SCOPE_MESSAGE);
// A dotted path into the claims, each segment an own property (never walks the prototype chain).
const claimPath = matching(/^[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z_][A-Za-z0-9_-]*)*$/, 'a claim path is dotted names, e.g. app_metadata.tenant_id');
const httpsUrl = z.url().check(
  z.refine(
    (u) => u.startsWith('https://') || /^http:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?(\/|$)/.test(u),
    'must be https:// (plain http only on loopback, for local mode and tests)',
  ),
);
const secretId = text(1, 2048);

const jwksOptions = {
  /** Abort a JWKS fetch after this long; the request fails closed (500) rather than waiting. */
  jwksTimeoutMs: z._default(int(100, 10_000), 1500),
  /** At most one refetch per this many seconds, however many unknown `kid`s arrive. */
  jwksCooldownSeconds: z._default(seconds(3600), 30),
  /** Refetch the JWKS when the cached copy is older than this, even if every `kid` is known. */
  jwksCacheMaxAgeSeconds: z._default(seconds(86_400), 600),
};

const commonIssuerFields = {
  /** A short name for logs and the `issuer` context value; defaults to the issuer type. */
  id: z.optional(matching(ISSUER_ID_PATTERN)),
  clockToleranceSeconds: z._default(seconds(300), 30),
  /** Maximum age from `iat`; `iat` becomes required. 0 turns the check off. */
  maxTokenAgeSeconds: z._default(seconds(30 * 86_400), 86_400),
  /** A user whose token names no tenant is refused (403) unless this is false. */
  tenantRequired: z._default(z.boolean(), true),
  /** Seconds an HS256 secret read from Secrets Manager is used before it is read again. */
  secretCacheTtlSeconds: z._default(seconds(86_400), 300),
  /**
   * Session deny list: refuse (401) a token whose session id has a revoked-session item in the table (Supabase
   * access tokens stay valid after sign-out until `exp`; this ends them early). A token without a session id is
   * then refused too (fail closed). Supabase maps `session_id`, WorkOS `sid`; an oidc issuer needs `claims.session`.
   */
  revokedSessions: z._default(z.boolean(), false),
  /** How long one deny-list answer (revoked or not) is reused per session id. */
  sessionCacheTtlSeconds: z._default(seconds(3600), 30),
  ...jwksOptions,
};

const supabaseIssuer = z.strictObject({
  type: z.literal('supabase'),
  /** The project URL, e.g. https://abcd.supabase.co; `iss` is `<url>/auth/v1`. */
  url: httpsUrl,
  /** Secrets Manager id of the legacy HS256 JWT secret. */
  hs256SecretId: z.optional(secretId),
  /** Verify asymmetric signing keys from `<url>/auth/v1/.well-known/jwks.json` (default true). */
  jwks: z._default(z.boolean(), true),
  /** Accept users who signed in anonymously (`is_anonymous: true`). */
  allowAnonymous: z._default(z.boolean(), false),
  /** Where the tenant id is. Must be under app_metadata: users can edit user_metadata themselves. */
  tenantClaim: z._default(claimPath, 'app_metadata.tenant_id'),
  scopesClaim: z.optional(claimPath),
  rolesClaim: z._default(claimPath, 'app_metadata.roles'),
  audience: z._default(text(1), 'authenticated'),
  ...commonIssuerFields,
});

const workosIssuer = z.strictObject({
  type: z.literal('workos'),
  clientId: matching(/^[A-Za-z0-9_]{1,128}$/),
  /** Defaults to https://api.workos.com/user_management/<clientId>. */
  issuer: z.optional(httpsUrl),
  /** Defaults to https://api.workos.com/sso/jwks/<clientId>. */
  jwksUrl: z.optional(httpsUrl),
  /** WorkOS access tokens may carry no `aud`; set this to require one. */
  audience: z.optional(text(1)),
  ...commonIssuerFields,
});

const oidcKeys = z.union([
  z.strictObject({ jwksUrl: httpsUrl }),
  z.strictObject({ jwks: z.strictObject({ keys: z.array(z.record(z.string(), z.unknown())).check(z.minLength(1)) }) }),
  z.strictObject({ hs256SecretId: secretId }),
]);

const oidcIssuer = z.strictObject({
  type: z.literal('oidc'),
  issuer: text(1, 512),
  keys: oidcKeys,
  algorithms: z.array(z.enum(JWT_ALGORITHMS)).check(z.minLength(1)),
  /** Required for generic issuers: without an audience check, a token minted for another app would pass. */
  audience: z.union([text(1), z.array(text(1)).check(z.minLength(1))]),
  claims: z._default(
    z.strictObject({
      subject: z._default(claimPath, 'sub'),
      tenant: z.optional(claimPath),
      scopes: z.optional(claimPath),
      roles: z.optional(claimPath),
      email: z.optional(claimPath),
      session: z.optional(claimPath),
    }),
    { subject: 'sub' },
  ),
  requiredClaims: z._default(z.array(claimPath), []),
  /** Claims that must hold exactly this value, e.g. `{ "token_use": "access" }`. */
  requiredClaimValues: z._default(z.record(claimPath, z.union([z.string(), z.boolean(), z.number()])), {}),
  ...commonIssuerFields,
});

const issuerSchema = z.discriminatedUnion('type', [supabaseIssuer, workosIssuer, oidcIssuer]);

const serviceSchema = z.strictObject({
  name: matching(CALLER_NAME_PATTERN, 'a service name is lowercase letters, digits and dashes'),
  secretId,
  scopes: z._default(z.array(scope), []),
});

/** A caller that signs requests (contract/signing.ts) with its secret in Secrets Manager. */
const signerSchema = z.strictObject({
  name: matching(CALLER_NAME_PATTERN, 'a signer name is lowercase letters, digits and dashes'),
  secretId,
  scopes: z._default(z.array(scope), []),
});

const cookieName = matching(COOKIE_NAME_PATTERN, COOKIE_NAME_MESSAGE);
const headerName = matching(HEADER_NAME_PATTERN, HEADER_NAME_MESSAGE);

const routeSchema = z.strictObject({
  method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'ANY']),
  path: matching(
    /^\/$|^(\/([A-Za-z0-9._~-]+|\{[A-Za-z_][A-Za-z0-9_]*\+?\}))+$/,
    'a path is /segment/{param}/... as in API Gateway (a {proxy+} only last)',
  ),
  /** Served without the authorizer. */
  public: z._default(z.boolean(), false),
  accepts: z._default(z.array(z.enum(CREDENTIAL_KINDS)), []),
  scopes: z._default(z.array(scope), []),
  /** For `service` routes: only these services (default: every configured service). */
  services: z.optional(z.array(z.string())),
  /** For `signed` routes: only these signers (default: every configured signer). */
  signers: z.optional(z.array(z.string())),
  /**
   * Browser callers: also take the user's JWT from this cookie (e.g. `sb-access-token`), verified as from the
   * header. A request that sends both a header credential and this cookie is refused; a mutating request (POST,
   * PUT, PATCH, DELETE) with the cookie must pass the CSRF check (`csrf`). The route's answers are not cached.
   */
  cookie: z.optional(cookieName),
  /** The stack's handler Lambda for this route (see lib/handler-functions.ts); the authorizer ignores it. */
  handler: z.optional(matching(HANDLER_NAME_PATTERN)),
});

export const authorizerConfigSchema = z
  .strictObject({
    /** Which API keys work here: `test` keys never work on a `live` deployment, nor the reverse. */
    environment: z.enum(['live', 'test']),
    /** The DynamoDB table of API keys and tenants. */
    tableName: z.optional(matching(/^[A-Za-z0-9_.-]{3,255}$/)),
    issuers: z._default(z.array(issuerSchema), []),
    apiKeys: z.optional(
      z.strictObject({
        prefix: matching(API_KEY_PREFIX_PATTERN, 'a prefix is 2-16 lowercase letters and digits'),
        cacheTtlSeconds: z._default(seconds(3600), 60),
        negativeCacheTtlSeconds: z._default(seconds(3600), 10),
        cacheMaxEntries: z._default(int(1, 1_000_000), 10_000),
      }),
    ),
    services: z._default(z.array(serviceSchema), []),
    /**
     * Callers that sign every request (relays, webhooks): HMAC-SHA256 over method, path, query, timestamp, nonce and
     * the body's SHA-256 (contract/signing.ts). Their secrets are read and rotated as services' are
     * (`serviceSecrets`); each nonce is recorded in the table, so a signed request passes once.
     */
    signers: z._default(z.array(signerSchema), []),
    signedRequests: z.prefault(
      z.strictObject({
        /** A signature's timestamp may be this far from the authorizer's clock, either way. */
        windowSeconds: z._default(int(10, 900), 300),
      }),
      {},
    ),
    /**
     * The CSRF check for cookie credentials on mutating requests: a double-submit token, the same random value
     * in the `header` and in the `cookie` (which the web app sets and its own script reads), and, when
     * `allowedOrigins` is not empty, an Origin header (when the browser sends one) that is in the list.
     */
    csrf: z.prefault(
      z.strictObject({
        cookie: z._default(cookieName, CSRF_COOKIE),
        header: z._default(headerName, CSRF_HEADER),
        /** Exact origins (`https://app.example.com`); empty: Origin is not checked. */
        allowedOrigins: z._default(z.array(matching(/^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?$/, 'an origin is scheme://host[:port], no path')), []),
      }),
      {},
    ),
    serviceSecrets: z._default(
      z.strictObject({
        cacheTtlSeconds: z._default(seconds(86_400), 300),
        /** After a mismatch, read the secret again at most once per this many seconds. */
        refetchCooldownSeconds: z._default(seconds(3600), 30),
        /** AWSPREVIOUS keeps working this long after the current version was created. */
        previousGraceSeconds: z._default(seconds(30 * 86_400), 86_400),
        /** If Secrets Manager is unreachable, keep using the last good values this long, then fail closed. */
        maxStaleSeconds: z._default(seconds(86_400), 3600),
      }),
      { cacheTtlSeconds: 300, refetchCooldownSeconds: 30, previousGraceSeconds: 86_400, maxStaleSeconds: 3600 },
    ),
    tenants: z._default(
      z.strictObject({
        /** Look every tenant up: unknown -> 403, suspended -> 403, and its usage-plan key is returned. */
        verify: z._default(z.boolean(), true),
        cacheTtlSeconds: z._default(seconds(3600), 60),
        /**
         * Refuse (403) a tenant with no usage-plan key: where the stack puts usage plans on the API, API Gateway
         * would refuse it anyway, with a bare 403 and no reason in the log. The stack turns this on.
         */
        requireUsageKey: z._default(z.boolean(), false),
      }),
      { verify: true, cacheTtlSeconds: 60, requireUsageKey: false },
    ),
    /**
     * Per-tenant rate limits by tier (the tenant record's `tier`): the exact limiter in the handlers, and API
     * Gateway usage plans as a backstop at `usagePlanHeadroom` times each tier's rate and burst.
     */
    rateLimits: z.prefault(
      z.strictObject({
        tiers: z.prefault(rateLimitTiersSchema, {}),
        usagePlanHeadroom: z._default(z.number().check(z.minimum(1), z.maximum(100)), 2),
      }),
      {},
    ),
    /**
     * Membership mode: a user's tenant is the one the request names in `header`, and the user must have a member
     * item in it; the member's role becomes the user's `roles` (roles never come from the token then). Routes that
     * accept users are keyed by Authorization and this header in API Gateway's result cache. API keys may send
     * the header only with their own tenant; services ignore it.
     */
    membership: z.optional(
      z.strictObject({
        header: z._default(headerName, TENANT_HEADER),
        cacheTtlSeconds: z._default(seconds(3600), 60),
        negativeCacheTtlSeconds: z._default(seconds(3600), 10),
        cacheMaxEntries: z._default(int(1, 1_000_000), 10_000),
      }),
    ),
    /** Owner mode: only this user (`sub`) may call, for single-owner deployments. */
    owner: z.optional(z.strictObject({ subject: text(1) })),
    routes: z.array(routeSchema).check(z.minLength(1)),
    /** An Authorization header longer than this is refused before any parsing. */
    maxAuthorizationBytes: z._default(int(256, 16_384), 8192),
  })
  .check(z.superRefine((c, ctx) => {
    const issue = (path: (string | number)[], message: string) => ctx.addIssue({ code: 'custom', path, message });
    const seen = new Set<string>();
    const ids = new Set<string>();
    c.issuers.forEach((iss, i) => {
      const spec = issuerIdentity(iss);
      if (seen.has(spec.issuer)) issue(['issuers', i], 'duplicate issuer: each iss may appear once');
      seen.add(spec.issuer);
      if (ids.has(spec.id)) issue(['issuers', i, 'id'], 'duplicate issuer id: set a distinct id');
      ids.add(spec.id);
      if (iss.type === 'supabase') {
        if (!iss.hs256SecretId && !iss.jwks) issue(['issuers', i], 'a supabase issuer needs hs256SecretId, jwks, or both');
        // Users can edit their own user_metadata: nothing that decides access may come from there.
        for (const field of ['tenantClaim', 'scopesClaim', 'rolesClaim'] as const) {
          if (iss[field]?.split('.')[0] === 'user_metadata') issue(['issuers', i, field], 'user_metadata is editable by the user; use app_metadata');
        }
      }
      if (iss.revokedSessions && iss.type === 'oidc' && !iss.claims.session) {
        issue(['issuers', i, 'revokedSessions'], 'needs claims.session: the claim that holds the session id');
      }
      if (iss.revokedSessions && !c.tableName) issue(['issuers', i, 'revokedSessions'], 'needs tableName: revoked sessions are items in the table');
      if (iss.type === 'oidc') {
        const hasHs = iss.algorithms.includes('HS256');
        const hasAsym = iss.algorithms.some((a) => ASYMMETRIC.has(a));
        if ('hs256SecretId' in iss.keys ? hasAsym : hasHs) {
          issue(['issuers', i, 'algorithms'], 'HS256 goes with hs256SecretId only, asymmetric algorithms with a JWKS only');
        }
        if ('jwks' in iss.keys) {
          iss.keys.jwks.keys.forEach((k, j) => {
            for (const m of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k']) {
              if (m in k) issue(['issuers', i, 'keys', 'jwks', 'keys', j, m], 'private or symmetric key material in a static JWKS');
            }
          });
        }
      }
    });
    const services = new Set<string>();
    c.services.forEach((s, i) => {
      if (services.has(s.name)) issue(['services', i, 'name'], 'duplicate service name');
      services.add(s.name);
    });
    const signers = new Set<string>();
    c.signers.forEach((s, i) => {
      if (signers.has(s.name)) issue(['signers', i, 'name'], 'duplicate signer name');
      signers.add(s.name);
    });
    if (c.signers.length && !c.tableName) issue(['signers'], 'needs tableName: nonces of signed requests are recorded in the table');
    const reserved = [AUTHORIZATION_HEADER, SERVICE_NAME_HEADER, CONTENT_SHA256_HEADER, ...(c.membership ? [c.membership.header] : [])].map((h) => h.toLowerCase());
    if (reserved.includes(c.csrf.header.toLowerCase())) issue(['csrf', 'header'], 'must differ from Authorization, X-Service-Name, X-Content-SHA256 and the tenant header');
    if (c.routes.some((r) => r.cookie === c.csrf.cookie)) issue(['csrf', 'cookie'], 'must differ from the cookie that carries the token');
    const routes = new Set<string>();
    c.routes.forEach((r, i) => {
      const key = `${r.method} ${r.path}`;
      if (routes.has(key)) issue(['routes', i], 'duplicate route: the same method and path appear earlier');
      routes.add(key);
      if (/\{[^}]+\+\}./.test(r.path)) issue(['routes', i, 'path'], 'a {proxy+} segment must be last');
      if (r.public) {
        if (r.accepts.length || r.scopes.length) issue(['routes', i], 'a public route takes no accepts or scopes');
        return;
      }
      if (!r.accepts.length) issue(['routes', i, 'accepts'], 'name the credential kinds this route accepts, or set public: true');
      // API Gateway answers 401 without calling the authorizer when any identity source is missing, so cached routes
      // that accept services (identity: Authorization + X-Service-Name) cannot also serve users or API keys. Routes
      // whose answers are not cached (cookie or signed) have no identity sources and may mix kinds.
      if (routeCached(r) && r.accepts.includes('service') && r.accepts.length > 1) {
        issue(['routes', i, 'accepts'], 'a route that accepts services accepts only services (its identity sources differ)');
      }
      if (r.services && !r.accepts.includes('service')) issue(['routes', i, 'services'], 'services is only for routes that accept services');
      r.services?.forEach((s, j) => {
        if (!services.has(s)) issue(['routes', i, 'services', j], 'unknown service: add it to services first');
      });
      if (r.signers && !r.accepts.includes('signed')) issue(['routes', i, 'signers'], 'signers is only for routes that accept signed');
      r.signers?.forEach((s, j) => {
        if (!signers.has(s)) issue(['routes', i, 'signers', j], 'unknown signer: add it to signers first');
      });
      if (r.cookie !== undefined && !r.accepts.includes('user')) issue(['routes', i, 'cookie'], 'a cookie carries a user token: the route must accept user');
      if (r.accepts.includes('signed') && !c.signers.length) issue(['routes', i, 'accepts'], 'accepts signed but no signers are configured');
      if (r.accepts.includes('user') && !c.issuers.length) issue(['routes', i, 'accepts'], 'accepts user but no issuers are configured');
      if (r.accepts.includes('apiKey') && !c.apiKeys) issue(['routes', i, 'accepts'], 'accepts apiKey but apiKeys is not configured');
      if (r.accepts.includes('service') && !c.services.length) issue(['routes', i, 'accepts'], 'accepts service but no services are configured');
    });
    if (c.membership) {
      const header = c.membership.header.toLowerCase();
      if (header === AUTHORIZATION_HEADER.toLowerCase() || header === SERVICE_NAME_HEADER.toLowerCase()) {
        issue(['membership', 'header'], 'must differ from Authorization and X-Service-Name');
      }
      if (!c.tableName) issue(['membership'], 'needs tableName: member items are in the table');
      if (!c.issuers.length) issue(['membership'], 'membership applies to users, but no issuers are configured');
    }
    if ((c.apiKeys || c.tenants.verify) && !c.tableName) {
      issue(['tableName'], 'required for API keys and tenant verification (or set tenants.verify: false and drop apiKeys)');
    }
  }));

export type AuthorizerConfigInput = z.input<typeof authorizerConfigSchema>;
export type AuthorizerConfig = z.output<typeof authorizerConfigSchema>;
export type IssuerConfig = AuthorizerConfig['issuers'][number];
export type RouteConfig = AuthorizerConfig['routes'][number];
export type ServiceConfig = AuthorizerConfig['services'][number];
export type SignerConfig = AuthorizerConfig['signers'][number];

/**
 * Validates a configuration document. Throws a {@link ConfigError} that names every bad field and says what
 * to do; never echoes values (a misplaced secret must not reach the logs).
 */
export function parseConfig(doc: unknown): AuthorizerConfig {
  const result = authorizerConfigSchema.safeParse(doc, ZOD_MESSAGES);
  if (result.success) return result.data;
  const lines = result.error.issues.map((i) => `  - ${formatPath(i.path)}: ${i.message}`);
  throw new ConfigError(`Invalid Gatehouse authorizer configuration:\n${lines.join('\n')}`);
}

function formatPath(path: PropertyKey[]): string {
  if (!path.length) return '(document)';
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i ? '.' : ''}${String(p)}`)).join('');
}

/** The exact `iss` and log id of an issuer, with the presets' defaults applied. */
export function issuerIdentity(iss: IssuerConfig): { id: string; issuer: string } {
  switch (iss.type) {
    case 'supabase':
      return { id: iss.id ?? 'supabase', issuer: `${trimSlash(iss.url)}/auth/v1` };
    case 'workos':
      return { id: iss.id ?? 'workos', issuer: iss.issuer ?? `https://api.workos.com/user_management/${iss.clientId}` };
    case 'oidc':
      return { id: iss.id ?? 'oidc', issuer: iss.issuer };
  }
}

export function trimSlash(url: string): string {
  return url.endsWith('/') ? url.slice(0, -1) : url;
}

export function isAsymmetric(alg: string): boolean {
  return ASYMMETRIC.has(alg as JwtAlgorithm);
}
