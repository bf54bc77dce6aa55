import { Duration } from 'aws-cdk-lib';
import type { RestApiBase } from 'aws-cdk-lib/aws-apigateway';
import { Alarm, ComparisonOperator, Metric, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { METRICS_NAMESPACE } from '../lambdas/shared/metrics';

export interface GatehouseAlarmsProps {
  readonly api: RestApiBase;
  readonly authorizerFunction: IFunction;
  readonly handlerFunctions: readonly IFunction[];
  /** 401s in five minutes that raise the alarm. */
  readonly unauthorizedPer5Minutes: number;
  /** 403s in five minutes that raise the alarm. */
  readonly forbiddenPer5Minutes: number;
}

const FIVE_MINUTES = Duration.minutes(5);

/**
 * Alarms on what the authorizer's decision log (EMF) and Lambda report: a spike of 401s or 403s (credential
 * stuffing, a broken client, a revoked integration), authorizer errors (dependency failures answer 500), and
 * throttles. They are exposed so a team can add its own actions (SNS, chat, paging).
 */
export class GatehouseAlarms extends Construct {
  readonly alarms: readonly Alarm[];

  constructor(scope: Construct, id: string, props: GatehouseAlarmsProps) {
    super(scope, id);
    const decisions = (decision: string) =>
      new Metric({ namespace: METRICS_NAMESPACE, metricName: 'Decisions', dimensionsMap: { decision }, statistic: 'Sum', period: FIVE_MINUTES });
    const alarm = (name: string, metric: Metric, threshold: number, description: string) =>
      new Alarm(this, name, {
        metric,
        threshold,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      });
    this.alarms = [
      alarm('Unauthorized', decisions('unauthorized'), props.unauthorizedPer5Minutes, 'Spike of 401s from the Gatehouse authorizer'),
      alarm('Forbidden', decisions('deny'), props.forbiddenPer5Minutes, 'Spike of 403s from the Gatehouse authorizer'),
      alarm('AuthorizerDependencyErrors', decisions('error'), 5, 'The authorizer answered 500 (a dependency or configuration failure)'),
      alarm('AuthorizerErrors', props.authorizerFunction.metricErrors({ period: FIVE_MINUTES, statistic: 'Sum' }), 1, 'The authorizer function failed'),
      alarm('AuthorizerThrottles', props.authorizerFunction.metricThrottles({ period: FIVE_MINUTES, statistic: 'Sum' }), 1, 'The authorizer function was throttled (requests fail with 500)'),
      ...props.handlerFunctions.map((fn, i) =>
        alarm(`HandlerThrottles${i}`, fn.metricThrottles({ period: FIVE_MINUTES, statistic: 'Sum' }), 1, 'A handler function was throttled'),
      ),
      alarm('Api5xx', props.api.metricServerError({ period: FIVE_MINUTES, statistic: 'Sum' }), 5, 'The API answered 5xx'),
    ];
  }
}
