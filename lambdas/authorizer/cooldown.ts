/**
 * The attempt-and-failure clock shared by every read of a dependency the authorizer caches: an issuer's JWKS
 * (jwks.ts), a secret (secrets.ts) and the table's records (store.ts). One mechanism, so "a dependency known to be
 * down is not waited on again" means the same thing everywhere.
 *
 * The cooldown counts from when the last attempt started, not from when it failed: a read that hangs until its
 * timeout has already cost that long, and the next attempt is due `cooldownMs` after the first one began.
 */
export class Cooldown {
  private lastAttemptAt: number | undefined;
  /** The error of the last attempt, cleared by a successful one. */
  private lastFailure: unknown;
  private down = false;

  constructor(
    private readonly cooldownMs: number,
    private readonly now: () => number,
  ) {}

  /** Records that an attempt starts now. */
  attempt(): void {
    this.lastAttemptAt = this.now();
  }

  succeeded(): void {
    this.down = false;
    this.lastFailure = undefined;
  }

  failed(err: unknown): void {
    this.down = true;
    this.lastFailure = err;
  }

  /** Whether an attempt started less than `cooldownMs` ago (whatever its outcome). */
  coolingDown(): boolean {
    return this.lastAttemptAt !== undefined && this.now() - this.lastAttemptAt < this.cooldownMs;
  }

  /** Whether the last attempt failed and the next is not due yet: callers use what they hold, or fail, at once. */
  blocked(): boolean {
    return this.down && this.coolingDown();
  }

  /** Whether the last attempt failed (until one succeeds). */
  get failing(): boolean {
    return this.down;
  }

  /** The error of the last failed attempt (undefined after a success). */
  get failure(): unknown {
    return this.lastFailure;
  }
}
