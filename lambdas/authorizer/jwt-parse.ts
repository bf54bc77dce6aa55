/**
 * Reading a JWT's text before anything is trusted: its base64url segments, each with exactly one spelling, and its
 * protected header and payload as JSON objects. What a header or payload says is judged by the verifier (jwt.ts).
 */
import { isUtf8 } from 'node:buffer';
import { AuthError } from './errors';

/** A protected header as read: the object, and whether its bytes are valid UTF-8. */
export interface JwtHeader {
  readonly header: Readonly<Record<string, unknown>>;
  readonly utf8: boolean;
}

/**
 * Decodes one base64url segment, strictly: a segment that does not re-encode to itself (padding, `+`/`/`, non-zero
 * unused bits, a dangling character) is refused with JWT_MALFORMED, so one token has exactly one spelling.
 */
export function canonicalBytes(seg: string): Buffer {
  const bytes = Buffer.from(seg, 'base64url');
  if (bytes.toString('base64url') !== seg) throw new AuthError('JWT_MALFORMED', { part: 'encoding' });
  return bytes;
}

/**
 * Headers read so far, by their segment: a handful of spellings (one per issuer, algorithm and kid) serve nearly every
 * token, and reading one is a base64url round trip, a UTF-8 check and a JSON.parse. Only headers that read as a JSON
 * object are kept, frozen; what a header says is checked afresh for every token. Bounded: cleared when full.
 *
 * A memo of a pure function, not a cache of decisions: clearing it costs only re-reads, so it needs no eviction order.
 */
const HEADERS = new Map<string, JwtHeader>();
/** How many header spellings are kept before the memo starts over. */
export const HEADER_MEMO_MAX_ENTRIES = 256;
/** Longer header segments are read every time and never kept. */
export const HEADER_MEMO_MAX_CHARS = 512;

/**
 * The protected header of a token, from its first segment: canonical base64url, a JSON object (read leniently as
 * UTF-8; `utf8` says whether the strict reading would accept it). Throws JWT_MALFORMED otherwise.
 */
export function parsedHeader(seg: string): JwtHeader {
  const known = HEADERS.get(seg);
  if (known !== undefined) return known;
  const bytes = canonicalBytes(seg);
  const read: JwtHeader = { header: Object.freeze(jsonObject(bytes)), utf8: isUtf8(bytes) };
  if (seg.length <= HEADER_MEMO_MAX_CHARS) {
    if (HEADERS.size >= HEADER_MEMO_MAX_ENTRIES) HEADERS.clear();
    HEADERS.set(seg, read);
  }
  return read;
}

/** For tests: how many header spellings the memo holds. */
export function headerMemoSize(): number {
  return HEADERS.size;
}

/**
 * A segment's bytes as a JSON object (read leniently as UTF-8; the strict reading comes later, where jose's did).
 * Throws JWT_MALFORMED for anything that is not JSON or not an object.
 */
export function jsonObject(bytes: Buffer): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new AuthError('JWT_MALFORMED', { part: 'json' });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new AuthError('JWT_MALFORMED', { part: 'json' });
  return value as Record<string, unknown>;
}
