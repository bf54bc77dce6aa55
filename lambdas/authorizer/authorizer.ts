import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { hashApiKey, parseApiKey } from '../../contract/api-key';
import { dynamodbClient, secretsManagerClient } from './aws';
import { createHash, timingSafeEqual } from 'node:crypto';
import { type Credential, classify, readCookie, singleHeader } from './classify';
import { type RouteConfig, parseConfig } from '../../contract/config';
import { AuthError, type ReasonCode } from './errors';
import { resolveIssuer } from './issuers';
import { type JwksGetterFactory, JwtVerifier, type UserPrincipal, remoteJwks } from './jwt';
import { JsonFragment, type LogFields, type Logger, jsonLogger } from '../../contract/log';
import { emfFields } from '../shared/metrics';
import { routeAuthorizer } from '../../contract/route-authorizer';
import { type PolicyDocument, arnPrefix, compileRoutes } from './policy';
import { PolicyMemo } from './policy-memo';
import { SecretStore } from './secrets';
import { ServicePrincipal, ServiceSecretVerifier } from './service-secrets';
import { NonceStore, type SignedPrincipal, SignedRequestVerifier } from './signed-requests';
import { ApiKeyStore, MemberStore, RecordInvalidError, RevokedSessionStore, TenantStore } from './store';
import type { TenantRecord } from '../../contract/table';
import { TENANT_ID_PATTERN } from '../../contract/patterns';
import { summarizeError } from '../../contract/aws-error';

/** Collaborators the factory builds by default; tests and tools pass their own. */
export interface AuthorizerDeps {
  /** DynamoDB client (default: built on first use from the standard SDK environment, 2 attempts, 1 s timeout). */
  readonly dynamodb?: DynamoDBClient;
  /** Secrets Manager client (default: as for DynamoDB). */
  readonly secretsManager?: SecretsManagerClient;
  /** JWKS key getter per issuer (default: `remoteJwks`: cached, the issuer's timeout, cooldown and max age, stale-if-error). */
  readonly jwks?: JwksGetterFactory;
  /** Milliseconds since the epoch (default: Date.now). */
  readonly now?: () => number;
  readonly logger?: Logger;
}

export interface ApiKeyPrincipal {
  readonly kind: 'apiKey';
  readonly keyId: string;
  readonly tenantId: string;
  readonly scopes: readonly string[];
}

export type Principal = UserPrincipal | ApiKeyPrincipal | ServicePrincipal | SignedPrincipal;

export type AuthorizerHandler = (event: APIGatewayRequestAuthorizerEvent) => Promise<APIGatewayAuthorizerResult>;

/** What API Gateway turns into a 401. Any other thrown error becomes a 500. */
export const UNAUTHORIZED = 'Unauthorized';

/**
 * Builds the API Gateway REST REQUEST authorizer from one configuration document. Validates the document first
 * (throws a ConfigError naming the bad field), builds expensive things once, and returns the handler.
 */
export function createAuthorizer(configDocument: unknown, deps: AuthorizerDeps = {}): AuthorizerHandler {
  const config = parseConfig(configDocument);
  const now = deps.now ?? Date.now;
  const logger = deps.logger ?? jsonLogger('gatehouse-authorizer');
  // Clients (and the SDK packages) are loaded on first use: a request that needs no AWS API (a JWT checked against a
  // JWKS) loads none. See ./aws.ts for the client options.
  const dynamodb = dynamodbClient(deps.dynamodb);
  const secretsManager = secretsManagerClient(deps.secretsManager);
  const secrets = new SecretStore(secretsManager, now);

  const issuerSpecs = config.issuers.map(resolveIssuer);
  const jwt = issuerSpecs.length
    ? new JwtVerifier(issuerSpecs, {
        jwks: deps.jwks ?? remoteJwks,
        secrets,
        now,
        maxStaleSeconds: config.serviceSecrets.maxStaleSeconds,
      })
    : undefined;
  const apiKeys =
    config.apiKeys && config.tableName
      ? new ApiKeyStore(dynamodb, config.tableName, {
          maxEntries: config.apiKeys.cacheMaxEntries,
          ttlSeconds: config.apiKeys.cacheTtlSeconds,
          negativeTtlSeconds: config.apiKeys.negativeCacheTtlSeconds,
        }, now)
      : undefined;
  const tenants =
    config.tenants.verify && config.tableName
      ? new TenantStore(dynamodb, config.tableName, {
          maxEntries: 10_000,
          ttlSeconds: config.tenants.cacheTtlSeconds,
          negativeTtlSeconds: Math.min(config.tenants.cacheTtlSeconds, 10),
        }, now)
      : undefined;
  const members =
    config.membership && config.tableName
      ? new MemberStore(dynamodb, config.tableName, {
          maxEntries: config.membership.cacheMaxEntries,
          ttlSeconds: config.membership.cacheTtlSeconds,
          negativeTtlSeconds: config.membership.negativeCacheTtlSeconds,
        }, now)
      : undefined;
  // One deny list per issuer that asks for it, each with the issuer's own cache TTL (hits and misses alike).
  const revokedSessions = new Map<string, RevokedSessionStore>();
  for (const spec of issuerSpecs) {
    if (!spec.revokedSessions || !config.tableName) continue;
    const ttlSeconds = spec.sessionCacheTtlSeconds;
    revokedSessions.set(spec.id, new RevokedSessionStore(dynamodb, config.tableName, spec.id, { maxEntries: 10_000, ttlSeconds, negativeTtlSeconds: ttlSeconds }, now));
  }
  const services = new ServiceSecretVerifier(config.services, config.serviceSecrets, secrets, now);
  const signed = new SignedRequestVerifier(
    config.signers,
    { windowSeconds: config.signedRequests.windowSeconds, secrets: config.serviceSecrets },
    secrets,
    config.tableName ? new NonceStore(dynamodb, config.tableName) : undefined,
    now,
  );
  const routes = compileRoutes(config.routes);
  const policies = new PolicyMemo(routes);
  const servicesAccepted = routes.some((r) => r.accepts.has('service'));
  const signedAccepted = routes.some((r) => r.accepts.has('signed'));
  const cookieRoutes = config.routes.some((r) => r.cookie !== undefined);

  async function authenticate(credential: Credential, event: APIGatewayRequestAuthorizerEvent): Promise<Principal> {
    switch (credential.kind) {
      case 'jwt':
        if (!jwt) throw new AuthError('CREDENTIAL_UNRECOGNIZED');
        return jwt.verify(credential.token);
      case 'apiKey':
        return verifyApiKey(credential.key);
      case 'service':
        return services.verify(credential.service, credential.secret);
      case 'signed':
        return signed.verify(credential.header, event);
    }
  }

  /** The configured route of a request (exact method first, then ANY), or undefined for one not in the table. */
  // Built once: routeOf runs per request (cookie routes, membership mode). Routes are unique by method and path.
  const routesByKey = new Map(config.routes.map((r) => [`${r.method} ${r.path}`, r]));
  function routeOf(event: APIGatewayRequestAuthorizerEvent): RouteConfig | undefined {
    return routesByKey.get(`${event.httpMethod} ${event.resource}`) ?? routesByKey.get(`ANY ${event.resource}`);
  }

  /**
   * The CSRF check of a cookie credential on a mutating request: a browser attaches cookies to requests that other
   * sites make it send, so the cookie alone proves nothing about who wrote the request. Proof is the double-submit
   * token: the same value in the CSRF header and the CSRF cookie, which only the app's own pages can read and copy
   * (cookies of this site are not readable by others' scripts). When origins are configured, an Origin header
   * the browser sent must be one of them too. Safe methods (GET, HEAD, OPTIONS) change nothing and need no proof.
   */
  function checkCsrf(event: APIGatewayRequestAuthorizerEvent): void {
    if (SAFE_METHODS.has(event.httpMethod)) return;
    const { csrf } = config;
    if (csrf.allowedOrigins.length) {
      const origin = singleHeader(event, 'origin');
      if (origin !== undefined && !csrf.allowedOrigins.includes(origin)) throw new AuthError('CSRF_ORIGIN_NOT_ALLOWED');
    }
    const header = singleHeader(event, csrf.header);
    const cookie = readCookie(event, csrf.cookie);
    if (!header || !cookie) throw new AuthError('CSRF_TOKEN_MISSING', { header: !!header, cookie: !!cookie });
    // A token too short to be random proves nothing; comparing digests keeps the comparison constant-time.
    const same = header.length >= MIN_CSRF_TOKEN_LENGTH && timingSafeEqual(sha256(header), sha256(cookie));
    if (!same) throw new AuthError('CSRF_TOKEN_MISMATCH');
  }

  async function verifyApiKey(key: string): Promise<ApiKeyPrincipal> {
    if (!config.apiKeys || !apiKeys) throw new AuthError('CREDENTIAL_UNRECOGNIZED');
    const parsed = parseApiKey(key, config.apiKeys.prefix);
    if (!parsed.ok) throw new AuthError(parsed.reason);
    if (parsed.key.environment !== config.environment) throw new AuthError('APIKEY_ENVIRONMENT_MISMATCH');
    let record;
    try {
      record = await apiKeys.get(hashApiKey(key));
    } catch (err) {
      if (err instanceof RecordInvalidError) throw new AuthError('APIKEY_RECORD_INVALID', { field: err.field });
      throw new AuthError('APIKEY_STORE_UNAVAILABLE', undefined, { cause: err });
    }
    if (!record) throw new AuthError('APIKEY_NOT_FOUND');
    const detail = { keyId: record.keyId, tenantId: record.tenantId };
    if (record.status !== 'active') throw new AuthError('APIKEY_REVOKED', detail);
    if (record.expiresAt !== undefined && record.expiresAt * 1000 <= now()) throw new AuthError('APIKEY_EXPIRED', detail);
    if (record.environment !== parsed.key.environment) throw new AuthError('APIKEY_ENVIRONMENT_MISMATCH', detail);
    return { kind: 'apiKey', keyId: record.keyId, tenantId: record.tenantId, scopes: record.scopes };
  }

  /** Session deny list: a revoked session is refused until its item's `ttl` (absent: for good). */
  async function checkSession(user: UserPrincipal): Promise<void> {
    const store = revokedSessions.get(user.issuerId);
    if (!store) return;
    // Without a session id there is nothing to look up, and so no way to know it was not revoked: fail closed.
    if (user.sessionId === undefined) throw new AuthError('SESSION_MISSING', { issuer: user.issuerId });
    let revoked;
    try {
      revoked = await store.get(user.sessionId);
    } catch (err) {
      throw new AuthError('SESSION_STORE_UNAVAILABLE', { issuer: user.issuerId }, { cause: err });
    }
    if (revoked && (revoked.expiresAt === undefined || revoked.expiresAt * 1000 > now())) {
      throw new AuthError('SESSION_REVOKED', { issuer: user.issuerId });
    }
  }

  /**
   * Membership mode: whether API Gateway keys this request's answer by the tenant header too, i.e. whether the
   * request's route accepts users (contract/route-authorizer.ts, the same rule the stack and the local gateway use). An
   * answer must not depend on a header its cache key leaves out, or a cached answer would be reused for requests
   * that name other tenants. A request whose route is not in the table is treated as keyed (fail closed).
   */
  function tenantKeyed(event: APIGatewayRequestAuthorizerEvent): boolean {
    const route = routeOf(event);
    if (!route) return true;
    // Uncached routes (cookie, signed) read every header on every request: the tenant header is safe to use.
    const guard = routeAuthorizer(route, config.membership!.header)?.name;
    return guard === 'tenant' || guard === 'request';
  }

  /**
   * Membership mode, before the tenant check: a user's tenant is the one the request names in the tenant header
   * (required); an API key may name only its own tenant; a service is unaffected. Roles are set by `member`.
   * On routes whose answer is keyed by Authorization alone (membership mode: routes that accept no users), the
   * header is not read at all: API keys are decided without it, and users are refused (they may call none of them).
   */
  function requestedTenant(principal: Principal, event: APIGatewayRequestAuthorizerEvent): Principal {
    if (!config.membership || principal.kind === 'service' || principal.kind === 'signed') return principal;
    if (!tenantKeyed(event)) {
      if (principal.kind === 'user') throw new AuthError('ROUTE_NOT_PERMITTED', { routeAcceptsUsers: false });
      return principal;
    }
    let named: string | undefined;
    try {
      named = singleHeader(event, config.membership.header);
    } catch {
      throw new AuthError('TENANT_HEADER_INVALID', { multiple: true });
    }
    // API Gateway treats an empty identity source as a missing one.
    if (named === '') named = undefined;
    if (named !== undefined && !TENANT_ID_PATTERN.test(named)) throw new AuthError('TENANT_HEADER_INVALID');
    if (principal.kind === 'apiKey') {
      if (named !== undefined && named !== principal.tenantId) {
        throw new AuthError('TENANT_MISMATCH', { tenantId: principal.tenantId, requestedTenantId: named });
      }
      return principal;
    }
    if (named === undefined) throw new AuthError('TENANT_HEADER_MISSING');
    // Whatever tenant or roles the token claims, membership mode decides both.
    return { ...principal, tenantId: named, roles: [], tenantRequired: true };
  }

  /** Membership mode: the user's member item in the tenant named; its role becomes the user's roles. */
  async function member(user: UserPrincipal): Promise<UserPrincipal> {
    if (!members) return user;
    const tenantId = user.tenantId!;
    let record;
    try {
      record = await members.get({ tenantId, issuer: user.issuerId, subject: user.subject });
    } catch (err) {
      if (err instanceof RecordInvalidError) throw new AuthError('MEMBERSHIP_RECORD_INVALID', { tenantId, field: err.field });
      throw new AuthError('MEMBERSHIP_STORE_UNAVAILABLE', { tenantId }, { cause: err });
    }
    if (!record) throw new AuthError('MEMBERSHIP_NOT_FOUND', { tenantId });
    return { ...user, roles: [record.role] };
  }

  async function tenantOf(principal: Principal): Promise<TenantRecord | undefined> {
    if (principal.kind === 'service' || principal.kind === 'signed') return undefined;
    const tenantId = principal.tenantId;
    if (tenantId === undefined) {
      if (principal.kind === 'user' && !principal.tenantRequired) return undefined;
      throw new AuthError('TENANT_MISSING');
    }
    if (!tenants) return undefined;
    let tenant;
    try {
      tenant = await tenants.get(tenantId);
    } catch (err) {
      if (err instanceof RecordInvalidError) throw new AuthError('TENANT_STORE_UNAVAILABLE', { tenantId, field: err.field });
      throw new AuthError('TENANT_STORE_UNAVAILABLE', { tenantId }, { cause: err });
    }
    if (!tenant) throw new AuthError('TENANT_UNKNOWN', { tenantId });
    if (tenant.status !== 'active') throw new AuthError('TENANT_SUSPENDED', { tenantId });
    if (config.tenants.requireUsageKey && !tenant.usageKey) throw new AuthError('TENANT_NOT_ONBOARDED', { tenantId });
    return tenant;
  }

  return async function authorize(event) {
    const started = performance.now();
    const fields: LogFields = {
      requestId: event.requestContext?.requestId,
      method: event.httpMethod,
      resource: event.resource,
    };
    const finish = (decision: Decision, reason: ReasonCode | 'ALLOWED', extra?: LogFields) => {
      const latencyMs = Math.round((performance.now() - started) * 1000) / 1000;
      const log = decision === 'error' ? logger.error : logger.info;
      // Filled in place (no spread copies: this runs on every decision). The same line is the EMF data point.
      fields.kind ??= 'none';
      fields.decision = decision;
      fields.reason = reason;
      if (extra) Object.assign(fields, extra);
      fields.latencyMs = latencyMs;
      fields._aws = emfDirective(now());
      fields.Decisions = 1;
      fields.DecisionLatency = latencyMs;
      log('decision', fields);
    };

    let principal: Principal | undefined;
    try {
      const prefix = arnPrefix(event.methodArn ?? '');
      if (!prefix) throw new AuthError('INTERNAL_ERROR', { cause: 'methodArn' });
      const cookie = cookieRoutes ? routeOf(event)?.cookie : undefined;
      const credential = classify(event, { maxAuthorizationBytes: config.maxAuthorizationBytes, servicesAccepted, signedAccepted, cookie });
      fields.kind = credential.kind === 'jwt' ? 'user' : credential.kind;
      if (credential.kind === 'jwt' && credential.source === 'cookie') {
        fields.source = 'cookie';
        checkCsrf(event);
      }
      principal = await authenticate(credential, event);
      Object.assign(fields, principalFields(principal));
      if (principal.kind === 'user') await checkSession(principal);
      if (principal.kind === 'user' && config.owner && principal.subject !== config.owner.subject) {
        throw new AuthError('OWNER_MISMATCH');
      }
      principal = requestedTenant(principal, event);
      Object.assign(fields, principalFields(principal));
      const tenant = await tenantOf(principal);
      if (config.membership && principal.kind === 'user') principal = await member(principal);
      const { policyDocument, allowsAny, here } = policies.answer(prefix, principal, event.methodArn);
      if (!allowsAny) finish('deny', 'NO_ROUTE_PERMITTED');
      else if (here === 'Deny') finish('deny', 'ROUTE_NOT_PERMITTED');
      else finish('allow', 'ALLOWED');
      return {
        principalId: principalId(principal),
        policyDocument,
        context: context(principal, tenant),
        ...(tenant?.usageKey ? { usageIdentifierKey: tenant.usageKey } : {}),
      };
    } catch (err) {
      const e = err instanceof AuthError ? err : new AuthError('INTERNAL_ERROR', undefined, { cause: err });
      const extra: LogFields = { ...e.detail, ...causeFields(e.cause) };
      if (e.outcome === 'forbidden') {
        finish('deny', e.code, extra);
        return { principalId: principal ? principalId(principal) : 'anonymous', policyDocument: denyAll(event.methodArn) };
      }
      if (e.outcome === 'unauthorized') {
        finish('unauthorized', e.code, extra);
        throw new Error(UNAUTHORIZED);
      }
      finish('error', e.code, extra);
      // Anything but 'Unauthorized' makes API Gateway answer 500: the client may retry; nothing is allowed.
      throw new Error('Authorizer dependency failure');
    }
  };
}

type Decision = 'allow' | 'deny' | 'unauthorized' | 'error';

const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);
/** A double-submit token shorter than this is refused: 16 characters of base64url are 96 random bits. */
export const MIN_CSRF_TOKEN_LENGTH = 16;
const sha256 = (v: string) => createHash('sha256').update(v, 'utf8').digest();

/** Decisions counted by decision, by decision and credential kind, and by reason code; latency by decision. */
let lastDirective: { at: number; fragment: JsonFragment } | undefined;

/** The `_aws` member of a decision line at `timestamp`, serialized once per millisecond. */
function emfDirective(timestamp: number): JsonFragment {
  if (lastDirective?.at !== timestamp) {
    const value = { Timestamp: timestamp, CloudWatchMetrics: DECISION_METRICS };
    lastDirective = { at: timestamp, fragment: new JsonFragment(JSON.stringify(value), value) };
  }
  return lastDirective.fragment;
}

/** The EMF directive of a decision line (its values, `Decisions` and `DecisionLatency`, are fields of the line). */
const DECISION_METRICS = emfFields(
  [
    { name: 'Decisions', unit: 'Count', value: 1 },
    { name: 'DecisionLatency', unit: 'Milliseconds', value: 0 },
  ],
  [['decision'], ['decision', 'kind'], ['reason']],
  0,
)._aws.CloudWatchMetrics;

function principalId(p: Principal): string {
  switch (p.kind) {
    case 'user':
      return p.subject;
    case 'apiKey':
      return p.keyId;
    case 'service':
      return `service:${p.service}`;
    case 'signed':
      return `signer:${p.signer}`;
  }
}

function principalFields(p: Principal): LogFields {
  switch (p.kind) {
    case 'user':
      return { issuer: p.issuerId, principalId: p.subject, tenantId: p.tenantId };
    case 'apiKey':
      return { principalId: p.keyId, keyId: p.keyId, tenantId: p.tenantId };
    case 'service':
      return { principalId: `service:${p.service}`, service: p.service };
    case 'signed':
      return { principalId: `signer:${p.signer}`, signer: p.signer };
  }
}

/** The context handed to handlers: flat strings only (API Gateway refuses objects and arrays). */
function context(p: Principal, tenant: TenantRecord | undefined): Record<string, string> {
  // Built in place rather than by spreading: this runs on every decision.
  const c: Record<string, string> = {
    kind: p.kind,
    principalId: principalId(p),
    tenantId: p.kind === 'service' || p.kind === 'signed' ? '' : (p.tenantId ?? ''),
    scopes: p.scopes.join(' '),
  };
  if (tenant) c.tier = tenant.tier;
  switch (p.kind) {
    case 'user':
      c.issuer = p.issuerId;
      c.subject = p.subject;
      c.roles = p.roles.join(' ');
      if (p.email) c.email = p.email;
      if (p.sessionId) c.sessionId = p.sessionId;
      break;
    case 'apiKey':
      c.keyId = p.keyId;
      break;
    case 'service':
      c.service = p.service;
      break;
    case 'signed':
      c.signer = p.signer;
      c.bodySha256 = p.bodySha256;
      break;
  }
  return c;
}

function denyAll(methodArn: string): PolicyDocument {
  const prefix = arnPrefix(methodArn ?? '');
  return {
    Version: '2012-10-17',
    Statement: [{ Action: 'execute-api:Invoke', Effect: 'Deny', Resource: [prefix ? `${prefix}/*` : '*'] }],
  };
}

/** The name and code of a dependency error: enough to diagnose, never a message that could echo input. */
function causeFields(cause: unknown): LogFields {
  const c = summarizeError(cause);
  if (!c) return {};
  return {
    ...(c.name !== undefined ? { causeName: c.name } : {}),
    ...(c.code !== undefined ? { causeCode: c.code } : {}),
    ...(c.status !== undefined ? { causeStatus: c.status } : {}),
  };
}
