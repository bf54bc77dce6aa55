import { Duration, Stack } from 'aws-cdk-lib';
import type { Metric } from 'aws-cdk-lib/aws-cloudwatch';
import { FilterPattern, type IFilterPattern, type ILogGroup, MetricFilter } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { ApiKind } from '../contract/stack-config';

/**
 * API Gateway's gateway-response types for an authorizer that failed rather than decided: it crashed, timed out,
 * was throttled, returned a malformed answer, or threw anything but `Unauthorized` (the authorizer's own dependency
 * failures). Both answer 500. A 401 is `UNAUTHORIZED` and a 403 `ACCESS_DENIED`, so counting these two never counts
 * a refused credential.
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html
 */
export const AUTHORIZER_FAILURE_TYPES = ['AUTHORIZER_FAILURE', 'AUTHORIZER_CONFIGURATION_ERROR'] as const;

const REST_AUTHORIZER_FAILURE = FilterPattern.any(...AUTHORIZER_FAILURE_TYPES.map((t) => FilterPattern.stringValue('$.errorType', '=', t)));

/**
 * An HTTP API has no gateway-response types: an authorizer that failed is a 500 with an authorizer error message
 * (`$context.authorizer.error`, `-` when there is none). A 401 or 403 is never a 500, so this never counts a refused
 * credential, and a handler's own 500 has no authorizer error.
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-lambda-authorizer.html (Troubleshooting)
 */
const HTTP_AUTHORIZER_FAILURE = FilterPattern.all(
  FilterPattern.stringValue('$.status', '=', '500'),
  FilterPattern.stringValue('$.authorizerError', '!=', '-'),
  FilterPattern.stringValue('$.authorizerError', '!=', ''),
);

export interface AccessLogMetricsProps {
  /**
   * The stage's JSON access log (fields in lib/gatehouse-api.ts: `status`, `errorType`, ...; of an HTTP API in
   * lib/gatehouse-http-api.ts: `status`, `authorizerError`, ...).
   */
  readonly accessLogs: ILogGroup;
  /** Which kind of API writes the log. @default 'rest' */
  readonly api?: ApiKind;
  /**
   * Namespace of the metrics. Metric filters can only take dimensions from the log line, which does not name the
   * stack, so each stack gets its own namespace: two stacks in one account and Region never add up.
   * @default - `Gatehouse/<stack name>`
   */
  readonly namespace?: string;
}

/**
 * Metrics that only the access log knows: requests refused because the authorizer failed (a crashed or timed-out
 * authorizer writes no decision line, and its Lambda `Errors` metric also counts every 401, which is a thrown
 * `Unauthorized`), and 429s whoever answered them (the handlers' limiter or a usage plan: the access log has the
 * status the client got).
 */
export class AccessLogMetrics extends Construct {
  /** Requests API Gateway answered 500 because the authorizer failed (sum per 5 minutes). */
  readonly authorizerFailures: Metric;
  /** Requests answered 429 (sum per 5 minutes). */
  readonly tooManyRequests: Metric;

  constructor(scope: Construct, id: string, props: AccessLogMetricsProps) {
    super(scope, id);
    const namespace = props.namespace ?? `Gatehouse/${Stack.of(this).stackName}`;
    const count = (name: string, filterPattern: IFilterPattern) =>
      new MetricFilter(this, name, {
        logGroup: props.accessLogs,
        filterPattern,
        metricNamespace: namespace,
        metricName: name,
        metricValue: '1',
        // Zero for lines that don't match: a flat line on the dashboard means traffic and no failures, a gap no traffic.
        defaultValue: 0,
      }).metric({ statistic: 'Sum', period: Duration.minutes(5) });
    this.authorizerFailures = count('AuthorizerFailures', props.api === 'http' ? HTTP_AUTHORIZER_FAILURE : REST_AUTHORIZER_FAILURE);
    // `status` is a string in the line ("$context.status" inside quotes).
    this.tooManyRequests = count('TooManyRequests', FilterPattern.stringValue('$.status', '=', '429'));
  }
}
