import * as z from 'zod/mini';
import { type AuthorizerConfig, type AuthorizerConfigInput, type RouteConfig, parseConfig } from './config';
import { type RevocationBounds, revocationBoundSeconds } from './revocation';
import { ConfigError } from './config-error';
import { alarmsSchema } from './alarm-config';
import { ZOD_MESSAGES } from './rate-limit-tiers';
import { type BackendConfig, type UserHandler, backendsSchema, routeBackends, targetProblems, userHandlersSchema } from './targets';
import { type CorsConfig, type CorsPolicy, corsPolicy, corsProblems, corsSchema } from './cors';
import { MAX_HTTP_API_INTEGRATIONS, httpApiIntegrationCount } from './openapi-http';

/** API Gateway's authorizer result TTL unless `deployment.authorizerResultTtlSeconds` says otherwise. */
export const DEFAULT_AUTHORIZER_RESULT_TTL_SECONDS = 300;

/** An integer of at least `min` (and at most `max`): classic zod's `z.number().int().min(min).max(max)`. */
const int = (min: number, max?: number) => z.number().check(z.int(), z.minimum(min), ...(max === undefined ? [] : [z.maximum(max)]));

/**
 * The stage's throttle unless `deployment.throttle` says otherwise: a tenth of API Gateway's default account quota
 * (10,000 requests per second, burst 5,000, shared by every API of the account in the Region), so that a flood of
 * this API leaves the account's other APIs most of theirs, and a burst of twice the rate.
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-request-throttling.html
 */
export const DEFAULT_STAGE_THROTTLE = { rateLimit: 1000, burstLimit: 2000 } as const;

/** Requests per 5 minutes from one IP address before the web ACL's rate-based rule blocks it (about 3 per second). */
export const DEFAULT_WAF_RATE_PER_5_MINUTES_PER_IP = 1000;

/** The AWS managed rule groups the web ACL uses unless `deployment.waf.managedRules` says otherwise. */
export const DEFAULT_WAF_MANAGED_RULES = ['AWSManagedRulesCommonRuleSet', 'AWSManagedRulesKnownBadInputsRuleSet'] as const;

/** API Gateway's stage throttle: a steady rate in requests per second and a bucket of `burstLimit` requests. */
const throttleSchema = z.strictObject({
  rateLimit: z.number().check(z.positive(), z.maximum(10_000_000)),
  burstLimit: int(1, 10_000_000),
});

/**
 * The optional web ACL: one per-IP rate-based rule (AWS WAF allows 10 to 2,000,000,000 requests per evaluation
 * window) and the AWS managed rule groups named in `managedRules` (names of AWS's own groups, vendor AWS).
 */
const wafSchema = z.strictObject({
  enabled: z._default(z.boolean(), false),
  ratePer5MinutesPerIp: z._default(int(10, 2_000_000_000), DEFAULT_WAF_RATE_PER_5_MINUTES_PER_IP),
  managedRules: z._default(
    z.array(z.string().check(z.regex(/^AWSManagedRules[A-Za-z0-9]+$/))).check(z.refine((names) => new Set(names).size === names.length, 'each rule group once')),
    [...DEFAULT_WAF_MANAGED_RULES],
  ),
});

/**
 * The stack's configuration: the authorizer's own document (issuers, API keys, services, tenants, owner mode,
 * route table) plus a `deployment` section for what only the stack uses. The stack fills in what it creates
 * itself: the table name and, for services and signers without a `secretId`, the secret it makes for each.
 * zod/mini like contract/config.ts, with classic zod's English messages (ZOD_MESSAGES, passed per parse).
 */
const deploymentSchema = z.strictObject({
  /**
   * Which API Gateway API the stack deploys: `rest` (API Gateway v1: usage plans, request validation, WAF on the
   * stage, gateway responses) or `http` (API Gateway v2, HTTP API: about 3.5 times cheaper per request, none of
   * those). README, Deploy: REST or HTTP API.
   */
  api: z._default(z.enum(['rest', 'http']), 'rest'),
  stageName: z._default(z.string().check(z.regex(/^[A-Za-z0-9_]{1,64}$/)), 'prod'),
  /** API Gateway's authorizer result cache (0 turns it off; at most 3600). */
  authorizerResultTtlSeconds: z._default(int(0, 3600), DEFAULT_AUTHORIZER_RESULT_TTL_SECONDS),
  /** X-Ray tracing on the stage and every function. */
  tracing: z._default(z.boolean(), false),
  logRetentionDays: z._default(
    z.union([z.literal(1), z.literal(3), z.literal(5), z.literal(7), z.literal(14), z.literal(30), z.literal(60), z.literal(90), z.literal(180), z.literal(365)]),
    30,
  ),
  /** Refuse to delete the table (and keep it if the stack is deleted). */
  deletionProtection: z._default(z.boolean(), true),
  /**
   * Create the account's API Gateway CloudWatch Logs role. One setting per account and Region, so off by default:
   * turned on, the stack replaces the role the account had and keeps its own when deleted (README, Deploy).
   */
  cloudWatchRole: z._default(z.boolean(), false),
  /**
   * Memory of the authorizer function: more memory is more CPU (one vCPU at 1,769 MB), and signature checks and the
   * cold start are CPU-bound. 1024 from the cost section of `npm run bench` (bench/README.md): each halving below it
   * saves about a tenth of an invocation's price (under 0.1% of REST's price per request at the bench mix's cache
   * hit ratio) and doubles the cold start (0.13-0.2 s at 1024 MB, twice that at 512, scaled from one core); 1,769 MB
   * costs about 15% more per invocation for 55-85 ms less.
   */
  authorizerMemoryMb: z._default(int(128, 10_240), 1024),
  /** Alarm thresholds and where alarms notify (contract/alarm-config.ts). */
  alarms: alarmsSchema,
  /** The stage's throttle, before any authorizer runs (README, Security: limits before the authorizer). */
  throttle: z._default(throttleSchema, DEFAULT_STAGE_THROTTLE),
  /** An AWS WAF web ACL on the stage: off unless `enabled` (it costs a monthly fee and per request). */
  waf: z._default(wafSchema, { enabled: false, ratePer5MinutesPerIp: DEFAULT_WAF_RATE_PER_5_MINUTES_PER_IP, managedRules: [...DEFAULT_WAF_MANAGED_RULES] }),
  /**
   * Reserved concurrency of the authorizer function: at most this many run at once, taken from the account's
   * pool. Absent: no cap (a new account may have too little concurrency to reserve any; README, Deploy).
   */
  authorizerReservedConcurrency: z.optional(int(1, 10_000)),
});

export type DeploymentConfig = z.output<typeof deploymentSchema>;
/** The kind of API Gateway API a deployment uses (`deployment.api`). */
export type ApiKind = DeploymentConfig['api'];

export interface StackConfig {
  /** The authorizer document as validated, with placeholders where the stack fills values in. */
  readonly authorizer: AuthorizerConfig;
  readonly deployment: DeploymentConfig;
  /** The team's own handlers by name (`handlers`): source files or existing functions (contract/targets.ts). */
  readonly handlers: Readonly<Record<string, UserHandler>>;
  /** HTTP backends by name (`backends`). */
  readonly backends: Readonly<Record<string, BackendConfig>>;
  /** Browsers on other origins (`cors`); absent: no CORS (contract/cors.ts). */
  readonly cors?: CorsConfig;
  /** The folder handler entries are relative to: the configuration file's. */
  readonly baseDir: string;
  /** The authorizer document as written (the stack renders it with real names into the function). */
  readonly source: AuthorizerConfigInput;
  /** Services whose secret the stack creates (no `secretId` in the document). */
  readonly createdServiceSecrets: readonly string[];
  /** Signers whose secret the stack creates (no `secretId` in the document). */
  readonly createdSignerSecrets: readonly string[];
}

/** Secret ids the stack fills in for what it creates (CDK tokens are fine), by service and by signer name. */
export interface CreatedSecretIds {
  readonly services: Readonly<Record<string, string>>;
  readonly signers: Readonly<Record<string, string>>;
}

const PLACEHOLDER_TABLE = 'gatehouse-table-placeholder';

/** The sections of the stack configuration that only the stack reads (never part of the authorizer's document). */
export const STACK_SECTIONS = ['deployment', 'handlers', 'backends', 'cors'] as const;

/** One stack-level section, validated, or a ConfigError naming each bad field under `name`. */
function section<T>(schema: z.ZodMiniType<T>, value: unknown, name: string, origin: string): T {
  const parsed = schema.safeParse(value, ZOD_MESSAGES);
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.map((i) => `  - ${[name, ...i.path.map(String)].join('.')}: ${i.message}`);
  throw new ConfigError(`${origin}: invalid ${name} section:\n${lines.join('\n')}`);
}

/** The stack-level sections local mode serves as well as the stack: route targets and CORS. */
export interface ServingSections {
  readonly handlers: Readonly<Record<string, UserHandler>>;
  readonly backends: Readonly<Record<string, BackendConfig>>;
  readonly cors?: CorsConfig;
}

/**
 * The `handlers`, `backends` and `cors` sections of a stack configuration, each validated on its own (the route
 * table's references to them are checked by parseStackConfig). A ConfigError names each bad field.
 */
export function parseServingSections(raw: Readonly<Record<string, unknown>>, origin = 'configuration'): ServingSections {
  const handlers = section(userHandlersSchema, raw.handlers, 'handlers', origin);
  const backends = section(backendsSchema, raw.backends, 'backends', origin);
  const cors = raw.cors === undefined ? undefined : section(corsSchema, raw.cors, 'cors', origin);
  const corsIssues = cors ? corsProblems(cors) : [];
  if (corsIssues.length) throw new ConfigError(`${origin}: invalid cors section:\n${corsIssues.map((p) => `  - ${p}`).join('\n')}`);
  return { handlers, backends, ...(cors ? { cors } : {}) };
}

/**
 * Validates the whole document. Throws a ConfigError that names the bad field (`routes[2].accepts: ...`), so a
 * wrong configuration fails `cdk synth` before anything is built. `baseDir` is the folder handler entries are
 * relative to (the configuration file's).
 */
export function parseStackConfig(raw: unknown, origin = 'configuration', baseDir = '.'): StackConfig {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError(`${origin}: expected a JSON object`);
  const { deployment: rawDeployment, handlers: _handlers, backends: _backends, cors: _cors, ...source } = raw as Record<string, unknown>;
  const deployment = section(deploymentSchema, rawDeployment ?? {}, 'deployment', origin);
  const { handlers, backends, cors } = parseServingSections(raw as Record<string, unknown>, origin);
  if ('tableName' in source) throw new ConfigError(`${origin}: tableName: the stack creates the table; remove this field`);
  const services = entries(source.services);
  const signers = entries(source.signers);
  const withPlaceholders = {
    ...source,
    tableName: PLACEHOLDER_TABLE,
    services: services.map((s) => (created(s) ? { ...s, secretId: `placeholder/${String(s.name)}` } : s)),
    ...(source.signers !== undefined ? { signers: signers.map((s) => (created(s) ? { ...s, secretId: `placeholder/signers/${String(s.name)}` } : s)) } : {}),
  };
  let authorizer: AuthorizerConfig;
  try {
    authorizer = parseConfig(withPlaceholders);
  } catch (err) {
    throw new ConfigError(`${origin}: ${(err as Error).message}`);
  }
  const problems = [...targetProblems(authorizer.routes, handlers, backends), ...preflightProblems(authorizer.routes, cors)];
  if (problems.length) throw new ConfigError(`${origin}: routes:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  const httpIssues = deployment.api === 'http' ? httpApiProblems(deployment, authorizer, cors) : [];
  if (httpIssues.length) throw new ConfigError(`${origin}: deployment.api is "http":\n${httpIssues.map((p) => `  - ${p}`).join('\n')}`);
  return {
    authorizer,
    deployment,
    handlers,
    backends,
    ...(cors ? { cors } : {}),
    baseDir,
    source: source as AuthorizerConfigInput,
    createdServiceSecrets: services.filter(created).map((s) => String(s.name)),
    createdSignerSecrets: signers.filter(created).map((s) => String(s.name)),
  };
}

/** With CORS on, the gateway answers every OPTIONS itself (without the authorizer): the route table may not claim one. */
function preflightProblems(routes: readonly RouteConfig[], cors: CorsConfig | undefined): string[] {
  if (!cors) return [];
  return routes.flatMap((r, i) =>
    r.method === 'OPTIONS' ? [`routes[${i}] (OPTIONS ${r.path}): with cors configured the gateway answers preflights (OPTIONS) itself; remove this route`] : [],
  );
}

/**
 * What an HTTP API (API Gateway v2) cannot do that the configuration asks for, each naming its field. HTTP APIs have
 * no AWS WAF, no usage plans or API keys, and no execution logs (so no use for the account's CloudWatch role):
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-vs-rest.html. With CORS, an `ANY` route
 * would also take the browsers' preflights (OPTIONS) to its integration and its authorizer, which refuses them (a
 * preflight carries no credential), rather than letting the gateway answer them as it does for routes that list
 * their methods (http-api-cors.html, on the same rule for the `$default` route). An HTTP API has at most 300
 * integrations, a quota that cannot be raised (contract/openapi-http.ts).
 */
function httpApiProblems(deployment: DeploymentConfig, authorizer: AuthorizerConfig, cors: CorsConfig | undefined): string[] {
  const problems: string[] = [];
  if (deployment.waf.enabled) {
    problems.push('deployment.waf.enabled: AWS WAF cannot be associated with an HTTP API stage (REST APIs only); use "api": "rest", or put CloudFront with a web ACL in front');
  }
  if (authorizer.tenants.requireUsageKey) problems.push('tenants.requireUsageKey: HTTP APIs have no usage plans or usage-plan keys; remove it (the handlers\' limiter limits each tenant)');
  if (deployment.cloudWatchRole) problems.push('deployment.cloudWatchRole: the account role is for REST APIs\' execution logs, which HTTP APIs do not have; remove it');
  const integrations = httpApiIntegrationCount(authorizer.routes);
  if (integrations > MAX_HTTP_API_INTEGRATIONS) {
    problems.push(
      `routes: ${integrations} integrations (one per handler, one per backend route), but an HTTP API allows ${MAX_HTTP_API_INTEGRATIONS} and the quota cannot be raised; use "api": "rest"`,
    );
  }
  if (cors) {
    authorizer.routes.forEach((r, i) => {
      if (r.method === 'ANY') problems.push(`routes[${i}] (ANY ${r.path}): with cors on an HTTP API an ANY route would take the browsers' preflights; list its methods`);
    });
  }
  return problems;
}

/** The entries of a list in the raw document (services, signers); anything else is left to the schema to refuse. */
const entries = (list: unknown): Record<string, unknown>[] => (Array.isArray(list) ? (list as Record<string, unknown>[]) : []);
/** Whether the stack creates this entry's secret: it names none. */
const created = (entry: Record<string, unknown>): boolean => entry !== null && typeof entry === 'object' && entry.secretId === undefined;

/** The document the deployed authorizer reads, with the stack's real table name and secret ids (CDK tokens). */
export function renderAuthorizerConfig(config: StackConfig, tableName: string, secretIds: CreatedSecretIds): AuthorizerConfigInput {
  return {
    ...config.source,
    ...csrfWithCorsOrigins(config.source, config.cors),
    // Routes to HTTP backends: every Allow carries the context X-Gatehouse-Context is mapped from.
    ...(hasBackendRoutes(config.authorizer.routes) ? { backendContext: true } : {}),
    // The stack puts usage plans on a REST API: a tenant without a usage-plan key is refused with a reason. An HTTP
    // API has none (the handlers' exact limiter is then the only per-tenant limit), so no key is required there.
    ...(config.authorizer.tenants.verify && config.deployment.api === 'rest' ? { tenants: { ...config.source.tenants, requireUsageKey: true } } : {}),
    tableName,
    services: (config.source.services ?? []).map((s) => ({ ...s, secretId: s.secretId ?? secretIds.services[s.name]! })),
    ...(config.source.signers !== undefined ? { signers: config.source.signers.map((s) => ({ ...s, secretId: s.secretId ?? secretIds.signers[s.name]! })) } : {}),
  };
}

/** Whether any route goes to an HTTP backend (the authorizer then encodes the caller for it: `backendContext`). */
export const hasBackendRoutes = (routes: readonly { readonly backend?: string | undefined }[]): boolean => routeBackends(routes).length > 0;

/**
 * The CSRF check's allowed origins: as configured, else (with credentialed CORS for exact origins) the CORS origins,
 * so that a cookie request's Origin is checked against the same list the browser was allowed to read from.
 */
export function csrfWithCorsOrigins(source: AuthorizerConfigInput, cors: CorsConfig | undefined): Pick<AuthorizerConfigInput, 'csrf'> {
  if (!cors?.allowCredentials || cors.allowOrigins.includes('*') || source.csrf?.allowedOrigins !== undefined) return {};
  return { csrf: { ...source.csrf, allowedOrigins: [...cors.allowOrigins] } };
}

/**
 * The deployment's CORS policy (the stack and local mode alike): the `cors` section, with the request headers this
 * deployment reads allowed too: the CSRF check's header (cookie routes' mutating requests) and, in membership mode,
 * the tenant header. Undefined without a `cors` section.
 */
export function deploymentCorsPolicy(cors: CorsConfig | undefined, authorizer: Pick<AuthorizerConfig, 'csrf' | 'membership'>): CorsPolicy | undefined {
  if (!cors) return undefined;
  return corsPolicy(cors, [authorizer.csrf.header, ...(authorizer.membership ? [authorizer.membership.header] : [])]);
}

/**
 * Whether a route counts against usage plans (`apiKeyRequired`): only where every caller has a tenant, and so a
 * usage-plan key from the tenant record. Services and signers have no tenant (a route that accepts either is
 * never keyed); a user of an issuer with `tenantRequired: false` may have none; without `tenants.verify` no
 * record (and no key) is read.
 */
export function usagePlanKeyed(config: AuthorizerConfig, route: RouteConfig): boolean {
  if (route.public || !route.accepts.length || !config.tenants.verify) return false;
  if (route.accepts.includes('service') || route.accepts.includes('signed')) return false;
  return !route.accepts.includes('user') || config.issuers.every((i) => i.tenantRequired);
}

/**
 * How long each kind of revocation (API key, tenant suspension, member removal, session) can take to take effect
 * on the deployed stack: the authorizer's cache TTL for the record plus the stage's authorizer result TTL, or the
 * former alone with a well-timed stage authorizer-cache flush (see contract/revocation.ts).
 */
export function stackRevocationBounds(config: StackConfig): RevocationBounds {
  return revocationBoundSeconds(config.authorizer, config.deployment.authorizerResultTtlSeconds);
}

/** The name of a tier's usage plan; the command-line tool finds a tier's plan by it (and by the API's stage). */
export const usagePlanName = (prefix: string, tier: string) => `${prefix}-tier-${tier}`;

/** A tier's usage plan: API Gateway's backstop at `headroom` times the tier's rate, burst and monthly quota. */
export function usagePlanLimits(
  tier: { readonly requestsPerMinute: number; readonly burst: number; readonly monthlyQuota?: number },
  headroom: number,
): { throttle: { rateLimit: number; burstLimit: number }; quota?: { limit: number; period: 'MONTH' } } {
  return {
    // API Gateway throttles in requests per second (a double); two decimals, rounded up.
    throttle: { rateLimit: Math.ceil((tier.requestsPerMinute / 60) * headroom * 100) / 100, burstLimit: Math.ceil(tier.burst * headroom) },
    ...(tier.monthlyQuota ? { quota: { limit: Math.ceil(tier.monthlyQuota * headroom), period: 'MONTH' as const } } : {}),
  };
}

/**
 * The stack configuration as written (the JSON file's shape, typed for a configuration in code): the authorizer's
 * document with the stack-level sections beside it. `parseStackConfig` turns it into a StackConfig.
 */
export type StackConfigInput = AuthorizerConfigInput & {
  readonly deployment?: z.input<typeof deploymentSchema>;
  readonly handlers?: z.input<typeof userHandlersSchema>;
  readonly backends?: z.input<typeof backendsSchema>;
  readonly cors?: z.input<typeof corsSchema>;
};
