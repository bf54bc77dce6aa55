import { createHash, createHmac } from 'node:crypto';
import { CALLER_NAME_PATTERN, SHA256_HEX_PATTERN } from './patterns';

/**
 * Signed requests (HMAC-SHA256), the one definition shared by the authorizer (which checks a signature), the
 * handlers (which check that the body is the one signed) and the client helper (which signs). Dependency-free, so
 * every bundle can carry it.
 *
 * A caller sends two headers:
 *
 *     Authorization: GH-HMAC-SHA256 Caller=<name>, Timestamp=<unix seconds>, Nonce=<nonce>, Signature=<hex>
 *     X-Content-SHA256: <hex SHA-256 of the body as sent; of the empty string when there is none>
 *
 * The signature is the lowercase hex HMAC-SHA256, keyed by the caller's secret (the secret string's UTF-8 bytes),
 * of the canonical string: these eight lines joined by "\n", with no newline at the end:
 *
 *     GH-HMAC-SHA256
 *     <caller>
 *     <timestamp>
 *     <nonce>
 *     <METHOD>
 *     <path, exactly as in the request line: on API Gateway's default endpoint it starts with the stage>
 *     <canonical query: k=v pairs, RFC 3986-encoded, sorted by key then value, joined by &; empty when none>
 *     <body SHA-256, as in X-Content-SHA256>
 */
export const SIGNATURE_SCHEME = 'GH-HMAC-SHA256';

/** A nonce: 16 to 128 of A-Z a-z 0-9 _ - (a random 128-bit value in base64url is 22). */
export const NONCE_PATTERN = /^[A-Za-z0-9_-]{16,128}$/;
/** A timestamp: whole seconds since the epoch, digits only, no leading zero (one spelling per value: it is signed as a number). */
export const TIMESTAMP_PATTERN = /^(0|[1-9][0-9]{0,11})$/;

const AUTHORIZATION = /^GH-HMAC-SHA256 Caller=([^,\s]+), Timestamp=([^,\s]+), Nonce=([^,\s]+), Signature=([^,\s]+)$/;

/** The parts of a signed request's Authorization header. */
export interface SignatureHeader {
  readonly caller: string;
  /** Seconds since the epoch. */
  readonly timestamp: number;
  readonly nonce: string;
  /** 64 lowercase hex digits. */
  readonly signature: string;
}

/** What the canonical string covers besides the Authorization header's own parts. */
export interface SignedParts {
  readonly method: string;
  readonly path: string;
  /** Decoded query parameters, each with every value it has (as API Gateway's multiValueQueryStringParameters). */
  readonly query: Readonly<Record<string, readonly string[] | undefined>> | null | undefined;
  /** Lowercase hex SHA-256 of the body. */
  readonly bodySha256: string;
}

/** Whether an Authorization value uses the signing scheme (its exact spelling; it is then parsed strictly). */
export function isSignatureAuthorization(value: string): boolean {
  return value.startsWith(`${SIGNATURE_SCHEME} `);
}

/**
 * Parses `GH-HMAC-SHA256 Caller=..., Timestamp=..., Nonce=..., Signature=...`: these four, in this order, each
 * once, separated by a comma and one space. Anything else is undefined (malformed).
 */
export function parseSignatureHeader(value: string): SignatureHeader | undefined {
  const m = AUTHORIZATION.exec(value);
  if (!m) return undefined;
  const [, caller, timestamp, nonce, signature] = m as unknown as [string, string, string, string, string];
  if (!CALLER_NAME_PATTERN.test(caller) || !TIMESTAMP_PATTERN.test(timestamp) || !NONCE_PATTERN.test(nonce)) return undefined;
  if (!SHA256_HEX_PATTERN.test(signature)) return undefined;
  return { caller, timestamp: Number(timestamp), nonce, signature };
}

export function formatSignatureHeader(h: SignatureHeader): string {
  return `${SIGNATURE_SCHEME} Caller=${h.caller}, Timestamp=${h.timestamp}, Nonce=${h.nonce}, Signature=${h.signature}`;
}

/** RFC 3986 percent-encoding of everything but unreserved characters (encodeURIComponent leaves !'()* alone). */
export function encodeRfc3986(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** The canonical query: every key=value pair encoded, sorted by encoded key then encoded value, joined by `&`. */
export function canonicalQuery(query: SignedParts['query']): string {
  if (!query) return '';
  const pairs: [string, string][] = [];
  for (const key of Object.keys(query)) {
    for (const value of query[key] ?? []) pairs.push([encodeRfc3986(key), encodeRfc3986(value)]);
  }
  pairs.sort(([ka, va], [kb, vb]) => (ka < kb ? -1 : ka > kb ? 1 : va < vb ? -1 : va > vb ? 1 : 0));
  return pairs.map(([k, v]) => `${k}=${v}`).join('&');
}

/** The string a caller signs. */
export function canonicalString(header: Omit<SignatureHeader, 'signature'>, parts: SignedParts): string {
  return [
    SIGNATURE_SCHEME,
    header.caller,
    String(header.timestamp),
    header.nonce,
    parts.method.toUpperCase(),
    parts.path,
    canonicalQuery(parts.query),
    parts.bodySha256,
  ].join('\n');
}

/** HMAC-SHA256 of the canonical string under `secret`, as 32 bytes. */
export function signatureOf(secret: string | Uint8Array, canonical: string): Buffer {
  return createHmac('sha256', secret).update(canonical, 'utf8').digest();
}

/** Lowercase hex SHA-256 of a body (string bodies as UTF-8). */
export function sha256Hex(body: string | Uint8Array): string {
  return createHash('sha256').update(body).digest('hex');
}
