import { createHash, timingSafeEqual } from 'node:crypto';
import type { AuthorizerConfig } from '../../contract/config';
import { type RequestHeaders, readCookie, singleHeader } from './classify';
import { AuthError } from './errors';

/** A double-submit token shorter than this is refused: 16 characters of base64url are 96 random bits. */
export const MIN_CSRF_TOKEN_LENGTH = 16;

const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);

/** What of the request the CSRF check reads: its method and headers (Origin, the CSRF header, Cookie). */
export interface CsrfRequest extends RequestHeaders {
  readonly httpMethod: string;
}

/**
 * The CSRF check of a cookie credential on a mutating request: a browser attaches cookies to requests that other
 * sites make it send, so the cookie alone proves nothing about who wrote the request. Proof is the double-submit
 * token: the same value in the CSRF header and the CSRF cookie, which only the app's own pages can read and copy
 * (cookies of this site are not readable by others' scripts). When origins are configured, an Origin header
 * the browser sent must be one of them too. Safe methods (GET, HEAD, OPTIONS) change nothing and need no proof.
 *
 * Throws CSRF_ORIGIN_NOT_ALLOWED, CSRF_TOKEN_MISSING or CSRF_TOKEN_MISMATCH (all 403), or CREDENTIAL_MULTIPLE for a
 * repeated header or cookie. No I/O: it runs before the token is verified.
 */
export function checkCsrf(csrf: AuthorizerConfig['csrf'], event: CsrfRequest): void {
  if (SAFE_METHODS.has(event.httpMethod)) return;
  if (csrf.allowedOrigins.length) {
    const origin = singleHeader(event, 'origin');
    if (origin !== undefined && !csrf.allowedOrigins.includes(origin)) throw new AuthError('CSRF_ORIGIN_NOT_ALLOWED');
  }
  const header = singleHeader(event, csrf.header);
  const cookie = readCookie(event, csrf.cookie);
  if (!header || !cookie) throw new AuthError('CSRF_TOKEN_MISSING', { header: !!header, cookie: !!cookie });
  // A token too short to be random proves nothing; comparing digests keeps the comparison constant-time.
  const same = header.length >= MIN_CSRF_TOKEN_LENGTH && timingSafeEqual(sha256(header), sha256(cookie));
  if (!same) throw new AuthError('CSRF_TOKEN_MISMATCH');
}

const sha256 = (v: string) => createHash('sha256').update(v, 'utf8').digest();
