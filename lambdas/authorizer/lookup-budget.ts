/**
 * A per-container budget of DynamoDB lookups for API keys this container has never found (a token bucket: `perSecond`
 * tokens a second, at most `perSecond` saved up). CRC-32 is public, so anyone can make keys that pass the checksum;
 * without a budget each costs a GetItem, and a flood of them is billed per read and competes with real callers for
 * the table's capacity. Keys whose record this container has found (active or not) are remembered apart and never
 * spend from the budget, and forged keys never enter that memory, so a flood cannot push a known key out of it.
 *
 * The trade-off: a valid key this container has never found, presented while a flood has spent the budget, is
 * refused (401 APIKEY_LOOKUP_BUDGET_EXCEEDED) until the budget refills; its client's retry a second later gets its
 * lookup. Keys in use are found on their first request and are not affected afterwards.
 */
export class LookupBudget {
  private tokens: number;
  private at: number;

  constructor(
    private readonly perSecond: number,
    private readonly now: () => number,
  ) {
    this.tokens = perSecond;
    this.at = now();
  }

  /** Spends one lookup if the budget has one; false when it is spent. */
  take(): boolean {
    const t = this.now();
    // A clock that goes back (an injected one) refills nothing rather than draining.
    this.tokens = Math.min(this.perSecond, this.tokens + (Math.max(0, t - this.at) * this.perSecond) / 1000);
    this.at = t;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
