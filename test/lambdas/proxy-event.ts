/**
 * API Gateway REST proxy events and Lambda contexts for handler tests, shaped as API Gateway sends them, with the
 * authorizer context the way it arrives downstream (the authorizer's flat strings, plus API Gateway's own keys).
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { randomBytes } from 'node:crypto';
import type { Logger } from '../../contract/log';

/** A random bearer token per test run: the log audits search for it. */
export const BEARER_TOKEN = `eyJhbGciOiJIUzI1NiJ9.${randomBytes(24).toString('base64url')}.${randomBytes(32).toString('base64url')}`;

export interface ProxyEventSpec {
  readonly method?: string;
  /** The API Gateway resource (route template), e.g. `/v1/customers/{id}`. */
  readonly resource: string;
  readonly pathParameters?: Record<string, string> | null;
  readonly query?: Record<string, string> | null;
  readonly headers?: Record<string, string>;
  /** A string is sent as it is; anything else as JSON. */
  readonly body?: unknown;
  readonly isBase64Encoded?: boolean;
  /** `requestContext.authorizer`: what the authorizer returned as context, or null/undefined for none. */
  readonly authorizer?: Record<string, unknown> | null;
}

/** An API Gateway REST proxy event (`APIGatewayProxyEvent`) for `spec`. */
export function proxyEvent(spec: ProxyEventSpec): APIGatewayProxyEvent {
  const method = spec.method ?? 'GET';
  const path = spec.resource.replace(/\{(\w+)\}/g, (_, p: string) => encodeURIComponent(spec.pathParameters?.[p] ?? ''));
  const body = spec.body === undefined ? null : typeof spec.body === 'string' ? spec.body : JSON.stringify(spec.body);
  const headers: Record<string, string> = {
    Accept: 'application/json',
    Authorization: `Bearer ${BEARER_TOKEN}`,
    Host: 'abcdef1234.execute-api.us-east-1.amazonaws.com',
    'User-Agent': 'gatehouse-tests',
    'X-Forwarded-For': '203.0.113.7',
    ...(body !== null && !Object.keys(spec.headers ?? {}).some((k) => k.toLowerCase() === 'content-type') ? { 'Content-Type': 'application/json' } : {}),
    ...spec.headers,
  };
  const query = spec.query ?? null;
  return {
    httpMethod: method,
    resource: spec.resource,
    path,
    pathParameters: spec.pathParameters ?? null,
    queryStringParameters: query,
    multiValueQueryStringParameters: query && Object.fromEntries(Object.entries(query).map(([k, v]) => [k, [v]])),
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
    body,
    isBase64Encoded: spec.isBase64Encoded ?? false,
    stageVariables: null,
    requestContext: {
      accountId: '123456789012',
      apiId: 'abcdef1234',
      authorizer: spec.authorizer,
      protocol: 'HTTP/1.1',
      httpMethod: method,
      identity: {
        accessKey: null,
        accountId: null,
        apiKey: null,
        apiKeyId: null,
        caller: null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: '203.0.113.7',
        user: null,
        userAgent: 'gatehouse-tests',
        userArn: null,
      },
      path: `/prod${path}`,
      stage: 'prod',
      requestId: `req-${randomBytes(8).toString('hex')}`,
      requestTimeEpoch: Date.now(),
      resourceId: 'abc123',
      resourcePath: spec.resource,
    },
  };
}

/** What API Gateway adds to the authorizer's context before handing it on. */
function delivered(context: Record<string, string>): Record<string, unknown> {
  return { ...context, principalId: context.principalId, integrationLatency: 42 };
}

/** A user's context as the authorizer builds it (see `context()` in lambdas/authorizer/answer.ts). */
export function userAuthorizer(overrides: Record<string, string> = {}): Record<string, unknown> {
  const subject = overrides.subject ?? '6f1c3b2a-1111-4222-8333-944455556666';
  return delivered({
    kind: 'user',
    principalId: subject,
    tenantId: 'acme',
    scopes: 'customers:read customers:write',
    tier: 'pro',
    issuer: 'supabase',
    subject,
    roles: 'admin member',
    email: 'ada@example.com',
    sessionId: 'sess-1',
    ...overrides,
  });
}

/** An API key's context as the authorizer builds it. */
export function apiKeyAuthorizer(overrides: Record<string, string> = {}): Record<string, unknown> {
  const keyId = overrides.keyId ?? 'key_0123456789abcdef';
  return delivered({ kind: 'apiKey', principalId: keyId, tenantId: 'acme', scopes: 'customers:read', keyId, ...overrides });
}

/** A service's context as the authorizer builds it: no tenant. */
export function serviceAuthorizer(overrides: Record<string, string> = {}): Record<string, unknown> {
  const service = overrides.service ?? 'billing';
  return delivered({ kind: 'service', principalId: `service:${service}`, tenantId: '', scopes: 'jobs:run', service, ...overrides });
}

/** Lowercase hex SHA-256 of the empty string: the X-Content-SHA256 of a request without a body. */
export const EMPTY_BODY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/**
 * A signed caller's context as the authorizer builds it: no tenant, and the signed body hash (X-Content-SHA256).
 * `bodySha256` defaults to the empty body's; pass `sha256Hex(body)` for a request with one.
 */
export function signedAuthorizer(overrides: Record<string, string> = {}): Record<string, unknown> {
  const signer = overrides.signer ?? 'stripe-relay';
  return delivered({
    kind: 'signed',
    principalId: `signer:${signer}`,
    tenantId: '',
    scopes: 'webhooks:write',
    signer,
    bodySha256: EMPTY_BODY_SHA256,
    ...overrides,
  });
}

/** A Lambda context, fresh per invocation as Lambda makes it. */
export function lambdaContext(): Context {
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: 'gatehouse-handler',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:gatehouse-handler',
    memoryLimitInMB: '256',
    awsRequestId: `lambda-${randomBytes(8).toString('hex')}`,
    logGroupName: '/aws/lambda/gatehouse-handler',
    logStreamName: '2026/11/01/[$LATEST]0123456789abcdef',
    getRemainingTimeInMillis: () => 10_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** A logger that keeps its lines, and the raw text of everything logged (for leak audits). */
export function captureLogger() {
  const lines: Record<string, unknown>[] = [];
  const push = (level: string) => (message: string, fields?: object) => void lines.push({ level, message, ...fields });
  const logger: Logger = { info: push('INFO'), warn: push('WARN'), error: push('ERROR') };
  return { logger, lines, text: () => JSON.stringify(lines) };
}

/** The status and parsed JSON body of a proxy result. */
export function parsed(result: APIGatewayProxyResult): { status: number; body: unknown; headers: Record<string, unknown> } {
  return { status: result.statusCode, body: result.body ? JSON.parse(result.body) : undefined, headers: result.headers ?? {} };
}
