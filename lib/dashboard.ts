import { Duration, Stack } from 'aws-cdk-lib';
import { AlarmStatusWidget, Dashboard, GraphWidget, type IAlarm, type IMetric, type Metric, SearchExpression, TextWidget } from 'aws-cdk-lib/aws-cloudwatch';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import type { Decision } from '../lambdas/authorizer/decision-log';
import { METRICS_NAMESPACE } from '../lambdas/shared/metrics';
import { type ApiMetrics, decisionsMetric } from './observability';

export interface GatehouseDashboardProps {
  /** The API: a REST API (a RestApi or a SpecRestApi) or an HTTP API (GatehouseHttpApi). */
  readonly api: ApiMetrics;
  readonly authorizerFunction: IFunction;
  /** Requests refused with 500 because the authorizer failed (AccessLogMetrics). */
  readonly authorizerFailures: Metric;
  /** Requests answered 429, by the handlers' limiter or a usage plan (AccessLogMetrics). */
  readonly tooManyRequests: Metric;
  /** The alarms whose states the dashboard shows. */
  readonly alarms: readonly IAlarm[];
  /** @default - the stack's name */
  readonly dashboardName?: string;
}

const FIVE_MINUTES = Duration.minutes(5);

/** Every outcome of a decision, with what the caller got (lambdas/authorizer/decision-log.ts). */
const OUTCOMES = { allow: 'allow', deny: 'deny (403)', unauthorized: 'unauthorized (401)', error: 'error (500)' } as const satisfies Record<Decision, string>;

/**
 * One dashboard for the API: alarm states first, then what the alarms deliberately leave out (401s and 403s, by
 * outcome and by reason code), the authorizer's latency and failures, 429s, and API Gateway's 4xx and 5xx.
 */
export class GatehouseDashboard extends Construct {
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: GatehouseDashboardProps) {
    super(scope, id);
    const name = props.dashboardName ?? Stack.of(this).stackName;
    const graph = (title: string, left: IMetric[], width: number, right: IMetric[] = []) =>
      new GraphWidget({ title, left, right, width, height: 6, period: FIVE_MINUTES, leftYAxis: { min: 0, showUnits: false }, rightYAxis: { min: 0, showUnits: false } });
    const sum = { statistic: 'Sum', period: FIVE_MINUTES } as const;
    const authorizer = props.authorizerFunction;

    this.dashboard = new Dashboard(this, 'Dashboard', {
      dashboardName: name,
      defaultInterval: Duration.hours(3),
      widgets: [
        [
          new TextWidget({
            markdown:
              `## ${name}\nAlarms fire on failures only: 500s, crashes, timeouts, throttles. 401s and 403s are ordinary ` +
              'traffic (every expired token is a 401), so they are charted here, not alarmed on. Counts are per 5 minutes.',
            width: 24,
            height: 2,
          }),
        ],
        [new AlarmStatusWidget({ title: 'Alarms', alarms: [...props.alarms], width: 24, height: 4 })],
        [
          graph('Decisions by outcome', Object.entries(OUTCOMES).map(([decision, label]) => decisionsMetric(decision as Decision).with({ label })), 12),
          graph(
            'Decisions by reason code',
            // Reason codes are many (lambdas/authorizer/errors.ts): one line per code that occurred (ALLOWED included).
            [new SearchExpression({ expression: `SEARCH('{${METRICS_NAMESPACE},reason} MetricName="Decisions"', 'Sum', 300)`, label: '', period: FIVE_MINUTES })],
            12,
          ),
        ],
        [
          // Lambda's Duration: what API Gateway waits for on a cache miss (the decision line's DecisionLatency
          // leaves out the handler's own start-up and logging).
          graph('Authorizer duration (ms)', [authorizer.metricDuration({ statistic: 'p50', label: 'p50' }), authorizer.metricDuration({ statistic: 'p99', label: 'p99' })], 8),
          graph(
            'Authorizer failures (500)',
            [
              props.authorizerFailures.with({ label: 'authorizer failed (access log)' }),
              decisionsMetric('error').with({ label: 'dependency errors (decision error)' }),
              authorizer.metricThrottles({ ...sum, label: 'throttled invocations' }),
            ],
            8,
          ),
          graph('429 Too Many Requests', [props.tooManyRequests.with({ label: '429 (limiter or usage plan)' })], 8),
        ],
        [
          graph(
            'API responses',
            [props.api.metricClientError({ ...sum, label: '4xx' }), props.api.metricServerError({ ...sum, label: '5xx' })],
            24,
            [props.api.metricCount({ ...sum, label: 'requests (right)' })],
          ),
        ],
      ],
    });
  }
}
