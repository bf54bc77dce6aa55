import { type AttributeValue, DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { APIGatewayClient } from '@aws-sdk/client-api-gateway';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { JWK } from 'jose';
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent, APIGatewayRequestAuthorizerEventV2 } from 'aws-lambda';
import { type AuthorizerConfig, type AuthorizerConfigInput, parseConfig } from '../contract/config';
import type { Logger } from '../contract/log';
import { type ApiKind, usagePlanKeyed } from '../contract/stack-config';
import { createAuthorizer } from '../lambdas/authorizer/authorizer';
import { createRateLimiter } from '../lambdas/shared/rate-limit/limiter';
import { createGatehouseTable } from './create-table';
import { type DemoCredentials, demoCredentials } from './demo-credentials';
import { type LambdaHandler, type LocalGateway, createLocalGateway } from './gateway';
import { createHttpApiGateway } from './gateway-v2';
import { localHandlers } from './handlers';
import { LOCAL_STAGE, type LocalCliTarget, type LocalSetup, type LocalState, localAuthorizerConfig, localCliTarget, localDeployment, localResultTtlSeconds, localSecrets, localSetup } from './local-setup';
import { type LocalUsagePlans, createSecrets, demoScopes, createUsagePlans, restoreItems, seedDemoTenants } from './seed';
import { type StandInPlan, planStandIns, standInIssuer, standInJwksRoutes } from './stand-ins';
import { UsagePlans, usagePlansOf } from './usage-plans';
import { type ServingClients, servingClients } from './serving-clients';
import { type LocalTargets, localTargets, withUserHandlers } from './local-targets';

export type { DemoCredentials } from './demo-credentials';
export { DEMO_TENANT, DEMO_USER, LOCAL_ISSUER_ID, OTHER_TENANT, OTHER_USER, type LocalState } from './local-setup';

/** How to provision a local environment. */
export interface ProvisionOptions {
  /** The stack's configuration document (config/gatehouse.example.json): routes, services, API key prefix. */
  readonly stackConfig: Record<string, unknown>;
  /** Port for the gateway (0: any free port). */
  readonly port: number;
  readonly host?: string;
  readonly state?: LocalState;
  readonly resultTtlSeconds?: number;
  readonly logger?: Logger;
  /** Where the gateway logs its 5xx answers (one line each). @default - JSON lines on stderr, even when `logger` is quiet */
  readonly gatewayLogger?: Logger;
  /** The configuration file's folder: `handlers` entries are relative to it. @default the working directory */
  readonly configDir?: string;
  /** Where the team's handlers are bundled. @default .local/build/handlers-<run suffix> */
  readonly buildDir?: string;
  /** Which API Gateway API to emulate, over the configuration's `deployment.api`. @default - the configuration's (rest) */
  readonly api?: ApiKind;
}

/** A running local environment: the gateway, its demo credentials, and what --keep and the CLI need. */
export interface LocalEnvironment {
  readonly gateway: LocalGateway;
  readonly credentials: DemoCredentials;
  readonly tableName: string;
  /** What the command-line tool needs to act on this environment (`gatehouse --local`), less the process id. */
  readonly cliTarget: LocalCliTarget;
  /** The routes local mode cannot serve (their handler is an existing Lambda function): they answer 502. */
  readonly unavailableRoutes: LocalTargets['unavailableRoutes'];
  /** What --keep saves: the secrets, the signing key and the table's items. */
  snapshot(): Promise<LocalState>;
  close(): Promise<void>;
}

/**
 * Builds the whole API on this machine against the AWS endpoints of the environment (the emulator): a table and
 * secrets, a demo tenant with API keys and a service secret, a local Supabase-style issuer (HS256 secret and an
 * ES256 key whose JWKS the gateway serves), stand-ins for the configured issuers (local/stand-ins.ts), and the
 * local gateway over the real authorizer and handlers: the built-in ones, the team's handler files of the
 * configuration, and its HTTP backends (local/local-targets.ts).
 */
export async function provisionLocal(opts: ProvisionOptions): Promise<LocalEnvironment> {
  const clients = { dynamodb: new DynamoDBClient({}), secretsManager: new SecretsManagerClient({}), apigateway: new APIGatewayClient({}) };
  const { dynamodb, secretsManager } = clients;
  const setup = localSetup(opts.stackConfig);
  const plan = planStandIns(opts.stackConfig);
  const secrets = await localSecrets(setup, opts.state, plan.kept.filter((p) => p.alg === 'HS256').map((p) => p.id));
  const standInsAt = (baseUrl: string) => plan.kept.map((p) => standInIssuer(p, setup, baseUrl, secrets.rsaSigningKey!.kid!));
  const { api } = localDeployment(opts.stackConfig, opts.api);
  const configAt = (baseUrl: string) => localAuthorizerConfig(setup, opts.stackConfig, baseUrl, standInsAt(baseUrl).map((s) => s.config), api);

  await createGatehouseTable(dynamodb, setup.tableName);
  await createSecrets(secretsManager, setup, secrets);
  // Parsed before the issuer's URL (the gateway's) is known: the routes, rate limits and membership do not depend on it.
  const shape = parseConfig(configAt('http://127.0.0.1'));
  const plans = await createUsagePlans(clients.apigateway, setup, shape);
  if (opts.state?.items.length) await restoreItems(dynamodb, setup.tableName, opts.state.items, plans.usageKeys);
  else secrets.apiKeys = await seedDemoTenants(dynamodb, setup, plans.usageKeys, demoScopes(shape));

  const resultTtlSeconds = localResultTtlSeconds(opts.stackConfig, opts.resultTtlSeconds);
  const targets = await localTargets(opts, setup, shape);
  const { d: _private, ...publicJwk } = secrets.signingKey;
  const rsaKey = secrets.rsaSigningKey!;
  const { gateway, baseUrl, serving } = await startGateway({ opts, setup, shape, plans, resultTtlSeconds, publicJwk, configAt, plan, rsaKey, targets });
  const standIns = standInsAt(baseUrl);
  const credentials = await demoCredentials(baseUrl, setup, secrets, shape, { standIns, dropped: plan.dropped }, gateway.api);
  const parsed = parseConfig(configAt(baseUrl));
  const stage = { restApiId: gateway.restApiId, stageName: gateway.stageName, endpoint: gateway.controlPlaneUrl! };

  return {
    gateway,
    credentials,
    tableName: setup.tableName,
    cliTarget: localCliTarget(setup, parsed, resultTtlSeconds, stage, baseUrl, standIns),
    unavailableRoutes: targets.unavailableRoutes,
    async snapshot() {
      return { ...secrets, items: await scanTable(dynamodb, setup.tableName) };
    },
    async close() {
      await gateway.close();
      targets.cleanup();
      serving.destroy();
      dynamodb.destroy();
      secretsManager.destroy();
      clients.apigateway.destroy();
    },
  };
}

/** What the gateway step needs from the steps before it. */
interface GatewayInputs {
  readonly opts: ProvisionOptions;
  readonly setup: LocalSetup;
  /** The authorizer configuration once the gateway (the local issuer, the stand-ins' JWKS) is at `baseUrl`. */
  readonly configAt: (baseUrl: string) => AuthorizerConfigInput;
  /** The authorizer configuration as parsed before the gateway's URL is known (routes, rate limits, membership). */
  readonly shape: AuthorizerConfig;
  readonly plans: LocalUsagePlans;
  readonly resultTtlSeconds: number;
  /** The local issuer's ES256 public key, served as its JWKS. */
  readonly publicJwk: JWK;
  /** The stand-in issuers, whose JWKS serve the run's RSA public key. */
  readonly plan: StandInPlan;
  readonly rsaKey: JWK;
  /** The team's handlers and the HTTP backends (local/local-targets.ts). */
  readonly targets: LocalTargets;
}

/**
 * Starts the local gateway over the real handlers and the real authorizer, as the kind of API the configuration
 * deploys (`deployment.api`, or the `api` option): a REST API with the usage plans of the emulator's REST API, or an
 * HTTP API (local/gateway-v2.ts) with its stage throttle. Either serves the local issuer's and the stand-ins' JWKS.
 * Resolves with the gateway's URL once it listens, and the clients it serves with (local/serving-clients.ts), for
 * close to destroy.
 */
async function startGateway(inputs: GatewayInputs): Promise<{ gateway: LocalGateway; baseUrl: string; serving: ServingClients }> {
  const { opts } = inputs;
  const serving = servingClients();
  const logger = opts.logger ? { logger: opts.logger } : {};
  // The local issuer's URL is the gateway's own, known once it listens; the route table does not depend on it.
  let authorizer: AuthorizerHandler | undefined;
  const gateway = createGateway(inputs, serving, (event, context) => authorizer!(event, context));
  let baseUrl: string;
  try {
    baseUrl = await gateway.listen(opts.port, opts.host ?? '127.0.0.1');
  } catch (err) {
    serving.destroy();
    throw err;
  }
  const authorize = createAuthorizer(inputs.configAt(baseUrl), { ...serving.authorizer, ...logger });
  authorizer = (event) => authorize(event);
  return { gateway, baseUrl, serving };
}

/** The authorizer as both kinds of gateway call it (REST events, or HTTP API payload 2.0 events). */
type AuthorizerHandler = LambdaHandler<APIGatewayRequestAuthorizerEvent | APIGatewayRequestAuthorizerEventV2, APIGatewayAuthorizerResult>;

/** The gateway of the configured kind, not yet listening, over the handlers, backends and CORS of the run. */
function createGateway(inputs: GatewayInputs, serving: ServingClients, authorizer: AuthorizerHandler): LocalGateway {
  const { opts, setup, shape, plans } = inputs;
  const tableName = setup.tableName;
  const logger = opts.logger ? { logger: opts.logger } : {};
  const { cors } = inputs.targets;
  const deployment = localDeployment(opts.stackConfig, opts.api);
  const common = {
    ...(cors ? { cors } : {}),
    routes: shape.routes,
    // Membership mode: user routes are keyed by the tenant header too, exactly as the stack's tenant authorizer.
    ...(shape.membership ? { tenantHeader: shape.membership.header } : {}),
    backends: inputs.targets.backends,
    handlers: withUserHandlers(inputs.targets, localHandlers({
      dynamodb: serving.handlers,
      tableName,
      apiKeyPrefix: setup.apiKeyPrefix,
      ...(shape.apiKeys ? { apiKeysPerTenant: shape.apiKeys.maxPerTenant } : {}),
      environment: 'test',
      rateLimit: { limiter: createRateLimiter({ dynamodb: serving.rateLimiter, tableName }), tiers: shape.rateLimits.tiers },
      ...logger,
      ...(cors ? { cors } : {}),
    })),
    resultTtlSeconds: inputs.resultTtlSeconds,
    ...(opts.gatewayLogger ? { logger: opts.gatewayLogger } : {}),
    stageName: LOCAL_STAGE,
    staticRoutes: {
      '/auth/v1/.well-known/jwks.json': () => ({ status: 200, body: { keys: [inputs.publicJwk] } }),
      ...standInJwksRoutes(inputs.plan, inputs.rsaKey),
    },
  };
  if (deployment.api === 'http') return createHttpApiGateway({ ...common, authorizer, apiId: plans.restApiId, throttle: deployment.throttle });
  return createLocalGateway({
    ...common,
    authorizer,
    restApiId: plans.restApiId,
    usagePlans: new UsagePlans(usagePlansOf(serving.apigateway, plans.restApiId, LOCAL_STAGE)),
    apiKeyRequired: (route) => usagePlanKeyed(shape, route),
  });
}

/** Every item of the table (what --keep saves with the secrets). */
async function scanTable(dynamodb: DynamoDBClient, tableName: string): Promise<Record<string, AttributeValue>[]> {
  const items: Record<string, AttributeValue>[] = [];
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await dynamodb.send(new ScanCommand({ TableName: tableName, ...(start ? { ExclusiveStartKey: start } : {}) }));
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  return items;
}
