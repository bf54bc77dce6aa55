import { createHash, randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { API_KEY_PREFIX_PATTERN } from './patterns';

/**
 * API keys: `<prefix>_<live|test>_<body><checksum>`.
 * - body: 64 lowercase hex characters, 256 random bits;
 * - checksum: 8 hex characters, CRC-32 of everything before it. It is not a secret and not a MAC: it lets a
 *   mistyped, truncated or random string be refused with no I/O (and so never reach DynamoDB), the way
 *   GitHub's token checksums do. Forging one is easy, which is why a well-formed key still costs one lookup.
 * Only the SHA-256 of the whole key is stored; the key itself is shown once, at creation.
 */
export type KeyEnvironment = 'live' | 'test';

export interface ParsedApiKey {
  readonly prefix: string;
  readonly environment: KeyEnvironment;
}

const SHAPE = new RegExp(`^(${API_KEY_PREFIX_PATTERN.source.slice(1, -1)})_(live|test)_([0-9a-f]{64})([0-9a-f]{8})$`);

/** A quick, I/O-free test of whether a bearer value is shaped like an API key (any prefix). */
export function looksLikeApiKey(value: string): boolean {
  return SHAPE.test(value);
}

export type ApiKeyParseResult =
  | { readonly ok: true; readonly key: ParsedApiKey }
  | { readonly ok: false; readonly reason: 'APIKEY_PREFIX_UNKNOWN' | 'APIKEY_CHECKSUM_INVALID' | 'CREDENTIAL_UNRECOGNIZED' };

export function parseApiKey(value: string, expectedPrefix: string): ApiKeyParseResult {
  const m = SHAPE.exec(value);
  if (!m) return { ok: false, reason: 'CREDENTIAL_UNRECOGNIZED' };
  if (m[1] !== expectedPrefix) return { ok: false, reason: 'APIKEY_PREFIX_UNKNOWN' };
  if (checksum(value.slice(0, -8)) !== m[4]) return { ok: false, reason: 'APIKEY_CHECKSUM_INVALID' };
  return { ok: true, key: { prefix: m[1], environment: m[2] as KeyEnvironment } };
}

/** A new key. The caller shows it once and stores only {@link hashApiKey} of it. */
export function generateApiKey(prefix: string, environment: KeyEnvironment): string {
  const head = `${prefix}_${environment}_${randomBytes(32).toString('hex')}`;
  return head + checksum(head);
}

/** The DynamoDB lookup key: lowercase hex SHA-256 of the whole key string. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

function checksum(head: string): string {
  return (crc32(head) >>> 0).toString(16).padStart(8, '0');
}
