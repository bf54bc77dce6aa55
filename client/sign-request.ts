import { randomBytes } from 'node:crypto';
import { NONCE_PATTERN, TIMESTAMP_PATTERN, canonicalString, formatSignatureHeader, sha256Hex, signatureOf } from '../contract/signing';
import { CONTENT_SHA256_HEADER } from '../contract/headers';
import { CALLER_NAME_PATTERN } from '../contract/patterns';

/**
 * The client side of Gatehouse's signed requests (GH-HMAC-SHA256): signs a request as the authorizer checks it,
 * on the one definition in contract/signing.ts. Node 20+ (node:crypto and the global fetch); no other
 * dependency. See docs/signed-requests.md.
 *
 *     const { headers } = signRequest({ method: 'POST', url, body, caller: 'acme-relay', secret });
 *     await fetch(url, { method: 'POST', body, headers: { ...headers, 'Content-Type': 'application/json' } });
 *
 *     const gh = signedFetch('acme-relay', secret);
 *     await gh(url, { method: 'POST', body, headers: { 'Content-Type': 'application/json' } });
 *
 * The URL's path is signed exactly as it is sent (`new URL(url).pathname`: on API Gateway's default execute-api
 * endpoint it starts with the stage, e.g. `/prod/v1/webhooks/stripe`), and its query as its decoded parameters.
 * A `+` in the query is refused: URLSearchParams reads it as a space, a server may read it as a plus, and a
 * signature must not depend on which. Encode a space as `%20` and a plus as `%2B` (encodeURIComponent does).
 * Errors never contain the secret (nor, in case arguments were swapped, the caller name).
 */

/** A body that can be signed: its bytes are known before it is sent. A string is sent, and hashed, as UTF-8. */
export type SignableBody = string | Uint8Array;

export interface SignRequestInput {
  /** The HTTP method as sent (signed uppercased; send it uppercased too). */
  readonly method: string;
  /** The full URL, with the stage in the path on API Gateway's default endpoint. */
  readonly url: string | URL;
  /** The body exactly as sent; undefined (or none) is the empty body. */
  readonly body?: SignableBody | undefined;
  /** The signer's name, as in the configuration's `signers`. */
  readonly caller: string;
  /** The signer's secret: the string value in Secrets Manager (its UTF-8 bytes are the HMAC key). */
  readonly secret: string;
  /** The time to sign at: a Date, or milliseconds since the epoch (as Date.now()). Default: now. */
  readonly now?: Date | number | undefined;
  /** A fresh nonce per request (16-128 of A-Z a-z 0-9 _ -). Default: 16 random bytes, base64url. */
  readonly nonce?: string | undefined;
}

/** A type, not an interface, so that it passes as a HeadersInit / Record<string, string> to any HTTP client. */
export type SignedHeaders = {
  readonly Authorization: string;
  readonly [CONTENT_SHA256_HEADER]: string;
};

export interface SignedRequest {
  /** The two headers to send with the request. */
  readonly headers: SignedHeaders;
  /** The string that was signed (no secret in it): compare it with the authorizer's when a signature fails. */
  readonly canonical: string;
}

/** Invalid input to signRequest/signedFetch. Its message never contains the secret. */
export class SignRequestError extends Error {
  override readonly name = 'SignRequestError';
}

/** HTTP method: an RFC 9110 token. */
const METHOD_PATTERN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,32}$/;
/** A `%` not followed by two hex digits: URLSearchParams keeps it literally, servers may refuse or differ. */
const BAD_PERCENT = /%(?![0-9A-Fa-f]{2})/;

/** Signs one request: the Authorization and X-Content-SHA256 headers for it. */
export function signRequest(input: SignRequestInput): SignedRequest {
  if (input === null || typeof input !== 'object') throw new SignRequestError('signRequest: expected an object { method, url, body?, caller, secret }');
  const { method, url, body, caller, secret, now, nonce } = input;
  checkSecret(secret);
  checkCaller(caller);
  if (typeof method !== 'string' || !METHOD_PATTERN.test(method)) {
    throw new SignRequestError('signRequest: method must be an HTTP method name such as GET or POST');
  }
  const target = parseUrl(url);
  const query = queryOf(target);
  const timestamp = timestampOf(now);
  const n = nonce === undefined ? newNonce() : nonce;
  if (typeof n !== 'string' || !NONCE_PATTERN.test(n)) {
    throw new SignRequestError('signRequest: nonce must be 16-128 characters of A-Z a-z 0-9 _ - (use a fresh random one per request)');
  }
  const bodySha256 = sha256Hex(bodyOf(body, 'signRequest') ?? '');

  const header = { caller, timestamp, nonce: n };
  const canonical = canonicalString(header, { method, path: target.pathname, query, bodySha256 });
  const signature = signatureOf(secret, canonical).toString('hex');
  return {
    headers: { Authorization: formatSignatureHeader({ ...header, signature }), [CONTENT_SHA256_HEADER]: bodySha256 },
    canonical,
  };
}

/** A fresh nonce: 16 random bytes in base64url (22 characters). */
export function newNonce(): string {
  return randomBytes(16).toString('base64url');
}

export type FetchLike = (input: string | URL, init?: RequestInit) => Promise<Response>;

export interface SignedFetchOptions {
  /** The fetch to call (default: the global fetch). */
  readonly fetch?: FetchLike;
  /** The clock, in milliseconds since the epoch (default: Date.now). */
  readonly now?: () => number;
}

/**
 * A fetch that signs every request as `caller` with `secret`: fetch(url, init) with the method from init (default
 * GET) and a body that is a string, a Uint8Array (a Buffer is one) or none. A stream, Blob, FormData or
 * URLSearchParams body is refused (its bytes are not known before it is sent); so is a Request as input, and
 * headers that already carry Authorization or X-Content-SHA256. Each call signs afresh (new nonce and timestamp),
 * so a retry through it is never a replay.
 */
export function signedFetch(caller: string, secret: string, options: SignedFetchOptions = {}): FetchLike {
  checkSecret(secret);
  checkCaller(caller);
  const clock = options.now ?? Date.now;
  return async (input, init = {}) => {
    const doFetch = options.fetch ?? globalThis.fetch;
    if (typeof input !== 'string' && !(input instanceof URL)) {
      throw new SignRequestError('signedFetch: pass the URL (a string or URL) and an init object, not a Request: its body cannot be read before it is sent');
    }
    const method = (init.method ?? 'GET').toUpperCase();
    const body = bodyOf(init.body ?? undefined, 'signedFetch');
    const headers = new Headers(init.headers);
    for (const name of ['Authorization', CONTENT_SHA256_HEADER]) {
      if (headers.has(name)) throw new SignRequestError(`signedFetch: init.headers already has ${name}; signedFetch sets it`);
    }
    const signed = signRequest({ method, url: input, body, caller, secret, now: clock() });
    for (const [name, value] of Object.entries(signed.headers)) headers.set(name, value);
    return doFetch(input, { ...init, method, headers, ...(body === undefined ? {} : { body }) });
  };
}

function checkSecret(secret: unknown): asserts secret is string {
  if (typeof secret !== 'string' || secret.length === 0) {
    throw new SignRequestError('the secret must be a non-empty string (the signer secret value from Secrets Manager)');
  }
}

function checkCaller(caller: unknown): asserts caller is string {
  // The value is not echoed: were the arguments swapped, it would be the secret.
  if (typeof caller !== 'string' || !CALLER_NAME_PATTERN.test(caller)) {
    throw new SignRequestError('the caller must be a signer name: 2-63 lowercase letters, digits and dashes, starting with a letter');
  }
}

function parseUrl(url: unknown): URL {
  if (url instanceof URL) return url;
  if (typeof url === 'string') {
    try {
      return new URL(url);
    } catch {
      // Not echoed either (nor is the URL parser's error, which carries the input).
      throw new SignRequestError('signRequest: url must be an absolute URL such as https://api.example.com/prod/v1/things');
    }
  }
  throw new SignRequestError('signRequest: url must be a string or a URL');
}

/** The decoded query parameters, each with all of its values (as API Gateway's multiValueQueryStringParameters). */
function queryOf(url: URL): Record<string, string[]> {
  const raw = url.search;
  if (raw.includes('+')) {
    throw new SignRequestError(
      "signRequest: the URL's query contains '+', which means a space to some parsers and a plus to others; " +
        'encode a space as %20 and a plus as %2B (encodeURIComponent does)',
    );
  }
  if (BAD_PERCENT.test(raw)) {
    throw new SignRequestError("signRequest: the URL's query has a '%' that is not followed by two hex digits; encode a percent sign as %25");
  }
  // No prototype: a parameter may be called __proto__, constructor or valueOf.
  const query: Record<string, string[]> = Object.create(null);
  for (const [key, value] of url.searchParams) (query[key] ??= []).push(value);
  return query;
}

function timestampOf(now: Date | number | undefined): number {
  const ms = now === undefined ? Date.now() : now instanceof Date ? now.getTime() : now;
  const seconds = typeof ms === 'number' && Number.isFinite(ms) ? Math.floor(ms / 1000) : NaN;
  if (!TIMESTAMP_PATTERN.test(String(seconds))) {
    throw new SignRequestError('signRequest: now must be a valid Date or milliseconds since the epoch (as Date.now())');
  }
  return seconds;
}

function bodyOf(body: unknown, fn: string): SignableBody | undefined {
  if (body === undefined || typeof body === 'string' || body instanceof Uint8Array) return body;
  const streamy = typeof body === 'object' && body !== null && (Symbol.asyncIterator in body || 'getReader' in body || 'pipe' in body);
  throw new SignRequestError(
    streamy
      ? `${fn}: a stream body cannot be signed: its SHA-256 must be known before it is sent; read it into a Buffer first`
      : `${fn}: the body must be a string, a Uint8Array (or Buffer) or undefined; serialize it first (e.g. JSON.stringify)`,
  );
}
