import type { MiddlewareObj, Request } from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { LogFields, Logger } from '../../contract/log';
import { toProxyResult } from './http-response';
import { errorLogFields } from '../../contract/aws-error';

/** Options of HttpError beyond status, public code and public message. */
export interface HttpErrorOptions extends ErrorOptions {
  /** Stable reason code for logs and metrics (default: the public code in upper case). Never shown to the caller. */
  readonly reason?: string;
  /** Extra public detail added to a 4xx body (for example, which body fields were invalid). Never on a 5xx. */
  readonly details?: Readonly<Record<string, unknown>>;
  /** Extra log fields. Must never hold credential material: they are written as they are. */
  readonly log?: LogFields;
  /** Extra response headers (e.g. `WWW-Authenticate` on a 401), on a 4xx only, like details. */
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * An error with an HTTP status and a message meant for the caller. Below 500 the caller sees
 * `{ error: code, message, ...details }`; at 500 and above the caller sees only the generic internal error.
 */
export class HttpError extends Error {
  readonly reason: string;
  readonly details: Readonly<Record<string, unknown>> | undefined;
  readonly log: LogFields | undefined;
  readonly headers: Readonly<Record<string, string>> | undefined;

  constructor(
    readonly status: number,
    /** Stable public code, e.g. `forbidden`, `not_found`. */
    readonly code: string,
    /** Public message: safe to show to any caller. */
    message: string,
    options: HttpErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    if (!Number.isInteger(status) || status < 400 || status > 599) throw new RangeError(`HttpError status must be 400-599, got ${status}`);
    this.name = 'HttpError';
    this.reason = options.reason ?? code.toUpperCase();
    this.details = options.details;
    this.log = options.log;
    this.headers = options.headers;
  }
}

/** The only body a caller ever sees for a 5xx: internals stay in the log. */
export const INTERNAL_ERROR_BODY = { error: 'internal_error' } as const;

/** A request as the HTTP middlewares see it: an API Gateway REST proxy event and its proxy result. */
export type ProxyRequest = Request<APIGatewayProxyEvent, APIGatewayProxyResult>;

export interface HttpErrorsOptions {
  readonly logger: Logger;
  /** Extra fields for the error line, e.g. who was calling (default: none). Must never return credential material. */
  readonly logFields?: (request: ProxyRequest) => LogFields;
}

/**
 * Turns errors into JSON responses: an HttpError below 500 becomes its status and public body, anything else a
 * generic 500. Logs one line per error with the correlation id (API Gateway's requestId). It reads no header and
 * no body, so neither the Authorization header nor any credential can reach the log. Use it first (outermost).
 */
export function httpErrors(options: HttpErrorsOptions): MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult> {
  const { logger, logFields = () => ({}) } = options;
  const httpErrorsOnError = (request: ProxyRequest): void => {
    // Another onError middleware already answered: leave its response alone.
    if (request.response !== undefined) return;
    const err = request.error;
    const http = err instanceof HttpError ? err : undefined;
    const status = http && http.status < 500 ? http.status : 500;
    const fields: LogFields = {
      ...requestFields(request),
      ...logFields(request),
      status,
      reason: http?.reason ?? 'UNHANDLED_ERROR',
      ...http?.log,
      // A 4xx is the caller's doing: its reason code and public message say all, and a stack frame would only
      // publish the function's file layout to whoever reads the logs. A 5xx keeps what diagnoses it.
      ...(status < 500 && http ? { publicMessage: http.message } : errorFields(http?.cause ?? err)),
    };
    (status < 500 ? logger.warn : logger.error)('request failed', fields);
    request.response = toProxyResult({
      statusCode: status,
      ...(status < 500 && http?.headers ? { headers: http.headers } : {}),
      // Details first: they can never overwrite the stable `error` and `message` fields.
      body: status < 500 && http ? { ...http.details, error: http.code, message: http.message } : INTERNAL_ERROR_BODY,
    });
  };
  return { onError: httpErrorsOnError };
}

function requestFields(request: ProxyRequest): LogFields {
  const { event, context } = request;
  return {
    requestId: event?.requestContext?.requestId,
    ...(context?.awsRequestId ? { lambdaRequestId: context.awsRequestId } : {}),
    method: event?.httpMethod,
    resource: event?.resource,
  };
}

/**
 * Name, code, AWS status and the first stack frame of an error (for 5xx lines): enough to diagnose, but never its
 * message, which may echo input (a JSON parser quoting the body, an SDK quoting a key).
 */
function errorFields(err: unknown): LogFields {
  const stack = (err as { stack?: unknown } | null)?.stack;
  const frame = typeof stack === 'string' ? stack.split('\n').find((l) => l.trimStart().startsWith('at ')) : undefined;
  const at = frame === undefined ? undefined : pathFreeFrame(frame);
  return { ...errorLogFields(err), ...(at ? { at } : {}) };
}

/**
 * A stack frame without its directories: `at list (api-keys.js:12:7)`. The function and the file's base name with
 * line and column locate the fault in the bundle (with its source map); the directories (`/var/task/...`, a
 * developer's home) tell a log reader nothing useful and only map out the deployment.
 */
export function pathFreeFrame(frame: string): string {
  return frame
    .trim()
    .replace(/(?:file:\/\/)?[^\s()]*[\\/]([^\\/\s()]+:\d+(?::\d+)?)/g, '$1')
    .slice(0, 200);
}
