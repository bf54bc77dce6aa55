import { Duration, Stack, Validations } from 'aws-cdk-lib';
import { AccessLogFormat, ApiKeySourceType, AuthorizationType, type CfnAuthorizer, EndpointType, IdentitySource, JsonSchemaType, JsonSchemaVersion, LambdaIntegration, LogGroupLogDestination, type Method, MethodLoggingLevel, type Model, Period, RequestAuthorizer, RequestValidator, ResponseType, RestApi } from 'aws-cdk-lib/aws-apigateway';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { RouteConfig } from '../contract/config';
import type { RateLimitTier } from '../contract/rate-limit-tiers';
import { DEFAULT_AUTHORIZER_RESULT_TTL_SECONDS, usagePlanLimits, usagePlanName } from '../contract/stack-config';
import { GATEWAY_RESPONSES } from './gateway-responses';
import { type RouteAuthorizer, routeAuthorizer } from '../contract/route-authorizer';
import { AUTHORIZATION_HEADER, SERVICE_NAME_HEADER } from '../contract/headers';

export interface GatehouseApiProps {
  /** The route table the authorizer reads: every route becomes a method, each with its handler. */
  readonly routes: readonly RouteConfig[];
  readonly authorizerFunction: IFunction;
  /** Handler functions by the names routes use. */
  readonly handlers: Readonly<Record<string, IFunction>>;
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
   * rate, burst and monthly quota, and `apiKeyRequired` on the routes for which `keyed` is true (those whose every
   * caller has a tenant, and so a usage-plan key the authorizer returns as `usageIdentifierKey`).
   * @default - no usage plans
   */
  readonly usagePlans?: {
    readonly tiers: Readonly<Record<string, RateLimitTier>>;
    readonly headroom: number;
    readonly keyed: (route: RouteConfig) => boolean;
  };
  /** @default false */
  readonly tracing?: boolean;
  /** @default - one month */
  readonly logRetention?: RetentionDays;
}

/** API Gateway allows this many usage plans per account and Region. */
export const MAX_USAGE_PLANS = 300;

/** What the methods of the route table are wired with: authorizers, integrations, the validator and the body model. */
interface MethodWiring {
  readonly authorizerFor: (spec: RouteAuthorizer) => RequestAuthorizer;
  readonly integrationFor: (name: string) => LambdaIntegration;
  readonly validator: RequestValidator;
  readonly jsonObject: Model;
}

/**
 * The REST API: one method per route of the route table, guarded by the Gatehouse authorizer (public routes
 * excepted), with request validation, JSON access logs, and JSON gateway responses.
 *
 * Up to four REQUEST authorizers share the one function: API Gateway answers 401 without calling an authorizer
 * when any of its identity sources is missing, and caches its answer by their values. User and API-key routes are
 * keyed by `Authorization`; service routes by `Authorization` and `X-Service-Name` (which the decision reads); in
 * membership mode, routes that accept users by `Authorization` and the tenant header; routes that take a cookie or
 * accept signed requests by none, uncached, so the authorizer decides every request (contract/route-authorizer.ts).
 */
export class GatehouseApi extends Construct {
  readonly api: RestApi;
  readonly accessLogs: LogGroup;
  readonly methods: readonly Method[];

  // Construct ids and creation order are part of the synthesized template: AccessLogs, Api, then the authorizers
  // (on first use), Validator and JsonObject, the methods, the usage plans and the gateway responses.
  constructor(scope: Construct, id: string, props: GatehouseApiProps) {
    super(scope, id);
    this.accessLogs = new LogGroup(this, 'AccessLogs', { ...(props.logRetention ? { retention: props.logRetention } : {}) });
    this.api = this.createRestApi(props);
    checkTenantHeader(props.tenantHeader);
    const authorizerFor = this.authorizerFactory(props);
    const validator = new RequestValidator(this, 'Validator', { restApi: this.api, validateRequestBody: true, validateRequestParameters: true });
    const jsonObject = this.api.addModel('JsonObject', {
      contentType: 'application/json',
      schema: { schema: JsonSchemaVersion.DRAFT4, title: 'JsonObject', type: JsonSchemaType.OBJECT },
    });
    const wiring: MethodWiring = { authorizerFor, integrationFor: integrationFactory(props.handlers), validator, jsonObject };
    this.methods = props.routes.map((route) => this.addRouteMethod(route, wiring, props));
    if (props.usagePlans) this.addUsagePlans(props.usagePlans);
    this.addGatewayResponses();
  }

  /** The REST API and its stage: regional, usage-plan keys from the authorizer, JSON access logs. */
  private createRestApi(props: GatehouseApiProps): RestApi {
    const api = new RestApi(this, 'Api', {
      description: 'Gatehouse: multi-tenant REST API behind a Lambda authorizer',
      endpointTypes: [EndpointType.REGIONAL],
      // Each tenant's usage-plan key comes from the authorizer (usageIdentifierKey), never from the client.
      apiKeySourceType: ApiKeySourceType.AUTHORIZER,
      cloudWatchRole: true,
      deployOptions: {
        stageName: props.stageName ?? 'prod',
        tracingEnabled: props.tracing ?? false,
        loggingLevel: MethodLoggingLevel.ERROR,
        dataTraceEnabled: false, // full request logging would write Authorization headers to CloudWatch
        metricsEnabled: true,
        accessLogDestination: new LogGroupLogDestination(this.accessLogs),
        accessLogFormat: AccessLogFormat.custom(JSON.stringify(ACCESS_LOG_FIELDS)),
      },
    });
    Validations.of(api).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
      reason: 'The account-level role API Gateway uses for execution logs; AWS publishes this managed policy for exactly that.',
    });
    Validations.of(api).acknowledge({
      id: 'AwsSolutions-APIG3',
      reason: 'WAF is a per-deployment choice (cost, rules); the authorizer refuses bad credentials before any handler runs. Attach a WebACL to the stage where needed.',
    });
    return api;
  }

  /**
   * The REQUEST authorizer for a route's spec, one per name (user, service, tenant, request). Built on first use, so
   * a route table without service routes (or without membership) gets no unused authorizer.
   */
  private authorizerFactory(props: GatehouseApiProps): (spec: RouteAuthorizer) => RequestAuthorizer {
    const ttl = props.authorizerResultTtl ?? Duration.seconds(DEFAULT_AUTHORIZER_RESULT_TTL_SECONDS);
    const authorizers = new Map<RouteAuthorizer['name'], RequestAuthorizer>();
    return (spec) => {
      let a = authorizers.get(spec.name);
      if (!a) {
        a = new RequestAuthorizer(this, AUTHORIZER_IDS[spec.name], {
          handler: props.authorizerFunction,
          identitySources: spec.headers.map((h) => IdentitySource.header(h)),
          resultsCacheTtl: spec.cached ? ttl : Duration.seconds(0),
        });
        // Uncached, with no identity sources: API Gateway calls the authorizer for every request (the property is
        // optional when caching is off; CDK would render an empty string).
        if (!spec.headers.length) (a.node.defaultChild as CfnAuthorizer).addPropertyDeletionOverride('IdentitySource');
        authorizers.set(spec.name, a);
      }
      return a;
    };
  }

  /** One route's method: public (no authorizer) or guarded by the authorizer the route-to-authorizer rule picks. */
  private addRouteMethod(route: RouteConfig, wiring: MethodWiring, props: GatehouseApiProps): Method {
    const resource = this.api.root.resourceForPath(route.path);
    const integration = wiring.integrationFor(route.handler!);
    if (route.public) {
      const method = resource.addMethod(route.method, integration, { authorizationType: AuthorizationType.NONE, requestValidator: wiring.validator });
      const reason = `${route.method} ${route.path} is public by configuration (public: true), e.g. a health check.`;
      Validations.of(method).acknowledge({ id: 'AwsSolutions-APIG4', reason });
      Validations.of(method).acknowledge({ id: 'AwsSolutions-COG4', reason });
      return method;
    }
    const spec = routeAuthorizer(route, props.tenantHeader)!;
    const method = resource.addMethod(route.method, integration, {
      // API Gateway counts the request against the usage plan of the key the authorizer returned.
      ...(props.usagePlans?.keyed(route) ? { apiKeyRequired: true } : {}),
      authorizationType: AuthorizationType.CUSTOM,
      authorizer: wiring.authorizerFor(spec),
      requestValidator: wiring.validator,
      requestParameters: Object.fromEntries(spec.headers.map((h) => [`method.request.header.${h}`, true])),
      ...(['POST', 'PUT', 'PATCH'].includes(route.method) ? { requestModels: { 'application/json': wiring.jsonObject } } : {}),
    });
    Validations.of(method).acknowledge({
      id: 'AwsSolutions-COG4',
      reason: 'Guarded by the Gatehouse Lambda REQUEST authorizer by design (Supabase, WorkOS and OIDC JWTs, API keys, service secrets): Cognito is not the identity provider.',
    });
    return method;
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

  private addGatewayResponses(): void {
    for (const r of GATEWAY_RESPONSES) {
      this.api.addGatewayResponse(r.id, {
        type: ResponseType.of(r.type),
        ...(r.statusCode ? { statusCode: String(r.statusCode) } : {}),
        responseHeaders: Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k, `'${v}'`])),
        templates: { 'application/json': JSON.stringify(r.body) },
      });
    }
  }
}

/** The access log line: one JSON object per request. */
const ACCESS_LOG_FIELDS = {
  requestId: '$context.requestId',
  ip: '$context.identity.sourceIp',
  method: '$context.httpMethod',
  resource: '$context.resourcePath',
  status: '$context.status',
  latencyMs: '$context.responseLatency',
  errorType: '$context.error.responseType',
  authorizerStatus: '$context.authorizer.status',
  authorizerLatencyMs: '$context.authorizer.latency',
  principalId: '$context.authorizer.principalId',
  tenantId: '$context.authorizer.tenantId',
  kind: '$context.authorizer.kind',
};

/** Construct ids of the authorizers, by their names in the route-to-authorizer rule (part of the template). */
const AUTHORIZER_IDS = { user: 'UserAuthorizer', service: 'ServiceAuthorizer', tenant: 'TenantAuthorizer', request: 'RequestAuthorizer' } as const;

/** The tenant header keys an authorizer next to Authorization, so it cannot be either of the other identity sources. */
function checkTenantHeader(header: string | undefined): void {
  const tenantHeader = header?.toLowerCase();
  if (tenantHeader === AUTHORIZATION_HEADER.toLowerCase() || tenantHeader === SERVICE_NAME_HEADER.toLowerCase()) {
    throw new Error(`GatehouseApi: tenantHeader must differ from ${AUTHORIZATION_HEADER} and ${SERVICE_NAME_HEADER}`);
  }
}

/** One proxy integration per handler function, shared by every route that names it. */
function integrationFactory(handlers: Readonly<Record<string, IFunction>>): (name: string) => LambdaIntegration {
  const integrations = new Map<string, LambdaIntegration>();
  return (name) => {
    const fn = handlers[name];
    if (!fn) throw new Error(`No handler function named "${name}" was given to GatehouseApi`);
    let integration = integrations.get(name);
    if (!integration) integrations.set(name, (integration = new LambdaIntegration(fn, { proxy: true })));
    return integration;
  };
}
