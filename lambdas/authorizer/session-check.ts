import { AuthError } from './errors';
import type { UserPrincipal } from './jwt';
import type { RevokedSessionStore } from './store';

/**
 * Session deny list: a revoked session is refused until its item's `ttl` (absent: for good). One store per issuer
 * that asks for it (`revokedSessions`); users of other issuers are not looked up.
 */
export class SessionCheck {
  constructor(
    /** The deny list of each issuer that has one, by issuer id. */
    private readonly stores: ReadonlyMap<string, RevokedSessionStore>,
    private readonly now: () => number,
  ) {}

  /** Resolves when the user's session is not revoked; throws SESSION_MISSING, SESSION_REVOKED or SESSION_STORE_UNAVAILABLE. */
  async check(user: UserPrincipal): Promise<void> {
    const store = this.stores.get(user.issuerId);
    if (!store) return;
    // Without a session id there is nothing to look up, and so no way to know it was not revoked: fail closed.
    if (user.sessionId === undefined) throw new AuthError('SESSION_MISSING', { issuer: user.issuerId });
    let revoked;
    try {
      revoked = await store.get(user.sessionId);
    } catch (err) {
      throw new AuthError('SESSION_STORE_UNAVAILABLE', { issuer: user.issuerId }, { cause: err });
    }
    // DynamoDB deletes expired items lazily: an item past its `ttl` may still be read, and no longer denies.
    if (revoked && (revoked.expiresAt === undefined || revoked.expiresAt * 1000 > this.now())) {
      throw new AuthError('SESSION_REVOKED', { issuer: user.issuerId });
    }
  }
}
