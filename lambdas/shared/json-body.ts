import type { APIGatewayProxyEvent } from 'aws-lambda';
import type * as z from 'zod/mini';
import { HttpError } from './http-errors';

/** Default largest request body accepted, in bytes (after base64 decoding). */
export const DEFAULT_MAX_BODY_BYTES = 16 * 1024;

/**
 * The parsed JSON body of `event`, or `undefined` when there is none. Refuses, as HttpErrors: a body over
 * `maxBytes` (413), a body that is not declared as JSON (415), and a body that is not valid JSON (400, without the
 * parser's message, which quotes the input).
 */
export function readJsonBody(event: Pick<APIGatewayProxyEvent, 'body' | 'isBase64Encoded' | 'headers'>, maxBytes = DEFAULT_MAX_BODY_BYTES): unknown {
  if (event.body === null || event.body === undefined || event.body === '') return undefined;
  const bytes = rawBody(event);
  if (bytes.length > maxBytes) {
    throw new HttpError(413, 'payload_too_large', `body is larger than ${maxBytes} bytes`, { reason: 'BODY_TOO_LARGE', log: { bytes: bytes.length } });
  }
  // Requiring a JSON media type keeps browsers' simple cross-site requests (text/plain forms) out.
  if (!isJsonMediaType(header(event.headers, 'content-type'))) {
    throw new HttpError(415, 'unsupported_media_type', 'body must be application/json', { reason: 'BODY_NOT_JSON_MEDIA_TYPE' });
  }
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new HttpError(400, 'bad_request', 'body is not valid JSON', { reason: 'BODY_INVALID_JSON' });
  }
}

/**
 * The body of `event` as bytes, exactly as the caller sent them: base64-decoded when API Gateway encoded it
 * (binary media types), else the string's UTF-8 bytes; empty when there is none. What readJsonBody parses and
 * what signedBody() hashes, so the body checked is the body parsed.
 */
export function rawBody(event: Pick<APIGatewayProxyEvent, 'body' | 'isBase64Encoded'>): Buffer {
  if (event.body === null || event.body === undefined || event.body === '') return Buffer.alloc(0);
  return event.isBase64Encoded ? Buffer.from(event.body, 'base64') : Buffer.from(event.body, 'utf8');
}

/** One problem with a request value: the field's path and a stable code, never the value itself. */
export interface ValidationIssue {
  readonly field: string;
  readonly problem: string;
}

/**
 * Validates `value` with `schema`; on failure throws a 400 HttpError whose body lists the fields at fault as
 * `issues` (unknown fields as `unknown_field`). `what` names the value in the message (`body`, `query`, ...).
 */
export function validate<S extends z.ZodMiniType>(schema: S, value: unknown, what: string): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issues = validationIssues(parsed.error);
  throw new HttpError(400, 'bad_request', `invalid ${what}`, { reason: `${what.toUpperCase()}_INVALID`, details: { issues }, log: { issues } });
}

const FIELD_NAME = /^[A-Za-z][A-Za-z0-9]{0,30}$/;

/** The first ten issues of a zod error as field paths and codes (unknown keys named only when they look like field names). */
export function validationIssues(error: z.core.$ZodError): ValidationIssue[] {
  const out: ValidationIssue[] = [];
  for (const issue of error.issues) {
    const path = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') {
      // An unknown key is client text: it is named back (and logged) only when it looks like a field name, so a
      // credential pasted as a key (`gh_live_...`, a JWT, a secret) is never echoed or written to a log.
      for (const key of issue.keys) out.push({ field: [path, FIELD_NAME.test(key) ? key : '(unnamed)'].filter(Boolean).join('.'), problem: 'unknown_field' });
    } else {
      // A custom refinement's message is ours (a code such as `no_field_to_change`), never the input.
      const problem = issue.code === 'custom' ? issue.message : issue.code;
      out.push({ field: path.slice(0, 64) || '(root)', problem });
    }
  }
  return out.slice(0, 10);
}

function header(headers: APIGatewayProxyEvent['headers'] | null | undefined, name: string): string | undefined {
  // API Gateway REST keeps the client's header case.
  for (const [k, v] of Object.entries(headers ?? {})) if (k.toLowerCase() === name) return v;
  return undefined;
}

function isJsonMediaType(contentType: string | undefined): boolean {
  const type = contentType?.split(';')[0]?.trim().toLowerCase();
  return type === 'application/json' || (type !== undefined && /^application\/[a-z0-9.+-]+\+json$/.test(type));
}
