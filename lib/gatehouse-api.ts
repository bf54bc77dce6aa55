import { Annotations, Aws, Duration, Names, Stack, Token, Validations } from 'aws-cdk-lib';
import { AccessLogFormat, ApiDefinition, CfnClientCertificate, EndpointType, LogGroupLogDestination, MethodLoggingLevel, Period, RestApiMode, SpecRestApi } from 'aws-cdk-lib/aws-apigateway';
import { ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { RouteConfig } from '../contract/config';
import { type OpenApiDocument, openApiDocument } from '../contract/openapi';
import type { RateLimitTier } from '../contract/rate-limit-tiers';
import { DEFAULT_AUTHORIZER_RESULT_TTL_SECONDS, DEFAULT_STAGE_THROTTLE, usagePlanLimits, usagePlanName } from '../contract/stack-config';
import { gatewayResponsesExtension } from './gateway-responses';
import { GatehouseWebAcl } from './web-acl';
import { AUTHORIZATION_HEADER, SERVICE_NAME_HEADER } from '../contract/headers';
import type { CorsPolicy } from '../contract/cors';
import { routeBackends, routeHandlers } from '../contract/targets';
import { REST_ACCESS_LOG_FIELDS } from '../contract/access-log';

export interface GatehouseApiProps {
  /** The route table the authorizer reads: every route becomes a method, each with its handler. */
  readonly routes: readonly RouteConfig[];
  readonly authorizerFunction: IFunction;
  /** Handler functions by the names routes use. */
  readonly handlers: Readonly<Record<string, IFunction>>;
  /**
   * HTTP backends by the names routes use (`backend`): API Gateway proxies to `url` + the route's path, with the
   * caller's context in headers (contract/openapi.ts), waiting at most `timeoutMs`.
   * @default - none
   */
  readonly backends?: Readonly<Record<string, { readonly url: string; readonly timeoutMs: number }>>;
  /** @default 'prod' */
  readonly stageName?: string;
  /** @default 300 seconds - API Gateway reuses a decision for this long per identity-source value */
  readonly authorizerResultTtl?: Duration;
  /**
   * Membership mode: the tenant header (the authorizer configuration's `membership.header`). Routes that accept
   * users then go through an authorizer of their own, keyed by Authorization and this header, so that API
   * Gateway's result cache never hands one tenant's answer to a request that names another.
   * @default - no membership mode
   */
  readonly tenantHeader?: string;
  /**
   * API Gateway's backstop to the handlers' exact limiter: one usage plan per tier, at `headroom` times the tier's
   * rate, burst and monthly quota, and a usage-plan key required on the routes for which `keyed` is true (those
   * whose every caller has a tenant, and so a usage-plan key the authorizer returns as `usageIdentifierKey`).
   * @default - no usage plans
   */
  readonly usagePlans?: {
    readonly tiers: Readonly<Record<string, RateLimitTier>>;
    readonly headroom: number;
    readonly keyed: (route: RouteConfig) => boolean;
  };
  /**
   * Create the account's API Gateway CloudWatch Logs role (`AWS::ApiGateway::Account`). It is one setting per
   * account and Region: the stack would replace whatever role the account had, and keep it when deleted. Most
   * accounts have one already (`aws apigateway get-account`); the stage's logs need it.
   * @default false
   */
  readonly cloudWatchRole?: boolean;
  /** @default false */
  readonly tracing?: boolean;
  /** @default - one month */
  readonly logRetention?: RetentionDays;
  /**
   * The stage's throttle (every method, all callers together), checked before any authorizer is called: past it,
   * API Gateway answers 429 without invoking anything.
   * @default - DEFAULT_STAGE_THROTTLE (1,000 requests per second, burst 2,000)
   */
  readonly throttle?: { readonly rateLimit: number; readonly burstLimit: number };
  /**
   * An AWS WAF web ACL on the stage (lib/web-acl.ts): a per-IP rate-based rule and AWS managed rule groups.
   * @default - no web ACL
   */
  readonly webAcl?: { readonly ratePer5MinutesPerIp: number; readonly managedRules: readonly string[] };
  /**
   * Browsers on other origins: an OPTIONS method (mock integration, no authorizer) on every path that has routes,
   * and the CORS headers on the gateway responses (lib/gateway-responses.ts). The handlers add theirs
   * (lambdas/shared/cors.ts, HandlerDeployment.cors); an HTTP backend behind the API answers with its own headers.
   * @default - no CORS
   */
  readonly cors?: CorsPolicy;
}

/** API Gateway allows this many usage plans per account and Region. */
export const MAX_USAGE_PLANS = 300;

/**
 * API Gateway's default quota of resources (path segments, `/v1` and `/v1/orders` are two) per REST API; it can be
 * raised for an API through Service Quotas.
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-execution-service-limits-table.html
 */
export const DEFAULT_MAX_API_RESOURCES = 300;

/**
 * The REST API, defined by the OpenAPI document of its route table (contract/openapi.ts): one method per route,
 * guarded by the Gatehouse authorizer (public routes excepted), with request validation, JSON access logs and JSON
 * gateway responses. The whole API is one `AWS::ApiGateway::RestApi` resource, whatever the number of routes, and
 * each function has one invoke permission scoped to this API, whatever the number of routes it serves.
 *
 * Up to five REQUEST authorizers share the one function: API Gateway answers 401 without calling an authorizer
 * when any of its identity sources is missing, and caches its answer by their values. User and API-key routes are
 * keyed by `Authorization`; service routes by `Authorization` and `X-Service-Name` (which the decision reads); in
 * membership mode, routes that accept users by `Authorization` and the tenant header; signed routes require
 * `Authorization` but are never cached; routes that take a cookie have no identity source and are never cached, so
 * the authorizer decides every request (contract/route-authorizer.ts).
 */
export class GatehouseApi extends Construct {
  readonly api: SpecRestApi;
  readonly accessLogs: LogGroup;
  /** The stage's web ACL, when `webAcl` was given. */
  readonly webAcl?: GatehouseWebAcl;
  /** The OpenAPI document the API is defined by (values of the deployment, such as function ARNs, are tokens). */
  readonly document: OpenApiDocument;
  /**
   * The stage's client certificate, when a route goes to an HTTP backend: API Gateway presents it on every
   * request to a backend, so a backend that requires it over TLS knows the request came through the gateway
   * (and so that the X-Gatehouse-* headers are the gateway's).
   * https://docs.aws.amazon.com/apigateway/latest/developerguide/getting-started-client-side-ssl-authentication.html
   */
  readonly clientCertificate?: CfnClientCertificate;

  // Construct ids and creation order are part of the synthesized template: AccessLogs, Api, the invoke permissions,
  // the usage plans, then the web ACL.
  constructor(scope: Construct, id: string, props: GatehouseApiProps) {
    super(scope, id);
    checkTenantHeader(props.tenantHeader);
    checkTargets(props.routes, props.handlers, props.backends ?? {});
    if (routeBackends(props.routes).length) {
      this.clientCertificate = new CfnClientCertificate(this, 'ClientCertificate', {
        description: `${Stack.of(this).stackName}: API Gateway's certificate to its HTTP backends`,
      });
    }
    this.accessLogs = new LogGroup(this, 'AccessLogs', { ...(props.logRetention ? { retention: props.logRetention } : {}) });
    const ttl = props.authorizerResultTtl ?? Duration.seconds(DEFAULT_AUTHORIZER_RESULT_TTL_SECONDS);
    this.document = openApiDocument(props.routes, {
      title: `${Stack.of(this).stackName} (Gatehouse)`,
      ...(props.tenantHeader ? { tenantHeader: props.tenantHeader } : {}),
      ...(props.usagePlans ? { keyed: props.usagePlans.keyed } : {}),
      ...(props.cors ? { cors: props.cors } : {}),
      aws: {
        integrationUri: (name) => lambdaInvocationUri(props.handlers[name]!),
        backend: (name) => props.backends![name]!,
        authorizerUri: lambdaInvocationUri(props.authorizerFunction),
        resultTtlSeconds: ttl.toSeconds(),
        gatewayResponses: gatewayResponsesExtension(props.cors),
      },
    });
    this.api = this.createRestApi(props);
    const resources = apiResourceCount(props.routes.map((r) => r.path));
    if (resources > DEFAULT_MAX_API_RESOURCES) {
      Annotations.of(this).addWarningV2(
        'gatehouse:apiResources',
        `The route table has ${resources} API resources (path segments); API Gateway allows ${DEFAULT_MAX_API_RESOURCES} per REST API unless the quota "Resources per API" is raised for this API`,
      );
    }
    this.grantInvoke(props);
    if (props.usagePlans) this.addUsagePlans(props.usagePlans);
    if (props.webAcl) {
      this.webAcl = new GatehouseWebAcl(this, 'WebAcl', { stage: this.api.deploymentStage, metricPrefix: Stack.of(this).stackName, ...props.webAcl });
    }
  }

  /** The REST API and its stage: regional, defined by the document, JSON access logs. */
  private createRestApi(props: GatehouseApiProps): SpecRestApi {
    const api = new SpecRestApi(this, 'Api', {
      apiDefinition: ApiDefinition.fromInline(this.document),
      // The route table is the whole API: a route removed from it is removed from the API.
      mode: RestApiMode.OVERWRITE,
      endpointTypes: [EndpointType.REGIONAL],
      cloudWatchRole: props.cloudWatchRole ?? false,
      deployOptions: {
        stageName: props.stageName ?? 'prod',
        ...(this.clientCertificate ? { clientCertificateId: this.clientCertificate.ref } : {}),
        tracingEnabled: props.tracing ?? false,
        loggingLevel: MethodLoggingLevel.ERROR,
        dataTraceEnabled: false, // full request logging would write Authorization headers to CloudWatch
        metricsEnabled: true,
        throttlingRateLimit: props.throttle?.rateLimit ?? DEFAULT_STAGE_THROTTLE.rateLimit,
        throttlingBurstLimit: props.throttle?.burstLimit ?? DEFAULT_STAGE_THROTTLE.burstLimit,
        accessLogDestination: new LogGroupLogDestination(this.accessLogs),
        accessLogFormat: AccessLogFormat.custom(JSON.stringify(REST_ACCESS_LOG_FIELDS)),
      },
    });
    if (props.cloudWatchRole) {
      Validations.of(api).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
        reason: 'The account-level role API Gateway uses for execution logs (opt-in: deployment.cloudWatchRole); AWS publishes this managed policy for exactly that.',
      });
    }
    Validations.of(api).acknowledge({
      id: 'AwsSolutions-APIG2',
      reason: 'Request validation is in the OpenAPI definition: x-amazon-apigateway-request-validator (body and parameters) is the default of every method; cdk-nag looks only for AWS::ApiGateway::RequestValidator resources.',
    });
    if (!props.webAcl) {
      Validations.of(api).acknowledge({
        id: 'AwsSolutions-APIG3',
        reason:
          'WAF is opt-in (deployment.waf.enabled: a monthly fee and a price per request); without it the stage throttle bounds every flood before the authorizer, and the authorizer refuses bad credentials before any handler runs.',
      });
    }
    return api;
  }

  /**
   * One invoke permission per function, scoped to this API: the authorizer for its authorizers, each handler for
   * any method of any stage. Lambda allows 20 KB of resource policy per function; one statement per method (what
   * CDK's LambdaIntegration adds) exceeds it at about 60 routes per function.
   */
  private grantInvoke(props: GatehouseApiProps): void {
    const principal = new ServicePrincipal('apigateway.amazonaws.com');
    const stack = Stack.of(this);
    const id = `InvokeBy${Names.uniqueId(this)}`;
    props.authorizerFunction.addPermission(id, {
      principal,
      sourceArn: stack.formatArn({ service: 'execute-api', resource: this.api.restApiId, resourceName: 'authorizers/*' }),
    });
    // Backend routes need no permission: API Gateway calls them over HTTPS.
    const used = new Set(routeHandlers(props.routes));
    for (const [name, fn] of Object.entries(props.handlers)) {
      if (!used.has(name)) continue;
      fn.addPermission(id, { principal, sourceArn: this.api.arnForExecuteApi('*', '/*', '*') });
    }
  }

  private addUsagePlans(plans: NonNullable<GatehouseApiProps['usagePlans']>): void {
    const tiers = Object.entries(plans.tiers);
    if (tiers.length > MAX_USAGE_PLANS) {
      throw new Error(`GatehouseApi: ${tiers.length} tiers, but API Gateway allows ${MAX_USAGE_PLANS} usage plans per account and Region`);
    }
    for (const [tier, t] of tiers) {
      const limits = usagePlanLimits(t, plans.headroom);
      this.api.addUsagePlan(`UsagePlan-${tier}`, {
        name: usagePlanName(Stack.of(this).stackName, tier),
        description: `Gatehouse tier ${tier}: backstop at ${plans.headroom}x ${t.requestsPerMinute}/min, burst ${t.burst}; the handlers' limiter enforces the exact limits`,
        throttle: limits.throttle,
        ...(limits.quota ? { quota: { limit: limits.quota.limit, period: Period.MONTH } } : {}),
        apiStages: [{ api: this.api, stage: this.api.deploymentStage }],
      });
    }
  }
}

/**
 * The URI API Gateway invokes a Lambda function by (proxy integrations and authorizers alike), in the function's
 * Region: an existing function's ARN names its own.
 */
export function lambdaInvocationUri(fn: IFunction): string {
  const region = Token.isUnresolved(fn.env.region) ? Aws.REGION : fn.env.region;
  return `arn:${Aws.PARTITION}:apigateway:${region}:lambda:path/2015-03-31/functions/${fn.functionArn}/invocations`;
}

/** The number of API Gateway resources `paths` make: each distinct path prefix, the root excepted. */
export function apiResourceCount(paths: readonly string[]): number {
  const prefixes = new Set<string>();
  for (const p of paths) {
    const segments = p.split('/').filter(Boolean);
    segments.forEach((_, i) => prefixes.add(segments.slice(0, i + 1).join('/')));
  }
  return prefixes.size;
}

/** Every route's handler function, or its backend, must have been given (to the construct `by`). */
export function checkTargets(
  routes: readonly RouteConfig[],
  handlers: Readonly<Record<string, IFunction>>,
  backends: Readonly<Record<string, unknown>>,
  by = 'GatehouseApi',
): void {
  const missing = routeHandlers(routes).filter((name) => !handlers[name]);
  if (missing.length) throw new Error(`No handler function named ${missing.map((n) => `"${n}"`).join(', ')} was given to ${by}`);
  const noBackend = routeBackends(routes).filter((name) => !Object.hasOwn(backends, name));
  if (noBackend.length) throw new Error(`No backend named ${noBackend.map((n) => `"${n}"`).join(', ')} was given to ${by}`);
}

/** The tenant header keys an authorizer next to Authorization, so it cannot be either of the other identity sources. */
function checkTenantHeader(header: string | undefined): void {
  const tenantHeader = header?.toLowerCase();
  if (tenantHeader === AUTHORIZATION_HEADER.toLowerCase() || tenantHeader === SERVICE_NAME_HEADER.toLowerCase()) {
    throw new Error(`GatehouseApi: tenantHeader must differ from ${AUTHORIZATION_HEADER} and ${SERVICE_NAME_HEADER}`);
  }
}

