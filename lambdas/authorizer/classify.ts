import { looksLikeApiKey } from './api-key';
import { AuthError } from './errors';

/** A credential by shape, before any verification. */
export type Credential =
  | { readonly kind: 'jwt'; readonly token: string }
  | { readonly kind: 'apiKey'; readonly key: string }
  | { readonly kind: 'service'; readonly service: string; readonly secret: string };

/** The header parts of an API Gateway REST REQUEST authorizer event. */
export interface RequestHeaders {
  readonly headers?: Record<string, string | undefined> | null;
  readonly multiValueHeaders?: Record<string, (string | undefined)[] | undefined> | null;
}

export interface ClassifyOptions {
  readonly maxAuthorizationBytes: number;
  /** Whether any route accepts services: otherwise `X-Service-Name` is refused outright. */
  readonly servicesAccepted: boolean;
}

export const AUTHORIZATION = 'authorization';
export const SERVICE_NAME = 'x-service-name';

// RFC 6750 b64token after exactly one space; the scheme is case-insensitive (RFC 9110 11.1).
const BEARER = /^bearer ([A-Za-z0-9\-._~+/]+=*)$/i;
const JWT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/**
 * Classifies the request's credential by shape alone, with no I/O. Anything ambiguous is refused: two
 * Authorization headers, a malformed header, or a value that is neither a JWT nor an API key.
 */
export function classify(req: RequestHeaders, opts: ClassifyOptions): Credential {
  const authorization = single(req, AUTHORIZATION);
  if (authorization === undefined) throw new AuthError('CREDENTIAL_MISSING');
  // The size cap comes before any parsing: a huge header costs one length check, nothing more.
  if (authorization.length > opts.maxAuthorizationBytes || Buffer.byteLength(authorization, 'utf8') > opts.maxAuthorizationBytes) {
    throw new AuthError('AUTHORIZATION_TOO_LARGE');
  }
  const m = BEARER.exec(authorization);
  if (!m) throw new AuthError('AUTHORIZATION_MALFORMED');
  const value = m[1]!;

  const service = single(req, SERVICE_NAME);
  if (service !== undefined) {
    if (!opts.servicesAccepted) throw new AuthError('SERVICE_NOT_ACCEPTED');
    return { kind: 'service', service, secret: value };
  }
  if (JWT.test(value)) return { kind: 'jwt', token: value };
  if (looksLikeApiKey(value)) return { kind: 'apiKey', key: value };
  throw new AuthError('CREDENTIAL_UNRECOGNIZED');
}

/**
 * The one value of a header, looked up case-insensitively across both of API Gateway's header maps. More than
 * one value (repeated header, or the same name in two casings) is refused (CREDENTIAL_MULTIPLE) rather than
 * guessed at.
 */
export function singleHeader(req: RequestHeaders, name: string): string | undefined {
  return single(req, name.toLowerCase());
}

function single(req: RequestHeaders, name: string): string | undefined {
  // Allocation-free: this runs on every request. Header names compare case-insensitively; lengths first.
  let multiValue: string | undefined;
  let count = 0;
  const multi = req.multiValueHeaders;
  if (multi) {
    for (const k in multi) {
      if (k.length !== name.length || !Object.hasOwn(multi, k) || k.toLowerCase() !== name) continue;
      for (const v of multi[k] ?? []) {
        if (v === undefined) continue;
        if (count++ === 0) multiValue = v;
      }
    }
  }
  let singleValue: string | undefined;
  let singles = 0;
  const headers = req.headers;
  if (headers) {
    for (const k in headers) {
      if (k.length !== name.length || !Object.hasOwn(headers, k) || k.toLowerCase() !== name) continue;
      const v = headers[k];
      if (v === undefined) continue;
      if (singles++ === 0) singleValue = v;
    }
  }
  if (singles > 1 || count > 1) throw new AuthError('CREDENTIAL_MULTIPLE', { header: name });
  // `headers` holds the last value of each header: it must agree with multiValueHeaders when both are given.
  if (singles === 1 && count === 1 && singleValue !== multiValue) throw new AuthError('CREDENTIAL_MULTIPLE', { header: name });
  return count === 1 ? multiValue : singleValue;
}
