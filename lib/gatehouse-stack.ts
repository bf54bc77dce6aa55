import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { type ITopic, Topic } from 'aws-cdk-lib/aws-sns';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { type StackConfig, type StackConfigInput, deploymentCorsPolicy, renderAuthorizerConfig, usagePlanKeyed } from '../contract/stack-config';
import { CONFIG_METADATA_KEY, OPTIONAL_STACK_OUTPUTS, STACK_OUTPUTS } from '../contract/stack-outputs';
import { alarmTarget } from '../contract/alarm-config';
import type { CorsPolicy } from '../contract/cors';
import { routeHandlers } from '../contract/targets';
import { GatehouseApi } from './gatehouse-api';
import { GatehouseHttpApi, type GatehouseHttpApiProps } from './gatehouse-http-api';
import { GatehouseAuthorizer } from './gatehouse-authorizer';
import { GatehouseTable } from './gatehouse-table';
import { HandlerFunctions } from './handler-functions';
import { GatehouseAlarms } from './observability';
import { AccessLogMetrics } from './access-log-metrics';
import { AlarmTopic } from './alarm-topic';
import { GatehouseDashboard } from './dashboard';
import { ServiceSecrets, importSecret } from './service-secrets';
import { resolveStackConfig } from './stack-config-source';

export interface GatehouseStackProps extends StackProps {
  /**
   * The configuration: validated (`parseStackConfig`), or as written (the JSON file's shape, typed), which the stack
   * validates; a wrong one throws a ConfigError naming the field. Give this or `configFile`, not both.
   */
  readonly config?: StackConfig | StackConfigInput;
  /** A JSON configuration file (e.g. `config/gatehouse.json`); the team's handler entries are relative to its folder. */
  readonly configFile?: string;
  /** The folder the team's handler entries are relative to, for a `config` as written. @default - the working folder */
  readonly baseDir?: string;
}

/**
 * The whole product: the table, the secrets, the authorizer, the handlers, the API (REST, or HTTP with
 * `deployment.api: "http"`) and its alarms. Each
 * piece is a construct of its own that a team can use in its own stack instead.
 */
export class GatehouseStack extends Stack {
  /** The configuration the stack was built from, validated. */
  readonly config: StackConfig;
  /** The HTTP API (`httpApi.api` is the AWS::ApiGatewayV2::Api), when `deployment.api` is `http`. */
  readonly httpApi?: GatehouseHttpApi;
  /** The authorizer (`authorizer.function` is the Lambda function). */
  readonly authorizer: GatehouseAuthorizer;
  /** The DynamoDB table of API keys, tenants and data (`table.table`). */
  readonly table: GatehouseTable;
  /** The handlers' functions by name (`handlers.functions`). */
  readonly handlers: HandlerFunctions;
  /** The alarms (`alarms.alarms`). */
  readonly alarms: GatehouseAlarms;
  /** The CloudWatch dashboard (`dashboard.dashboard`). */
  readonly dashboard: GatehouseDashboard;
  /** The SNS topic the alarms notify: the configured or the created one; none if the configuration names neither. */
  readonly alarmTopic?: ITopic;

  // Construct ids and creation order are part of the synthesized template: Data, ServiceSecrets, IssuerSecret<i>,
  // Authorizer, Handlers, Api (or HttpApi), AccessLogMetrics, AlarmTopic (or ExistingAlarmTopic), Alarms, Dashboard, then the
  // outputs.
  constructor(scope: Construct, id: string, props: GatehouseStackProps) {
    // Compact JSON: CloudFormation takes 1 MB of template, and the API's OpenAPI definition is most of it (about
    // 440 KB at 500 routes, twice that indented).
    super(scope, id, { suppressTemplateIndentation: true, ...props });
    const config = (this.config = resolveStackConfig(props));
    const logRetention = retention(config.deployment.logRetentionDays);

    this.table = new GatehouseTable(this, 'Data', { deletionProtection: config.deployment.deletionProtection });
    const services = this.createServiceSecrets(config, logRetention);
    const issuerSecrets = this.importIssuerSecrets(config);
    this.authorizer = this.createAuthorizer(config, services, issuerSecrets, logRetention);
    // One policy for the preflights, the gateway responses and the handlers (contract/cors.ts).
    const cors = deploymentCorsPolicy(config.cors, config.authorizer);
    const handlers = (this.handlers = this.createHandlers(config, logRetention, cors));
    if (config.deployment.api === 'http') this.httpApi = this.createHttpApi(config, handlers, logRetention, cors);
    else this.restApi = this.createApi(config, handlers, logRetention, cors);
    const observability = this.addAlarms(config, handlers);
    this.alarms = observability.alarms;
    this.dashboard = observability.dashboard;
    if (observability.topic) this.alarmTopic = observability.topic;
    this.addOutputs(services);
    if (this.restApi?.clientCertificate) {
      new CfnOutput(this, OPTIONAL_STACK_OUTPUTS.clientCertificateId, {
        value: this.restApi.clientCertificate.ref,
        description: "The client certificate API Gateway presents to the HTTP backends (its PEM: aws apigateway get-client-certificate)",
      });
    }
    // What `gatehouse --stack-name` reads back: the document this stack was synthesized from (names, never secrets).
    this.templateOptions.metadata = { [CONFIG_METADATA_KEY]: { ...config.source, deployment: config.deployment } };
  }

  private readonly restApi?: GatehouseApi;

  /**
   * The REST API (`api.api` is the SpecRestApi, `api.accessLogs` its access log group). Throws for a stack that
   * deploys an HTTP API (`deployment.api: "http"`): see `httpApi`.
   */
  get api(): GatehouseApi {
    if (!this.restApi) throw new Error('GatehouseStack.api: this stack deploys an HTTP API (deployment.api "http"); use httpApi');
    return this.restApi;
  }

  /** Secrets named in the configuration (by name or ARN); the others the stack creates and rotates. */
  private createServiceSecrets(config: StackConfig, logRetention: RetentionDays): ServiceSecrets {
    const existing = (list: readonly { name: string; secretId?: string | undefined }[] = []) =>
      Object.fromEntries(list.filter((s) => s.secretId !== undefined).map((s) => [s.name, s.secretId!]));
    return new ServiceSecrets(this, 'ServiceSecrets', {
      create: config.createdServiceSecrets,
      existing: existing(config.source.services),
      namePrefix: `${this.stackName}/services/`,
      createSigners: config.createdSignerSecrets,
      existingSigners: existing(config.source.signers),
      signerNamePrefix: `${this.stackName}/signers/`,
      logRetention,
      tracing: config.deployment.tracing,
    });
  }

  /** The HS256 secrets of the issuers that have one (Supabase, OIDC with a shared secret), for the authorizer to read. */
  private importIssuerSecrets(config: StackConfig): ISecret[] {
    const issuerSecrets: ISecret[] = [];
    config.authorizer.issuers.forEach((iss, i) => {
      const ref = iss.type === 'oidc' ? ('hs256SecretId' in iss.keys ? iss.keys.hs256SecretId : undefined) : iss.type === 'supabase' ? iss.hs256SecretId : undefined;
      if (ref) issuerSecrets.push(importSecret(this, `IssuerSecret${i}`, ref));
    });
    return issuerSecrets;
  }

  /**
   * The authorizer function, with the configuration rendered for it and read access to the table and secrets. The
   * secrets the stack creates are named by their names (`<stack>/services/<name>`), known at synth time, so the
   * document can be bundled with the code; the grants are on their ARNs.
   */
  private createAuthorizer(config: StackConfig, services: ServiceSecrets, issuerSecrets: ISecret[], logRetention: RetentionDays): GatehouseAuthorizer {
    return new GatehouseAuthorizer(this, 'Authorizer', {
      config: renderAuthorizerConfig(config, this.table.table.tableName, { services: services.secretNames, signers: services.signerSecretNames }),
      table: this.table.table,
      issuerSecrets,
      serviceSecrets: Object.values(services.secrets),
      signerSecrets: Object.values(services.signerSecrets),
      memorySize: config.deployment.authorizerMemoryMb,
      ...(config.deployment.authorizerReservedConcurrency !== undefined ? { reservedConcurrency: config.deployment.authorizerReservedConcurrency } : {}),
      logRetention,
      tracing: config.deployment.tracing,
    });
  }

  /**
   * A team's handler function by its name in the configuration (`handlers`), for grants beyond the default none:
   * `stack.table.table.grantReadData(stack.handlerFunction('orders'))`. Throws for an existing function (grant its
   * own role where it is defined) and for a name no route uses.
   */
  handlerFunction(name: string): LambdaFunction {
    const fn = this.handlers.functions[name];
    if (fn) return fn;
    if (this.handlers.existing[name]) throw new Error(`handlerFunction: "${name}" is an existing function (functionArn): grant its own role where it is defined`);
    const known = Object.keys(this.handlers.functions).sort();
    throw new Error(`handlerFunction: no handler function named "${name}"; the stack built ${known.map((n) => `"${n}"`).join(', ') || 'none'}`);
  }

  /** One function per handler the routes name: built-in, the team's handler files, or existing functions. */
  private createHandlers(config: StackConfig, logRetention: RetentionDays, cors: CorsPolicy | undefined): HandlerFunctions {
    return new HandlerFunctions(this, 'Handlers', {
      names: routeHandlers(config.authorizer.routes),
      teamHandlers: config.handlers,
      baseDir: config.baseDir,
      table: this.table.table,
      deployment: {
        environment: config.authorizer.environment,
        rateLimitTiers: config.authorizer.rateLimits.tiers,
        ...(config.authorizer.apiKeys ? { apiKeyPrefix: config.authorizer.apiKeys.prefix, apiKeysPerTenant: config.authorizer.apiKeys.maxPerTenant } : {}),
        ...(cors ? { cors } : {}),
      },
      logRetention,
      tracing: config.deployment.tracing,
    });
  }

  /** What both kinds of API take from the configuration: the route table, its targets, the stage and the cache. */
  private apiProps(config: StackConfig, handlers: HandlerFunctions, logRetention: RetentionDays, cors: CorsPolicy | undefined): GatehouseHttpApiProps {
    const { deployment } = config;
    return {
      routes: config.authorizer.routes,
      authorizerFunction: this.authorizer.function,
      handlers: { ...handlers.functions, ...handlers.existing },
      backends: config.backends,
      stageName: deployment.stageName,
      ...(config.authorizer.membership ? { tenantHeader: config.authorizer.membership.header } : {}),
      authorizerResultTtl: Duration.seconds(deployment.authorizerResultTtlSeconds),
      logRetention,
      throttle: deployment.throttle,
      ...(cors ? { cors } : {}),
    };
  }

  /** The REST API over the route table, with a usage plan per rate-limit tier. */
  private createApi(config: StackConfig, handlers: HandlerFunctions, logRetention: RetentionDays, cors: CorsPolicy | undefined): GatehouseApi {
    const { deployment } = config;
    return new GatehouseApi(this, 'Api', {
      ...this.apiProps(config, handlers, logRetention, cors),
      usagePlans: {
        tiers: config.authorizer.rateLimits.tiers,
        headroom: config.authorizer.rateLimits.usagePlanHeadroom,
        keyed: (route) => usagePlanKeyed(config.authorizer, route),
      },
      cloudWatchRole: deployment.cloudWatchRole,
      tracing: deployment.tracing,
      ...(deployment.waf.enabled ? { webAcl: { ratePer5MinutesPerIp: deployment.waf.ratePer5MinutesPerIp, managedRules: deployment.waf.managedRules } } : {}),
    });
  }

  /**
   * The HTTP API over the route table (deployment.api "http"): no usage plans, no WAF, no gateway responses
   * (parseStackConfig refuses the settings that would need them; README, REST or HTTP API).
   */
  private createHttpApi(config: StackConfig, handlers: HandlerFunctions, logRetention: RetentionDays, cors: CorsPolicy | undefined): GatehouseHttpApi {
    return new GatehouseHttpApi(this, 'HttpApi', this.apiProps(config, handlers, logRetention, cors));
  }

  /**
   * Alarms on genuine failures only (never a 401 or 403), notifying the configured or created topic, and the
   * dashboard, which shows the 401s and 403s the alarms leave out.
   */
  private addAlarms(config: StackConfig, handlers: HandlerFunctions): { alarms: GatehouseAlarms; dashboard: GatehouseDashboard; topic?: ITopic } {
    const settings = config.deployment.alarms;
    const api = this.httpApi ?? this.api.api;
    const accessLogs = (this.httpApi ?? this.api).accessLogs;
    const accessLogMetrics = new AccessLogMetrics(this, 'AccessLogMetrics', { accessLogs, api: config.deployment.api });
    const target = alarmTarget(settings);
    const created = target?.kind === 'create' ? new AlarmTopic(this, 'AlarmTopic', target.email ? { email: target.email } : {}) : undefined;
    const topic = target?.kind === 'existing' ? Topic.fromTopicArn(this, 'ExistingAlarmTopic', target.topicArn) : created?.topic;
    const alarms = new GatehouseAlarms(this, 'Alarms', {
      api,
      authorizerFunction: this.authorizer.function,
      handlerFunctions: handlers.functions,
      authorizerFailures: accessLogMetrics.authorizerFailures,
      thresholds: settings,
      ...(topic ? { topic } : {}),
    });
    const dashboard = new GatehouseDashboard(this, 'Dashboard', {
      api,
      authorizerFunction: this.authorizer.function,
      authorizerFailures: accessLogMetrics.authorizerFailures,
      tooManyRequests: accessLogMetrics.tooManyRequests,
      alarms: alarms.alarms,
    });
    if (created) new CfnOutput(this, 'AlarmTopicArn', { value: created.topic.topicArn, description: 'SNS topic the alarms notify (subscribe to it)' });
    return { alarms, dashboard, ...(topic ? { topic } : {}) };
  }

  private addOutputs(services: ServiceSecrets): void {
    new CfnOutput(this, STACK_OUTPUTS.apiUrl, { value: this.httpApi?.url ?? this.api.api.url, description: 'Base URL of the API stage' });
    // Under the same key for an HTTP API, so that `gatehouse --stack-name` finds either; the tool reads the kind from
    // the configuration document (deployment.api) and makes no REST API call for an HTTP API.
    new CfnOutput(this, STACK_OUTPUTS.restApiId, {
      value: this.httpApi?.apiId ?? this.api.api.restApiId,
      description: this.httpApi ? 'HTTP API id (API Gateway v2; gatehouse finds it by --stack-name)' : 'REST API id (gatehouse finds it by --stack-name)',
    });
    new CfnOutput(this, STACK_OUTPUTS.tableName, { value: this.table.table.tableName, description: 'DynamoDB table of API keys, tenants and data' });
    for (const [name, secret] of Object.entries(services.secrets)) {
      new CfnOutput(this, `ServiceSecret-${name}`, { value: secret.secretArn, description: `Secret of the calling service ${name}` });
    }
    for (const [name, secret] of Object.entries(services.signerSecrets)) {
      new CfnOutput(this, `SignerSecret-${name}`, { value: secret.secretArn, description: `Secret of the signer ${name} (HMAC-SHA256 signed requests)` });
    }
  }
}

function retention(days: number): RetentionDays {
  const byDays: Record<number, RetentionDays> = {
    1: RetentionDays.ONE_DAY,
    3: RetentionDays.THREE_DAYS,
    5: RetentionDays.FIVE_DAYS,
    7: RetentionDays.ONE_WEEK,
    14: RetentionDays.TWO_WEEKS,
    30: RetentionDays.ONE_MONTH,
    60: RetentionDays.TWO_MONTHS,
    90: RetentionDays.THREE_MONTHS,
    180: RetentionDays.SIX_MONTHS,
    365: RetentionDays.ONE_YEAR,
  };
  return byDays[days]!;
}
