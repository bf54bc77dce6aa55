import type { APIGatewayProxyResult } from 'aws-lambda';

/** What a route returns: a status and a body that is serialized as JSON (none for `undefined`). */
export interface HttpResponse {
  readonly statusCode: number;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

// Responses carry tenant data: no shared cache may keep them, and browsers must not sniff them into HTML.
const COMMON_HEADERS = { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' } as const;

/** A JSON response with `statusCode` and `body`. */
export function json(statusCode: number, body?: unknown, headers: Readonly<Record<string, string>> = {}): HttpResponse {
  return { statusCode, body, headers };
}

/** Serializes an HttpResponse the way API Gateway's proxy integration expects it: a string body and flat headers. */
export function toProxyResult(res: HttpResponse): APIGatewayProxyResult {
  const headers: Record<string, string> = { ...COMMON_HEADERS, ...res.headers };
  if (res.body === undefined) return { statusCode: res.statusCode, headers, body: '' };
  return { statusCode: res.statusCode, headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(res.body) };
}
