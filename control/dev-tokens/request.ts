/**
 * What `tokens mint` asks of a development token, and the helpers every provider's shape uses (claims.ts,
 * hosted-claims.ts).
 */
import { randomBytes } from 'node:crypto';
import { type ClaimPath, claimSegments } from '../../contract/claim-path';
import { UsageError } from '../target';

/** What a development token should say, as `tokens mint` takes it. */
export interface DevTokenRequest {
  readonly sub: string;
  /** Where the issuer reads the tenant (for Entra, its `tid`: one of the configured directories). */
  readonly tenant?: string;
  readonly scopes: readonly string[];
  readonly roles: readonly string[];
  readonly ttlSeconds: number;
  /** Seconds since the epoch: `iat`. */
  readonly now: number;
  /** Cognito: `access` or `id` (default: the issuer's tokenUse). */
  readonly tokenUse?: 'access' | 'id';
  /** The app the token is for: Cognito `client_id`/`aud`, WorkOS's client (its `iss`), an OIDC issuer's client claim. */
  readonly clientId?: string;
  /** `aud`: Auth0, Entra, WorkOS, OIDC (default: the first configured). */
  readonly audience?: string;
  /** `azp`: Clerk (default: the first authorized party), Auth0, Entra (default: a made-up client). */
  readonly azp?: string;
}

/** A token's claims and protected-header extras, before signing. */
export interface DevToken {
  readonly claims: Claims;
  /** `typ: JWT` where the provider's header has it (Cognito's documented header has only `kid` and `alg`). */
  readonly typ?: 'JWT';
  /** The session id claim's value, when the token has one (for `sessions revoke`). */
  readonly sessionId?: string;
  /** What a person should know about this token (printed on stderr). */
  readonly notes: readonly string[];
}

export type Claims = Record<string, unknown>;

/** Sets `value` at `path` when the issuer reads that claim; a value for a claim it does not read is refused. */
export function optionalClaim(claims: Claims, path: ClaimPath | undefined, value: unknown, flag: string): void {
  if (value === undefined) return;
  if (path === undefined) throw new UsageError(`${flag}: this issuer reads no such claim (see its configuration)`);
  setClaim(claims, path, value);
}

/**
 * Sets a claim at a claim path (contract/claim-path.ts): nested objects for a dotted path or an array of names, one
 * top-level name otherwise (`custom:tenant_id`, `https://example.com/roles`). Defined as own data properties, so a
 * name such as `__proto__` is a claim, never the prototype.
 */
export function setClaim(claims: Claims, path: ClaimPath, value: unknown): void {
  const at = claimSegments(path);
  let cur: Claims = claims;
  for (const name of at.slice(0, -1)) {
    const next = Object.prototype.hasOwnProperty.call(cur, name) ? cur[name] : undefined;
    if (next !== null && typeof next === 'object' && !Array.isArray(next)) {
      cur = next as Claims;
    } else {
      const made: Claims = {};
      define(cur, name, made);
      cur = made;
    }
  }
  define(cur, at.at(-1)!, value);
}

function define(o: Claims, name: string, value: unknown): void {
  Object.defineProperty(o, name, { value, enumerable: true, writable: true, configurable: true });
}

/** The first of a configured value or list. */
export const first = (v: string | readonly string[] | undefined): string | undefined => (typeof v === 'string' ? v : v?.[0]);

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** A ULID (26 characters of Crockford base32: 48 bits of milliseconds, 80 random bits), as WorkOS ids end. */
export function ulid(nowSeconds: number): string {
  let time = nowSeconds * 1000;
  let head = '';
  for (let i = 0; i < 10; i++) {
    head = CROCKFORD[time % 32] + head;
    time = Math.floor(time / 32);
  }
  return head + [...randomBytes(16)].map((b) => CROCKFORD[b % 32]).join('');
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** `n` random letters and digits (Clerk's and Auth0's ids look so). */
export function alnum(n: number): string {
  return [...randomBytes(n)].map((b) => ALNUM[b % ALNUM.length]).join('');
}
