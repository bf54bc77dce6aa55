import type { LogFields } from './log';

/**
 * What may be told of an error from an AWS call (or anything else thrown): its name, code and HTTP status. Never
 * its message, which may echo input (a JSON parser quoting the body, an SDK quoting a key), and never a request or
 * response body. The one scrubber for logs (handlers, limiter, authorizer, rotation) and the CLI's error lines.
 */
export interface ErrorSummary {
  readonly name?: string;
  readonly code?: string;
  /** The HTTP status of an AWS SDK error (`$metadata.httpStatusCode`). */
  readonly status?: number;
}

/** The summary of `err`, or undefined when it is not an object (a thrown string or number says nothing safe). */
export function summarizeError(err: unknown): ErrorSummary | undefined {
  if (!err || typeof err !== 'object') return undefined;
  const e = err as { name?: unknown; code?: unknown; $metadata?: { httpStatusCode?: unknown } };
  const status = e.$metadata?.httpStatusCode;
  return {
    ...(typeof e.name === 'string' ? { name: e.name.slice(0, 64) } : {}),
    ...(typeof e.code === 'string' ? { code: e.code.slice(0, 64) } : {}),
    ...(typeof status === 'number' && status ? { status } : {}),
  };
}

/** Log fields of an error: `errorName`, `errorCode`, `awsStatus` (or `errorType` for a non-object). */
export function errorLogFields(err: unknown): LogFields {
  const s = summarizeError(err);
  if (!s) return { errorType: typeof err };
  return {
    ...(s.name !== undefined ? { errorName: s.name } : {}),
    ...(s.code !== undefined ? { errorCode: s.code } : {}),
    ...(s.status !== undefined ? { awsStatus: s.status } : {}),
  };
}
