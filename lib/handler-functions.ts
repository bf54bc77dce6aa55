import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Effect, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IFunction, Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { Duration } from 'aws-cdk-lib';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { APIKEY_PK_PREFIX, APIKEYS_INDEX_SUFFIX, GSI1, TENANT_PK_PREFIX, TENANT_SUBPARTITIONS } from '../contract/table';
import { RATE_LIMIT_PK_PREFIX } from '../lambdas/shared/rate-limit/limiter';
import { RATE_LIMIT_TIERS_FILE } from '../contract/rate-limit-tiers';
import { CORS_FILE, type CorsPolicy } from '../contract/cors';
import { type FileHandler, type UserHandler, isFileHandler } from '../contract/targets';
import { GatehouseFunction } from './gatehouse-function';
import { importExistingFunction } from './existing-function';

/** What a handler needs besides its code. */
interface HandlerSpec {
  readonly entry: string;
  readonly description: string;
  /** Grants on the table; none if the handler does not touch it. */
  readonly table?: (fn: LambdaFunction, table: ITable) => void;
  /** Environment beyond TABLE_NAME, from what the deployment knows. */
  readonly environment?: (d: HandlerDeployment) => Record<string, string>;
  /** Counts requests with the per-tenant limiter: TABLE_NAME, the bundled tiers and its buckets (RATE#*) only. */
  readonly rateLimited?: boolean;
  /** @default - GatehouseFunction's (512 MB) */
  readonly memoryMb?: number;
  /** @default - GatehouseFunction's (10 s) */
  readonly timeoutSeconds?: number;
}

/** What handlers may need to know about the deployment. */
export interface HandlerDeployment {
  readonly apiKeyPrefix?: string;
  /** Live API keys a tenant may hold (config apiKeys.maxPerTenant). @default - the directory's default (100) */
  readonly apiKeysPerTenant?: number;
  readonly environment: 'live' | 'test';
  /** The rate-limit tiers document (config rateLimits.tiers). */
  readonly rateLimitTiers: Readonly<Record<string, unknown>>;
  /** Browsers on other origins: bundled with every handler as CORS_FILE (lambdas/shared/cors.ts reads it). @default - no CORS */
  readonly cors?: CorsPolicy;
}

/**
 * The built-in handlers a route's `handler` may name, each with only the access it needs. A team's own handlers
 * are declared in the configuration's `handlers` section instead (a source file or an existing function).
 */
export const HANDLERS: Readonly<Record<string, HandlerSpec>> = {
  health: { entry: 'lambdas/handlers/health.ts', description: 'Gatehouse: public health check' },
  me: { entry: 'lambdas/handlers/me.ts', description: 'Gatehouse: echoes the caller auth context', rateLimited: true },
  customers: {
    entry: 'lambdas/handlers/customers.ts',
    description: 'Gatehouse: tenant-scoped customers',
    rateLimited: true,
    table: (fn, table) => {
      // Tenant data only: the partition key must start with TENANT# and end with #CUSTOMERS, so this function can
      // never read API key records (APIKEY#...) or tenant records (TENANT#<id> without the suffix).
      fn.addToRolePolicy(
        new PolicyStatement({
          effect: Effect.ALLOW,
          actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:Query'],
          resources: [table.tableArn],
          conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['TENANT#*#CUSTOMERS'] } },
        }),
      );
    },
  },
  'api-keys': {
    entry: 'lambdas/handlers/api-keys.ts',
    description: "Gatehouse: tenant admins manage their tenant's API keys",
    rateLimited: true,
    environment: (d) => {
      if (!d.apiKeyPrefix) throw new Error('the api-keys handler needs apiKeys.prefix in the configuration');
      return {
        API_KEY_PREFIX: d.apiKeyPrefix,
        API_KEY_ENVIRONMENT: d.environment,
        ...(d.apiKeysPerTenant !== undefined ? { API_KEYS_MAX_PER_TENANT: String(d.apiKeysPerTenant) } : {}),
      };
    },
    table: (fn, table) => {
      // Key records only (APIKEY#<hash>): create and revoke. The tenant's record is only condition-checked (it
      // must exist and be active), and the listing reads the index. Customer data and members stay out of reach.
      fn.addToRolePolicy(
        new PolicyStatement({
          effect: Effect.ALLOW,
          actions: ['dynamodb:PutItem', 'dynamodb:UpdateItem'],
          resources: [table.tableArn],
          conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${APIKEY_PK_PREFIX}*`] } },
        }),
      );
      // The tenant's own partition only: tenant ids hold no '#', so `TENANT#*#*` is every partition below a tenant
      // (customers). Its members share the tenant's partition, and a partition-key condition cannot tell them apart.
      fn.addToRolePolicy(
        new PolicyStatement({
          effect: Effect.ALLOW,
          actions: ['dynamodb:ConditionCheckItem', 'dynamodb:GetItem'],
          resources: [table.tableArn],
          conditions: {
            'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${TENANT_PK_PREFIX}*`] },
            'ForAllValues:StringNotLike': { 'dynamodb:LeadingKeys': [TENANT_SUBPARTITIONS] },
          },
        }),
      );
      // The listing and the revocation look keys up by tenant in the index: on an index, the leading key is the
      // index's partition key (gsi1pk), here `TENANT#<t>#APIKEYS`, never the tenants' list or a user's memberships.
      fn.addToRolePolicy(
        new PolicyStatement({
          effect: Effect.ALLOW,
          actions: ['dynamodb:Query'],
          resources: [`${table.tableArn}/index/${GSI1.name}`],
          conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${TENANT_PK_PREFIX}*${APIKEYS_INDEX_SUFFIX}`] } },
        }),
      );
    },
  },
  'internal-jobs': { entry: 'lambdas/handlers/internal-jobs.ts', description: 'Gatehouse: internal jobs (services only)' },
  // No table access and not rate limited: signers belong to no tenant.
  webhooks: { entry: 'lambdas/handlers/webhooks.ts', description: 'Gatehouse: signed webhooks (signers only)' },
};

export interface HandlerFunctionsProps {
  /** Handler names the routes use: keys of {@link HANDLERS} or of `teamHandlers`. */
  readonly names: readonly string[];
  /**
   * The team's own handlers (the configuration's `handlers` section): source files, built like the built-in
   * handlers, or existing functions, imported.
   * @default - none
   */
  readonly teamHandlers?: Readonly<Record<string, UserHandler>>;
  /** The folder team handler entries are relative to (the configuration file's). @default - the working folder */
  readonly baseDir?: string;
  readonly table: ITable;
  readonly deployment: HandlerDeployment;
  /** @default - one month */
  readonly logRetention?: RetentionDays;
  /** @default false */
  readonly tracing?: boolean;
}

/**
 * One Lambda per named handler, with `TABLE_NAME` set and only the grants its spec asks for. A team's handler file
 * gets its own role with no table access (unless `rateLimited`: the limiter's items only); grant it more through
 * {@link functions}, e.g. `table.grantReadData(handlers.functions.orders)`. An existing function is only imported.
 */
export class HandlerFunctions extends Construct {
  /** The functions this construct built (built-in handlers and the team's handler files), by handler name. */
  readonly functions: Readonly<Record<string, LambdaFunction>>;
  /** The team's existing functions (`functionArn`), imported, by handler name. */
  readonly existing: Readonly<Record<string, IFunction>>;
  /** Handler name -> the files bundled with its code (the rate-limit tiers of the limited ones, the CORS policy). */
  readonly bundledFiles: Readonly<Record<string, Readonly<Record<string, string>>>>;

  constructor(scope: Construct, id: string, props: HandlerFunctionsProps) {
    super(scope, id);
    const functions: Record<string, LambdaFunction> = {};
    const existing: Record<string, IFunction> = {};
    const bundledFiles: Record<string, Readonly<Record<string, string>>> = {};
    for (const name of new Set(props.names)) {
      const team = props.teamHandlers?.[name];
      if (team && !isFileHandler(team)) {
        existing[name] = importExistingFunction(this, name, team.functionArn);
        continue;
      }
      const spec = team ? teamHandlerSpec(name, team, props.baseDir ?? process.cwd()) : HANDLERS[name];
      if (!spec) {
        throw new Error(`Unknown handler "${name}" in the route table: use one of ${Object.keys(HANDLERS).join(', ')}, or add it to HANDLERS in lib/handler-functions.ts`);
      }
      const fn = new GatehouseFunction(this, name, {
        entry: spec.entry,
        description: spec.description,
        ...(spec.memoryMb !== undefined ? { memorySize: spec.memoryMb } : {}),
        ...(spec.timeoutSeconds !== undefined ? { timeout: Duration.seconds(spec.timeoutSeconds) } : {}),
        environment: {
          ...(spec.table || spec.rateLimited ? { TABLE_NAME: props.table.tableName } : {}),
          ...spec.environment?.(props.deployment),
        },
        // The tiers travel with the code: up to 300 of them would not fit in Lambda's 4 KB of environment.
        ...bundled({
          ...(spec.rateLimited ? { [RATE_LIMIT_TIERS_FILE]: JSON.stringify(props.deployment.rateLimitTiers) } : {}),
          // Every handler answers browsers, so every handler gets the policy (lambdas/shared/cors.ts).
          ...(props.deployment.cors ? { [CORS_FILE]: JSON.stringify(props.deployment.cors) } : {}),
        }),
        ...(props.logRetention ? { logRetention: props.logRetention } : {}),
        tracing: props.tracing ?? false,
      });
      spec.table?.(fn.function, props.table);
      if (spec.rateLimited) grantLimiter(fn.function, props.table);
      functions[name] = fn.function;
      bundledFiles[name] = fn.bundledFiles;
    }
    this.functions = functions;
    this.existing = existing;
    this.bundledFiles = bundledFiles;
  }
}


/** The bundledFiles prop: none at all when there is no file (an empty set would still add a bundling step). */
function bundled(files: Record<string, string>): { bundledFiles?: Record<string, string> } {
  return Object.keys(files).length ? { bundledFiles: files } : {};
}

/** The limiter's buckets and monthly counters only (RATE#<tenant>): one conditional UpdateItem per request. */
function grantLimiter(fn: LambdaFunction, table: ITable): void {
  fn.addToRolePolicy(
    new PolicyStatement({
      effect: Effect.ALLOW,
      actions: ['dynamodb:UpdateItem', 'dynamodb:GetItem'],
      resources: [table.tableArn],
      conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${RATE_LIMIT_PK_PREFIX}*`] } },
    }),
  );
}

/**
 * A team's handler file as a spec: its entry made absolute against the configuration's folder, its memory, timeout
 * and variables, and no table access unless rate limited (least privilege: further grants are the team's own, in
 * code, through HandlerFunctions.functions).
 */
function teamHandlerSpec(name: string, handler: FileHandler, baseDir: string): HandlerSpec {
  const entry = path.resolve(baseDir, handler.entry);
  if (!existsSync(entry)) throw new Error(`handlers.${name}.entry: ${entry} does not exist (entries are relative to the configuration file's folder)`);
  return {
    entry,
    description: handler.description ?? `Gatehouse: the ${name} handler (${handler.entry})`,
    memoryMb: handler.memoryMb,
    timeoutSeconds: handler.timeoutSeconds,
    environment: () => ({ ...handler.environment }),
    rateLimited: handler.rateLimited,
  };
}
