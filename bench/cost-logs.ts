/**
 * Log lines the bench cannot capture from the code it runs, rendered as AWS writes them so their bytes can be
 * counted: the stage's access-log line (one per request, in the format the stack deploys: contract/access-log.ts, so a
 * change there changes the figure) and Lambda's own START/END/REPORT lines (three per invocation, text log format, which
 * the stack keeps: https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs.html).
 */
import { randomUUID } from 'node:crypto';
import type { AccessLogValues } from './cost-mix';

const GATEWAY_ERRORS: Readonly<Record<number, string>> = { 401: 'UNAUTHORIZED', 403: 'ACCESS_DENIED', 429: 'THROTTLED', 500: 'AUTHORIZER_FAILURE' };

const dash = (x: unknown) => (x === undefined || x === null || x === '' ? '-' : String(x));

/** The value of each `$context` variable the format may use, for one request (a documentation address for the IP). */
const CONTEXT_VALUES: Readonly<Record<string, (v: AccessLogValues) => string>> = {
  '$context.requestId': () => randomUUID(),
  '$context.identity.sourceIp': () => '198.51.100.123',
  '$context.httpMethod': (v) => v.request.event.httpMethod,
  '$context.resourcePath': (v) => v.request.event.resource,
  '$context.status': (v) => String(v.status),
  '$context.responseLatency': (v) => String(Math.round(v.latencyMs)),
  '$context.error.responseType': (v) => dash(v.status >= 400 && v.status !== 429 ? GATEWAY_ERRORS[v.status] : undefined),
  '$context.authorizer.status': (v) => dash(v.authorizerLatency === undefined ? undefined : v.status === 401 ? 401 : 200),
  '$context.authorizer.latency': (v) => dash(v.authorizerLatency === undefined ? undefined : Math.ceil(v.authorizerLatency)),
  '$context.authorizer.principalId': (v) => dash(v.body?.principalId),
  '$context.authorizer.tenantId': (v) => dash(v.body?.tenantId),
  '$context.authorizer.kind': (v) => dash(v.body?.kind),
};

/** The `$context` variables the renderer knows; any other would be written `-` and undercount the line. */
export const RENDERED_VARIABLES: readonly string[] = Object.keys(CONTEXT_VALUES);

/**
 * One access-log line as API Gateway would write it for `v`: each `$context` variable replaced by this request's
 * value, `-` where API Gateway has none (as it writes an empty value).
 */
export function accessLogRenderer(fields: Readonly<Record<string, string>>): (v: AccessLogValues) => string {
  return (v) => `${JSON.stringify(Object.fromEntries(Object.entries(fields).map(([k, variable]) => [k, CONTEXT_VALUES[variable]?.(v) ?? '-'])))}\n`;
}

/**
 * Bytes of Lambda's own lines for one invocation of `durationMs` at `memoryMb` (START, END, REPORT; the REPORT of a
 * cold start also has `Init Duration`). Written by Lambda into the function's log group: billed as its logs.
 */
export function platformLineBytes(durationMs: number, memoryMb: number, initMs?: number): number {
  const id = randomUUID();
  const lines = [
    `START RequestId: ${id} Version: $LATEST\n`,
    `END RequestId: ${id}\n`,
    `REPORT RequestId: ${id}\tDuration: ${durationMs.toFixed(2)} ms\tBilled Duration: ${Math.max(1, Math.ceil(durationMs))} ms\tMemory Size: ${memoryMb} MB\tMax Memory Used: 98 MB\t` +
      `${initMs === undefined ? '' : `Init Duration: ${initMs.toFixed(2)} ms\t`}\n`,
  ];
  return lines.reduce((n, l) => n + Buffer.byteLength(l), 0);
}
