import { Annotations, Duration, Names, Stack } from 'aws-cdk-lib';
import { CfnApi, CfnStage } from 'aws-cdk-lib/aws-apigatewayv2';
import { Metric, type MetricOptions } from 'aws-cdk-lib/aws-cloudwatch';
import { ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { OpenApiDocument } from '../contract/openapi';
import { DEFAULT_MAX_HTTP_API_ROUTES, httpApiDocument } from '../contract/openapi-http';
import { DEFAULT_AUTHORIZER_RESULT_TTL_SECONDS, DEFAULT_STAGE_THROTTLE } from '../contract/stack-config';
import { routeBackends, routeHandlers } from '../contract/targets';
import { HTTP_ACCESS_LOG_FIELDS } from '../contract/access-log';
import { type GatehouseApiProps, checkTargets, lambdaInvocationUri } from './gatehouse-api';

/**
 * What the HTTP API takes: the REST API's props (lib/gatehouse-api.ts, where each is documented) less what HTTP APIs
 * do not have: usage plans, the account's CloudWatch role for execution logs, X-Ray on the stage, a WAF web ACL.
 * `cors` becomes the HTTP API's own CORS configuration rather than OPTIONS methods and gateway responses.
 */
export type GatehouseHttpApiProps = Omit<GatehouseApiProps, 'usagePlans' | 'cloudWatchRole' | 'tracing' | 'webAcl'>;

/**
 * The HTTP API (API Gateway v2, `deployment.api: "http"`), imported from the OpenAPI document of its route table
 * (contract/openapi-http.ts): one route per route of the table, guarded by the Gatehouse authorizer (payload 2.0,
 * IAM policy answers) except the public ones, Lambda proxy integrations with payload 1.0 and HTTP proxy integrations
 * to the backends. The whole API is one `AWS::ApiGatewayV2::Api` resource whatever the number of routes, plus its
 * stage, its log group and one invoke permission per function.
 *
 * Not on an HTTP API (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-vs-rest.html): usage
 * plans (the handlers' exact limiter is the only per-tenant limit), request validation (the handlers validate
 * bodies), AWS WAF, gateway responses (API Gateway's own 401/403/500 bodies), client certificates to backends,
 * X-Ray on the stage, execution logs.
 */
export class GatehouseHttpApi extends Construct {
  readonly api: CfnApi;
  readonly stage: CfnStage;
  readonly accessLogs: LogGroup;
  /** The OpenAPI document the API is imported from (values of the deployment, such as function ARNs, are tokens). */
  readonly document: OpenApiDocument;
  readonly stageName: string;

  // Construct ids and creation order are part of the synthesized template: AccessLogs, Api, Stage, the permissions.
  constructor(scope: Construct, id: string, props: GatehouseHttpApiProps) {
    super(scope, id);
    checkTargets(props.routes, props.handlers, props.backends ?? {}, 'GatehouseHttpApi');
    this.stageName = props.stageName ?? 'prod';
    this.accessLogs = new LogGroup(this, 'AccessLogs', { ...(props.logRetention ? { retention: props.logRetention } : {}) });
    const ttl = props.authorizerResultTtl ?? Duration.seconds(DEFAULT_AUTHORIZER_RESULT_TTL_SECONDS);
    this.document = httpApiDocument(props.routes, {
      title: `${Stack.of(this).stackName} (Gatehouse)`,
      ...(props.tenantHeader ? { tenantHeader: props.tenantHeader } : {}),
      ...(props.cors ? { cors: props.cors } : {}),
      aws: {
        integrationUri: (name) => lambdaInvocationUri(props.handlers[name]!),
        backend: (name) => props.backends![name]!,
        authorizerUri: lambdaInvocationUri(props.authorizerFunction),
        resultTtlSeconds: ttl.toSeconds(),
      },
    });
    // The route table is the whole API: re-importing the body replaces routes, integrations and authorizers. A
    // warning on import (an extension the HTTP API does not know) fails the deployment rather than being ignored.
    this.api = new CfnApi(this, 'Api', { body: this.document, failOnWarnings: true });
    this.stage = this.createStage(props);
    if (props.routes.length > DEFAULT_MAX_HTTP_API_ROUTES) {
      Annotations.of(this).addWarningV2(
        'gatehouse:httpApiRoutes',
        `The route table has ${props.routes.length} routes; API Gateway allows ${DEFAULT_MAX_HTTP_API_ROUTES} per HTTP API unless the quota "Routes per API" is raised for this API`,
      );
    }
    if (routeBackends(props.routes).length) {
      Annotations.of(this).addWarningV2(
        'gatehouse:httpApiBackendCertificate',
        'HTTP APIs present no client certificate to HTTP backends: a backend cannot tell a request that came through the gateway (and its X-Gatehouse-* headers) from one sent to it directly. Reach the backend through a VPC link (private integration), or have it check a shared secret, or use "api": "rest".',
      );
    }
    this.grantInvoke(props);
  }

  /** The stage's base URL (`https://<id>.execute-api.<region>.<suffix>/<stage>/`). */
  get url(): string {
    return `${this.api.attrApiEndpoint}/${this.stageName}/`;
  }

  /** The API's id. */
  get apiId(): string {
    return this.api.ref;
  }

  /**
   * An HTTP API metric of this stage: AWS/ApiGateway with the dimensions ApiId and Stage; the names are `4xx`, `5xx`,
   * `Count`, `Latency`, `IntegrationLatency`, `DataProcessed`.
   * https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-metrics.html
   */
  metric(metricName: string, props: MetricOptions = {}): Metric {
    return new Metric({ namespace: 'AWS/ApiGateway', metricName, dimensionsMap: { ApiId: this.apiId, Stage: this.stageName }, period: Duration.minutes(5), ...props });
  }

  metricServerError(props: MetricOptions = {}): Metric {
    return this.metric('5xx', { statistic: 'Sum', ...props });
  }

  metricClientError(props: MetricOptions = {}): Metric {
    return this.metric('4xx', { statistic: 'Sum', ...props });
  }

  metricCount(props: MetricOptions = {}): Metric {
    return this.metric('Count', { statistic: 'Sum', ...props });
  }

  /**
   * The named stage, deployed on every change of the API (autoDeploy), with the default route throttle and JSON
   * access logs. Per-route (detailed) metrics are off: CloudWatch charges per metric, and the stage's are enough
   * for the alarms.
   */
  private createStage(props: GatehouseHttpApiProps): CfnStage {
    return new CfnStage(this, 'Stage', {
      apiId: this.api.ref,
      stageName: this.stageName,
      autoDeploy: true,
      defaultRouteSettings: {
        throttlingRateLimit: props.throttle?.rateLimit ?? DEFAULT_STAGE_THROTTLE.rateLimit,
        throttlingBurstLimit: props.throttle?.burstLimit ?? DEFAULT_STAGE_THROTTLE.burstLimit,
        detailedMetricsEnabled: false,
      },
      accessLogSettings: { destinationArn: this.accessLogs.logGroupArn, format: JSON.stringify(HTTP_ACCESS_LOG_FIELDS) },
    });
  }

  /**
   * One invoke permission per function, scoped to this API: the authorizer for its authorizers, each handler for
   * any route of any stage (Lambda's 20 KB resource policy: one statement per route would not fit at scale).
   */
  private grantInvoke(props: GatehouseHttpApiProps): void {
    const principal = new ServicePrincipal('apigateway.amazonaws.com');
    const stack = Stack.of(this);
    const id = `InvokeBy${Names.uniqueId(this)}`;
    const arn = (resourceName: string) => stack.formatArn({ service: 'execute-api', resource: this.api.ref, resourceName });
    props.authorizerFunction.addPermission(id, { principal, sourceArn: arn('authorizers/*') });
    const used = new Set(routeHandlers(props.routes));
    for (const [name, fn] of Object.entries(props.handlers)) {
      if (used.has(name)) fn.addPermission(id, { principal, sourceArn: arn('*/*') });
    }
  }
}

