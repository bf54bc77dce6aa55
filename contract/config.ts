import * as z from 'zod/mini';
import { routeCached } from './route-authorizer';
import { ZOD_MESSAGES, rateLimitTiersSchema } from './rate-limit-tiers';
import { AUTHORIZATION_HEADER, CONTENT_SHA256_HEADER, CSRF_COOKIE, CSRF_HEADER, SERVICE_NAME_HEADER, TENANT_HEADER } from './headers';
import { ConfigError } from './config-error';
import { API_KEY_PREFIX_PATTERN, CALLER_NAME_PATTERN, HANDLER_NAME_PATTERN } from './patterns';
import { cookieName, headerName, int, matching, scope, seconds, secretId, text } from './config-fields';
import { checkIssuer, issuerIdentity, issuerSchema } from './config-issuers';
import { API_KEYS_PER_TENANT } from './table';

// The issuers' part of the document, re-exported: the configuration's users import it from here.
export { type IssuerConfig, type JwtAlgorithm, JWT_ALGORITHMS, isAsymmetric, issuerIdentity, trimSlash } from './config-issuers';

/**
 * The authorizer's whole configuration: one typed document, validated once at cold start. The stack renders it
 * into the deployed function's environment; tests and tools build the same document. Unknown keys are errors
 * (a typo must not silently drop a check), and every error names the field.
 *
 * Written with zod/mini (contract/config-fields.ts says why); issuers are in contract/config-issuers.ts.
 */

/** `signed`: a caller that signs each request with HMAC-SHA256 (contract/signing.ts). */
export const CREDENTIAL_KINDS = ['user', 'apiKey', 'service', 'signed'] as const;
export type CredentialKind = (typeof CREDENTIAL_KINDS)[number];




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
  /**
   * The stack's handler for this route: a built-in one or one of the stack configuration's `handlers`
   * (contract/targets.ts). The authorizer ignores it.
   */
  handler: z.optional(matching(HANDLER_NAME_PATTERN)),
  /** Or the HTTP backend (the stack configuration's `backends`) API Gateway proxies this route to. The authorizer ignores it. */
  backend: z.optional(matching(HANDLER_NAME_PATTERN)),
});

const documentSchema = z.strictObject({
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
      /**
       * Live keys (active, not expired) a tenant may hold; creating one more is refused (409 KEY_LIMIT_REACHED),
       * from the self-service handler and the command-line tool alike. At most 1,000: the tenant's key slots
       * are one item, rewritten (one write unit per KB) on every create.
       */
      maxPerTenant: z._default(int(1, API_KEYS_PER_TENANT.max), API_KEYS_PER_TENANT.default),
      /**
       * DynamoDB lookups a second, per container, for keys it has never found (forged keys with a valid checksum
       * cost one each); past it such keys are refused (401 APIKEY_LOOKUP_BUDGET_EXCEEDED). Keys found before never
       * count against it. 0: no budget.
       */
      unknownKeyLookupsPerSecond: z._default(int(0, 100_000), 100),
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
      /**
       * After a failed or timed-out read of a secret, read it again no sooner than this: meanwhile decisions use the
       * last good copy (within maxStaleSeconds) or fail closed at once, rather than each waiting for the timeouts.
       */
      failureCooldownSeconds: z._default(int(1, 300), 10),
      /**
       * While re-reads after a mismatch are cooling down (refetchCooldownSeconds), check the secret's versions
       * (one ListSecretVersionIds) at most this often and read it when they changed: a new version is picked up
       * within this long of a rotation step, however many wrong secrets arrive meanwhile.
       */
      versionCheckSeconds: z._default(int(1, 3600), 5),
    }),
    { cacheTtlSeconds: 300, refetchCooldownSeconds: 30, previousGraceSeconds: 86_400, maxStaleSeconds: 3600, failureCooldownSeconds: 10, versionCheckSeconds: 5 },
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
  /**
   * The table's records (API keys, tenants, members) when DynamoDB fails: each cached answer keeps standing this
   * long past its cache TTL, as DynamoDB last gave it (a revoked key or a miss stays refused), then requests fail
   * closed (500). It extends the revocation bound by as much, during an outage only (contract/revocation.ts); 0:
   * never. After a failed read, no decision reads the table again for `failureCooldownSeconds`: each answers from
   * the cache or fails at once. The session deny list is never served stale (a miss would let a revoked session in).
   */
  records: z._default(
    z.strictObject({
      staleIfErrorSeconds: z._default(seconds(86_400), 300),
      failureCooldownSeconds: z._default(int(1, 300), 5),
    }),
    { staleIfErrorSeconds: 300, failureCooldownSeconds: 5 },
  ),
  /** Owner mode: only this user (`sub`) may call, for single-owner deployments. */
  owner: z.optional(z.strictObject({ subject: text(1) })),
  routes: z.array(routeSchema).check(z.minLength(1)),
  /**
   * Put the caller's context, encoded for HTTP backends, in every Allow (`gatehouseContext`, which API Gateway maps
   * to X-Gatehouse-Context: contract/backend-headers.ts). The stack and local mode turn it on when a route has a
   * backend; off, no decision pays for the encoding (about 2-3 µs).
   */
  backendContext: z._default(z.boolean(), false),
  /** An Authorization header longer than this is refused before any parsing. */
  maxAuthorizationBytes: z._default(int(256, 16_384), 8192),
});

type Document = z.output<typeof documentSchema>;
/** Records one problem at `path` (the message names the fix, never a value). */
type Report = (path: (string | number)[], message: string) => void;

/**
 * The configuration document with its cross-field rules. Every rule reports all its problems (never only the
 * first), in document order, so one `cdk synth` names every bad field.
 */
export const authorizerConfigSchema = documentSchema.check(
  z.superRefine((c, ctx) => {
    const issue: Report = (path, message) => ctx.addIssue({ code: 'custom', path, message });
    checkIssuers(c, issue);
    const services = uniqueNames(c.services, 'services', 'duplicate service name', issue);
    const signers = uniqueNames(c.signers, 'signers', 'duplicate signer name', issue);
    if (c.signers.length && !c.tableName) issue(['signers'], 'needs tableName: nonces of signed requests are recorded in the table');
    checkCsrf(c, issue);
    checkRoutes(c, services, signers, issue);
    checkMembership(c, issue);
    if ((c.apiKeys || c.tenants.verify) && !c.tableName) {
      issue(['tableName'], 'required for API keys and tenant verification (or set tenants.verify: false and drop apiKeys)');
    }
  }),
);

function checkIssuers(c: Document, issue: Report): void {
  const seen = new Set<string>();
  const ids = new Set<string>();
  c.issuers.forEach((iss, i) => {
    const spec = issuerIdentity(iss);
    for (const name of spec.issuers) {
      if (seen.has(name)) issue(['issuers', i], 'duplicate issuer: each iss may appear once');
      seen.add(name);
    }
    if (ids.has(spec.id)) issue(['issuers', i, 'id'], 'duplicate issuer id: set a distinct id');
    ids.add(spec.id);
    checkIssuer(iss, (path, message) => issue(['issuers', i, ...path], message));
    if (iss.revokedSessions && !c.tableName) issue(['issuers', i, 'revokedSessions'], 'needs tableName: revoked sessions are items in the table');
  });
}

/** The names of `list` as a set, each duplicate reported at `<field>[i].name`. */
function uniqueNames(list: readonly { name: string }[], field: string, message: string, issue: Report): Set<string> {
  const names = new Set<string>();
  list.forEach((s, i) => {
    if (names.has(s.name)) issue([field, i, 'name'], message);
    names.add(s.name);
  });
  return names;
}

function checkCsrf(c: Document, issue: Report): void {
  const reserved = [AUTHORIZATION_HEADER, SERVICE_NAME_HEADER, CONTENT_SHA256_HEADER, ...(c.membership ? [c.membership.header] : [])].map((h) => h.toLowerCase());
  if (reserved.includes(c.csrf.header.toLowerCase())) issue(['csrf', 'header'], 'must differ from Authorization, X-Service-Name, X-Content-SHA256 and the tenant header');
  if (c.routes.some((r) => r.cookie === c.csrf.cookie)) issue(['csrf', 'cookie'], 'must differ from the cookie that carries the token');
}

function checkRoutes(c: Document, services: ReadonlySet<string>, signers: ReadonlySet<string>, issue: Report): void {
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
    checkGuardedRoute(c, r, services, signers, (path, message) => issue(['routes', i, ...path], message));
  });
}

function checkGuardedRoute(c: Document, r: Document['routes'][number], services: ReadonlySet<string>, signers: ReadonlySet<string>, issue: Report): void {
  if (!r.accepts.length) issue(['accepts'], 'name the credential kinds this route accepts, or set public: true');
  // API Gateway answers 401 without calling the authorizer when any identity source is missing, so cached routes
  // that accept services (identity: Authorization + X-Service-Name) cannot also serve users or API keys. Routes
  // whose answers are not cached (cookie or signed) have no identity sources and may mix kinds.
  if (routeCached(r) && r.accepts.includes('service') && r.accepts.length > 1) {
    issue(['accepts'], 'a route that accepts services accepts only services (its identity sources differ)');
  }
  if (r.services && !r.accepts.includes('service')) issue(['services'], 'services is only for routes that accept services');
  r.services?.forEach((s, j) => {
    if (!services.has(s)) issue(['services', j], 'unknown service: add it to services first');
  });
  if (r.signers && !r.accepts.includes('signed')) issue(['signers'], 'signers is only for routes that accept signed');
  r.signers?.forEach((s, j) => {
    if (!signers.has(s)) issue(['signers', j], 'unknown signer: add it to signers first');
  });
  if (r.cookie !== undefined && !r.accepts.includes('user')) issue(['cookie'], 'a cookie carries a user token: the route must accept user');
  if (r.accepts.includes('signed') && !c.signers.length) issue(['accepts'], 'accepts signed but no signers are configured');
  if (r.accepts.includes('user') && !c.issuers.length) issue(['accepts'], 'accepts user but no issuers are configured');
  if (r.accepts.includes('apiKey') && !c.apiKeys) issue(['accepts'], 'accepts apiKey but apiKeys is not configured');
  if (r.accepts.includes('service') && !c.services.length) issue(['accepts'], 'accepts service but no services are configured');
}

function checkMembership(c: Document, issue: Report): void {
  if (!c.membership) return;
  const header = c.membership.header.toLowerCase();
  if (header === AUTHORIZATION_HEADER.toLowerCase() || header === SERVICE_NAME_HEADER.toLowerCase()) {
    issue(['membership', 'header'], 'must differ from Authorization and X-Service-Name');
  }
  if (!c.tableName) issue(['membership'], 'needs tableName: member items are in the table');
  if (!c.issuers.length) issue(['membership'], 'membership applies to users, but no issuers are configured');
}

export type AuthorizerConfigInput = z.input<typeof authorizerConfigSchema>;
export type AuthorizerConfig = z.output<typeof authorizerConfigSchema>;
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
