import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { AuthorizerConfig } from '../../contract/config';
import { type Logger, jsonLogger } from '../../contract/log';
import { ApiKeyVerifier } from './api-keys';
import type { Verifiers } from './authenticate';
import { dynamodbClient, secretsManagerClient } from './aws';
import { type RequestClassifier, requestClassifier } from './classify-request';
import { type IssuerSpec, resolveIssuers } from './issuers';
import { type JwksGetterFactory, JwtVerifier, remoteJwks } from './jwt';
import { MemberCheck } from './member-check';
import { Cooldown } from './cooldown';
import { compileRoutes } from './policy';
import { PolicyMemo } from './policy-memo';
import { RouteIndex } from './route-index';
import { SecretStore } from './secrets';
import { ServiceSecretVerifier } from './service-secrets';
import { SessionCheck } from './session-check';
import { NonceStore, SignedRequestVerifier } from './signed-requests';
import { ApiKeyStore, type CachedLookupOptions, MemberStore, RevokedSessionStore, TenantStore } from './store';
import { TenantCheck } from './tenant-check';
import { TenantHeader } from './tenant-header';

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

/**
 * Everything a decision needs, built once per authorizer (at cold start) from the validated configuration: one step
 * per check, each holding its own store or verifier. A step the configuration does not enable is absent.
 */
export interface Collaborators {
  readonly now: () => number;
  readonly logger: Logger;
  readonly classify: RequestClassifier;
  readonly csrf: AuthorizerConfig['csrf'];
  readonly verifiers: Verifiers;
  readonly sessions: SessionCheck;
  readonly owner: AuthorizerConfig['owner'];
  /** Membership mode only: the tenant the request names. */
  readonly tenantHeader: TenantHeader | undefined;
  readonly tenants: TenantCheck;
  /** Membership mode only: the user's member item in that tenant. */
  readonly members: MemberCheck | undefined;
  readonly policies: PolicyMemo;
  /** Whether every Allow carries the context encoded for HTTP backends (config `backendContext`). */
  readonly backendContext: boolean;
}

/** The table's stores, each present only when the configuration uses it (and names a table). */
interface Stores {
  readonly apiKeys: ApiKeyStore | undefined;
  readonly tenants: TenantStore | undefined;
  readonly members: MemberStore | undefined;
  /** One deny list per issuer that asks for it, by issuer id. */
  readonly revokedSessions: ReadonlyMap<string, RevokedSessionStore>;
  readonly nonces: NonceStore | undefined;
}

/**
 * Builds every collaborator of one authorizer: the AWS clients, the secret cache, the table's stores, the
 * verifiers and the steps. The one place they are wired; nothing here does I/O.
 */
export function buildCollaborators(config: AuthorizerConfig, deps: AuthorizerDeps = {}): Collaborators {
  const now = deps.now ?? Date.now;
  const logger = deps.logger ?? jsonLogger('gatehouse-authorizer');
  // Clients (and the SDK packages) are loaded on first use: a request that needs no AWS API (a JWT checked against a
  // JWKS) loads none. See ./aws.ts for the client options.
  const dynamodb = dynamodbClient(deps.dynamodb);
  const secrets = new SecretStore(secretsManagerClient(deps.secretsManager), now, config.serviceSecrets.failureCooldownSeconds);
  const issuerSpecs = config.issuers.flatMap(resolveIssuers);
  const stores = buildStores(config, issuerSpecs, dynamodb, now);
  const compiled = compileRoutes(config.routes);
  const routes = new RouteIndex(config.routes);
  return {
    now,
    logger,
    classify: requestClassifier(config, compiled, routes),
    csrf: config.csrf,
    verifiers: buildVerifiers(config, issuerSpecs, { jwks: deps.jwks ?? remoteJwks, secrets, stores, now }),
    sessions: new SessionCheck(stores.revokedSessions, now),
    owner: config.owner,
    tenantHeader: config.membership ? new TenantHeader(config.membership, routes) : undefined,
    tenants: new TenantCheck(stores.tenants, { requireUsageKey: config.tenants.requireUsageKey }),
    members: config.membership ? new MemberCheck(stores.members) : undefined,
    policies: new PolicyMemo(compiled),
    backendContext: config.backendContext,
  };
}

function buildStores(config: AuthorizerConfig, issuerSpecs: readonly IssuerSpec[], dynamodb: () => DynamoDBClient, now: () => number): Stores {
  const table = config.tableName;
  const cooldown = new Cooldown(config.records.failureCooldownSeconds * 1000, now);
  const outage = { staleIfErrorSeconds: config.records.staleIfErrorSeconds, cooldown };
  const apiKeys = config.apiKeys && table ? new ApiKeyStore(dynamodb, table, { ...lookupOptions(config.apiKeys), ...outage }, now) : undefined;
  const tenants =
    config.tenants.verify && table
      ? new TenantStore(dynamodb, table, {
          maxEntries: 10_000,
          ttlSeconds: config.tenants.cacheTtlSeconds,
          negativeTtlSeconds: Math.min(config.tenants.cacheTtlSeconds, 10),
          ...outage,
        }, now)
      : undefined;
  const members = config.membership && table ? new MemberStore(dynamodb, table, { ...lookupOptions(config.membership), ...outage }, now) : undefined;
  // One deny list per issuer that asks for it, each with the issuer's own cache TTL (hits and misses alike).
  const revokedSessions = new Map<string, RevokedSessionStore>();
  for (const spec of issuerSpecs) {
    if (!spec.revokedSessions || !table) continue;
    const ttlSeconds = spec.sessionCacheTtlSeconds;
    // Never stale: a cached miss served through an outage would let a session revoked meanwhile in. The cooldown
    // still applies, so an outage fails these requests closed at once rather than each waiting.
    revokedSessions.set(spec.id, new RevokedSessionStore(dynamodb, table, spec.id, { maxEntries: 10_000, ttlSeconds, negativeTtlSeconds: ttlSeconds, cooldown }, now));
  }
  const nonces = table ? new NonceStore(dynamodb, table) : undefined;
  return { apiKeys, tenants, members, revokedSessions, nonces };
}

interface VerifierParts {
  readonly jwks: JwksGetterFactory;
  readonly secrets: SecretStore;
  readonly stores: Stores;
  readonly now: () => number;
}

function buildVerifiers(config: AuthorizerConfig, issuerSpecs: readonly IssuerSpec[], { jwks, secrets, stores, now }: VerifierParts): Verifiers {
  // No issuers, no JWT verifier: a JWT is then CREDENTIAL_UNRECOGNIZED. Likewise API keys without `apiKeys` or a table.
  const jwt = issuerSpecs.length ? new JwtVerifier(issuerSpecs, { jwks, secrets, now, maxStaleSeconds: config.serviceSecrets.maxStaleSeconds }) : undefined;
  const apiKeys = config.apiKeys && stores.apiKeys ? new ApiKeyVerifier(
          stores.apiKeys,
          { prefix: config.apiKeys.prefix, environment: config.environment, unknownKeyLookupsPerSecond: config.apiKeys.unknownKeyLookupsPerSecond, knownKeys: config.apiKeys.cacheMaxEntries },
          now,
        ) : undefined;
  const services = new ServiceSecretVerifier(config.services, config.serviceSecrets, secrets, now);
  const signed = new SignedRequestVerifier(
    config.signers,
    { windowSeconds: config.signedRequests.windowSeconds, secrets: config.serviceSecrets },
    secrets,
    stores.nonces,
    now,
  );
  return { jwt, apiKeys, services, signed };
}

/** A record cache's settings as the configuration writes them (`apiKeys`, `membership`). */
function lookupOptions(c: { cacheMaxEntries: number; cacheTtlSeconds: number; negativeCacheTtlSeconds: number }): CachedLookupOptions {
  return { maxEntries: c.cacheMaxEntries, ttlSeconds: c.cacheTtlSeconds, negativeTtlSeconds: c.negativeCacheTtlSeconds };
}
