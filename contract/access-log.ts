/**
 * The stages' access-log lines: one JSON object per request, field -> API Gateway `$context` variable. Defined here,
 * below the stack, so the stack writes them (lib/gatehouse-api.ts, lib/gatehouse-http-api.ts) and the cost benchmark
 * prices them (bench/cost-logs.ts) from the same definition.
 */

/** REST API stages. https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-mapping-template-reference.html#context-variable-reference */
export const REST_ACCESS_LOG_FIELDS = {
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
} as const;

/**
 * HTTP API stages. `authorizerError` and `integrationError` say why a request failed (an authorizer that failed or
 * answered in a shape API Gateway refused; a handler that crashed or a backend that did not answer); variables
 * without a value are written `-`. https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-logging-variables.html
 */
export const HTTP_ACCESS_LOG_FIELDS = {
  requestId: '$context.requestId',
  ip: '$context.identity.sourceIp',
  method: '$context.httpMethod',
  route: '$context.routeKey',
  status: '$context.status',
  latencyMs: '$context.responseLatency',
  integrationLatencyMs: '$context.integrationLatency',
  authorizerError: '$context.authorizer.error',
  integrationError: '$context.integrationErrorMessage',
  principalId: '$context.authorizer.principalId',
  tenantId: '$context.authorizer.tenantId',
  kind: '$context.authorizer.kind',
} as const;
