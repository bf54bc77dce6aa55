import { looksLikeApiKey } from '../../contract/api-key';
import { AuthError } from './errors';
import { type SignatureHeader, isSignatureAuthorization, parseSignatureHeader } from '../../contract/signing';
import { AUTHORIZATION_HEADER, SERVICE_NAME_HEADER } from '../../contract/headers';
import { JWT_SHAPE_PATTERN } from '../../contract/patterns';

/** A credential by shape, before any verification. */
export type Credential =
  | { readonly kind: 'jwt'; readonly token: string; readonly source: 'header' | 'cookie' }
  | { readonly kind: 'apiKey'; readonly key: string }
  | { readonly kind: 'service'; readonly service: string; readonly secret: string }
  | { readonly kind: 'signed'; readonly header: SignatureHeader };

/** The header parts of an API Gateway REST REQUEST authorizer event. */
export interface RequestHeaders {
  readonly headers?: Record<string, string | undefined> | null;
  readonly multiValueHeaders?: Record<string, (string | undefined)[] | undefined> | null;
}

export interface ClassifyOptions {
  readonly maxAuthorizationBytes: number;
  /** Whether any route accepts services: otherwise `X-Service-Name` is refused outright. */
  readonly servicesAccepted: boolean;
  /** Whether any route accepts signed requests: otherwise a GH-HMAC-SHA256 Authorization is refused outright. */
  readonly signedAccepted?: boolean;
  /** The cookie that may carry the user's JWT on this request's route (the route's `cookie`). @default - none */
  readonly cookie?: string;
}

const AUTHORIZATION = AUTHORIZATION_HEADER.toLowerCase();
const SERVICE_NAME = SERVICE_NAME_HEADER.toLowerCase();

// RFC 6750 b64token after exactly one space; the scheme is case-insensitive (RFC 9110 11.1).
const BEARER = /^bearer ([A-Za-z0-9\-._~+/]+=*)$/i;

/**
 * Classifies the request's credential by shape alone, with no I/O. Anything ambiguous is refused: two
 * Authorization headers, a malformed header, or a value that is neither a JWT nor an API key.
 */
export function classify(req: RequestHeaders, opts: ClassifyOptions): Credential {
  const authorization = single(req, AUTHORIZATION);
  // Only on routes that take a cookie: elsewhere a browser's cookies are not a credential and are never read.
  const cookie = opts.cookie === undefined ? undefined : readCookie(req, opts.cookie);
  if (authorization === undefined) {
    if (cookie === undefined) throw new AuthError('CREDENTIAL_MISSING');
    if (cookie.length > opts.maxAuthorizationBytes || !JWT_SHAPE_PATTERN.test(cookie)) throw new AuthError('COOKIE_MALFORMED', { cookie: opts.cookie! });
    return { kind: 'jwt', token: cookie, source: 'cookie' };
  }
  // Two credentials could name two principals: refuse rather than pick one.
  if (cookie !== undefined) throw new AuthError('CREDENTIAL_AMBIGUOUS', { cookie: opts.cookie! });
  // The size cap comes before any parsing: a huge header costs one length check, nothing more.
  if (authorization.length > opts.maxAuthorizationBytes || Buffer.byteLength(authorization, 'utf8') > opts.maxAuthorizationBytes) {
    throw new AuthError('AUTHORIZATION_TOO_LARGE');
  }
  if (isSignatureAuthorization(authorization)) {
    if (!opts.signedAccepted) throw new AuthError('SIGNED_NOT_ACCEPTED');
    const header = parseSignatureHeader(authorization);
    if (!header) throw new AuthError('SIGNATURE_MALFORMED');
    return { kind: 'signed', header };
  }
  const m = BEARER.exec(authorization);
  if (!m) throw new AuthError('AUTHORIZATION_MALFORMED');
  const value = m[1]!;

  const service = single(req, SERVICE_NAME);
  if (service !== undefined) {
    if (!opts.servicesAccepted) throw new AuthError('SERVICE_NOT_ACCEPTED');
    return { kind: 'service', service, secret: value };
  }
  if (JWT_SHAPE_PATTERN.test(value)) return { kind: 'jwt', token: value, source: 'header' };
  if (looksLikeApiKey(value)) return { kind: 'apiKey', key: value };
  throw new AuthError('CREDENTIAL_UNRECOGNIZED');
}

/**
 * The value of one cookie across every Cookie header of the request (HTTP/2 clients may send several), or
 * undefined when it is absent or empty (a signed-out browser often keeps an emptied cookie). A cookie that
 * appears twice (e.g. set for two paths, or injected by a sibling subdomain) is refused: CREDENTIAL_MULTIPLE.
 * Values are taken as they are (no quotes stripped, no decoding): a JWT and a CSRF token need neither.
 */
export function readCookie(req: RequestHeaders, name: string): string | undefined {
  let found: string | undefined;
  let count = 0;
  for (const header of headerValues(req, 'cookie')) {
    for (const part of header.split(';')) {
      const eq = part.indexOf('=');
      if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
      if (count++ > 0) throw new AuthError('CREDENTIAL_MULTIPLE', { cookie: name });
      found = part.slice(eq + 1).trim();
    }
  }
  return found === '' ? undefined : found;
}

/** Every value of a header: multiValueHeaders when API Gateway gives them, otherwise the single-value map. */
function headerValues(req: RequestHeaders, name: string): string[] {
  const out: string[] = [];
  const pick = (map: Record<string, unknown> | null | undefined) => {
    if (!map) return;
    for (const k in map) {
      if (k.length !== name.length || !Object.hasOwn(map, k) || k.toLowerCase() !== name) continue;
      const v = map[k];
      for (const x of Array.isArray(v) ? v : [v]) if (typeof x === 'string') out.push(x);
    }
  };
  pick(req.multiValueHeaders);
  if (!req.multiValueHeaders) pick(req.headers);
  return out;
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
