/**
 * CloudWatch Embedded Metric Format: a log line that CloudWatch also turns into metrics, so one decision log line
 * is both the audit record and the data point (no PutMetricData call, no extra latency).
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
 */
export const METRICS_NAMESPACE = 'Gatehouse';

export interface EmfMetric {
  readonly name: string;
  readonly unit: 'Count' | 'Milliseconds';
  readonly value: number;
}

/**
 * The fields to merge into a log line so that CloudWatch records `metrics` under every dimension set given.
 * Dimension values are read from the same line, so each dimension name must also be a field of it.
 */
export function emfFields(
  metrics: readonly EmfMetric[],
  dimensionSets: readonly (readonly string[])[],
  timestamp: number,
): { _aws: { Timestamp: number; CloudWatchMetrics: unknown[] } } & Record<string, unknown> {
  return {
    _aws: {
      Timestamp: timestamp,
      CloudWatchMetrics: [
        {
          Namespace: METRICS_NAMESPACE,
          Dimensions: dimensionSets,
          Metrics: metrics.map((m) => ({ Name: m.name, Unit: m.unit })),
        },
      ],
    },
    ...Object.fromEntries(metrics.map((m) => [m.name, m.value])),
  };
}
