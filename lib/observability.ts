import { Duration, Stack } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, type IMetric, Metric, type MetricOptions, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type { AlarmThresholds } from '../contract/alarm-config';
import type { Decision } from '../lambdas/authorizer/decision-log';
import { METRICS_NAMESPACE } from '../lambdas/shared/metrics';

/**
 * The API metrics the alarms and the dashboard use: a REST API's (RestApi, SpecRestApi: `5XXError`, `4XXError`,
 * `Count` by ApiName) or an HTTP API's (GatehouseHttpApi: `5xx`, `4xx`, `Count` by ApiId and Stage).
 */
export interface ApiMetrics {
  metricServerError(props?: MetricOptions): IMetric;
  metricClientError(props?: MetricOptions): IMetric;
  metricCount(props?: MetricOptions): IMetric;
}

export interface GatehouseAlarmsProps {
  /** The API: a REST API (a RestApi or a SpecRestApi) or an HTTP API (GatehouseHttpApi). */
  readonly api: ApiMetrics;
  readonly authorizerFunction: IFunction;
  /** Handler functions by the names routes use. */
  readonly handlerFunctions: Readonly<Record<string, IFunction>>;
  /** Requests refused with 500 because the authorizer failed, from the access log (AccessLogMetrics). */
  readonly authorizerFailures: IMetric;
  readonly thresholds: AlarmThresholds;
  /** @default - no actions: the alarms are exposed for a team to add its own */
  readonly topic?: ITopic;
}

const FIVE_MINUTES = Duration.minutes(5);

/** The authorizer's decision count (its EMF metric) for one outcome, per five minutes. */
export const decisionsMetric = (decision: Decision) =>
  new Metric({ namespace: METRICS_NAMESPACE, metricName: 'Decisions', dimensionsMap: { decision }, statistic: 'Sum', period: FIVE_MINUTES });

/**
 * Alarms that fire on genuine failures only: a 500, a crash, a timeout, a throttle. None counts a 401 or 403: every
 * expired token is a 401 (a thrown `Unauthorized`, which Lambda counts in the authorizer's `Errors` metric), so
 * those counts measure clients, not the API, and are on the dashboard instead. Hence no alarm on the authorizer's
 * `Errors`, on the `unauthorized` or `deny` decisions, or on API Gateway's 4XXError. Handlers are different: they
 * answer every 4xx as a response, so their `Errors` counts only crashes and timeouts.
 *
 * Each alarm notifies `topic` when it fires and when it clears.
 */
export class GatehouseAlarms extends Construct {
  readonly alarms: readonly Alarm[];

  constructor(scope: Construct, id: string, props: GatehouseAlarmsProps) {
    super(scope, id);
    const t = props.thresholds;
    const stackName = Stack.of(this).stackName;
    const lambda = { period: FIVE_MINUTES, statistic: 'Sum' } as const;
    const alarm = (id: string, metric: IMetric, threshold: number, description: string, name = id) =>
      new Alarm(this, id, {
        // Named for the stack, so a notification says which API it is about.
        alarmName: `${stackName}-${name}`,
        metric,
        threshold,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
        alarmDescription: `${description} (at least ${threshold} in 5 minutes)`,
      });
    const handlers = Object.entries(props.handlerFunctions);
    this.alarms = [
      alarm('AuthorizerFailures', props.authorizerFailures, t.authorizerFailuresPer5Minutes, 'API Gateway answered 500 because the authorizer failed: a crash, a timeout, a malformed answer or a dependency failure'),
      alarm('AuthorizerDependencyErrors', decisionsMetric('error'), t.dependencyErrorsPer5Minutes, 'The authorizer answered 500 for a dependency failure (DynamoDB, Secrets Manager, a JWKS endpoint): see its decision lines with decision error'),
      alarm('AuthorizerThrottles', props.authorizerFunction.metricThrottles(lambda), t.throttlesPer5Minutes, 'The authorizer function was throttled (requests fail with 500)'),
      // Ids by position, as before the handlers had names here: an id is part of the template.
      ...handlers.map(([name, fn], i) =>
        alarm(`HandlerErrors${i}`, fn.metricErrors(lambda), t.handlerErrorsPer5Minutes, `The ${name} handler crashed or timed out (it answers every error it knows)`, `HandlerErrors-${name}`),
      ),
      ...handlers.map(([name, fn], i) =>
        alarm(`HandlerThrottles${i}`, fn.metricThrottles(lambda), t.throttlesPer5Minutes, `The ${name} handler function was throttled`, `HandlerThrottles-${name}`),
      ),
      alarm('Api5xx', props.api.metricServerError(lambda), t.api5xxPer5Minutes, 'The API answered 5xx'),
    ];
    if (props.topic) {
      const action = new SnsAction(props.topic);
      for (const a of this.alarms) {
        a.addAlarmAction(action);
        a.addOkAction(action);
      }
    }
  }
}
