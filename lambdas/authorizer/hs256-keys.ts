/**
 * The key source of issuers that sign with HS256: each issuer's own secret from Secrets Manager (through the
 * SecretStore's cache), imported as a key once per distinct secret.
 */
import { AuthError } from './errors';
import type { IssuerSpec } from './issuers';
import { type VerificationKey, hmacKey } from './jws';
import { isWeakSecret } from '../../contract/secret-strength';
import type { SecretStore, SecretVersions } from './secrets';

/** RFC 7518 3.2: an HS256 key must be at least as long as the hash output. */
export const MIN_HS256_SECRET_BYTES = 32;

/** An HS256 secret as last read, and its key. */
interface HsKey {
  secret: Buffer;
  readonly key: VerificationKey;
  /** When the SecretStore read the secret (its `loadedAt`). */
  loadedAt: number;
}

/** What {@link Hs256Keys} reads secrets with. */
export interface Hs256KeysDeps {
  readonly secrets: Pick<SecretStore, 'get'>;
  /** Milliseconds since the epoch. */
  readonly now: () => number;
  /** How long a secret that cannot be re-read may still be used past its TTL. */
  readonly maxStaleSeconds: number;
}

/**
 * HS256 keys by issuer (`keys.hs256SecretId`). The same key object comes back for as long as the secret reads back
 * the same bytes, so a cache of verifications can compare keys by identity: a rotation makes a new key.
 */
export class Hs256Keys {
  private readonly known = new Map<string, HsKey>();

  constructor(private readonly deps: Hs256KeysDeps) {}

  /**
   * The issuer's HS256 key without asking the SecretStore, while the copy it last handed out is within the issuer's
   * secret TTL: exactly when the store itself would answer from that copy (fresh while now - loadedAt < TTL).
   */
  fresh(spec: IssuerSpec): VerificationKey | undefined {
    const known = this.known.get(spec.keys.hs256SecretId!);
    return known !== undefined && this.deps.now() - known.loadedAt < spec.secretCacheTtlSeconds * 1000 ? known.key : undefined;
  }

  /**
   * The issuer's HS256 key: its secret as Secrets Manager holds it now (through the SecretStore's cache), imported
   * once. A re-read that finds the same bytes keeps the same key (cached verifications stand); a rotation makes a
   * new one (they do not). Refuses with JWT_SECRET_UNAVAILABLE when the secret cannot be read, is missing or is weak.
   */
  async read(spec: IssuerSpec): Promise<VerificationKey> {
    const id = spec.keys.hs256SecretId!;
    let versions: SecretVersions;
    try {
      versions = await this.deps.secrets.get(id, {
        ttlSeconds: spec.secretCacheTtlSeconds,
        maxStaleSeconds: this.deps.maxStaleSeconds,
        stages: 'current',
      });
    } catch (err) {
      throw new AuthError('JWT_SECRET_UNAVAILABLE', { issuer: spec.id }, { cause: err });
    }
    const secret = versions.current;
    const known = this.known.get(id);
    if (known !== undefined && secret !== undefined && known.secret === secret) {
      known.loadedAt = versions.loadedAt;
      return known.key;
    }
    if (!secret || isWeakSecret(secret, MIN_HS256_SECRET_BYTES)) {
      // A short secret can be brute-forced offline from any one token: refuse to verify with it at all.
      throw new AuthError('JWT_SECRET_UNAVAILABLE', { issuer: spec.id, weak: true });
    }
    // Two copies of the authorizer's own secret, not attacker input: an ordinary comparison is fine.
    if (known !== undefined && known.secret.equals(secret)) {
      known.secret = secret;
      known.loadedAt = versions.loadedAt;
      return known.key;
    }
    const key = hmacKey(secret);
    this.known.set(id, { secret, key, loadedAt: versions.loadedAt });
    return key;
  }
}
