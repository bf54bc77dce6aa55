/**
 * A bounded least-recently-used cache with a time to live per entry, for the stores' record caches.
 *
 * A Map keeps insertion order, so the first key is the least recently used one when every hit re-inserts its key:
 * eviction is `keys().next()`, and nothing is allocated up front (lru-cache preallocates arrays of `max` slots,
 * about a millisecond per 10,000-entry cache at cold start, and is 18 KB of the bundle).
 *
 * The clock is read on every access, never cached: with an injected clock (tests) or a late timer, an entry must
 * not outlive its TTL. An entry is fresh while its age is at most its TTL (as lru-cache counts it), and an expired
 * entry is deleted when it is next read. Keys are compared as Map keys (SameValueZero); `__proto__` is an ordinary key.
 */
export class TtlLru<K, V> {
  private readonly entries = new Map<K, { readonly value: V; readonly start: number; readonly ttlMs: number }>();

  constructor(
    private readonly maxEntries: number,
    private readonly now: () => number,
  ) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new RangeError('maxEntries: a positive integer');
  }

  /** The live value under `key`, which becomes the most recently used; undefined if absent or expired (then dropped). */
  get(key: K): V | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    this.entries.delete(key);
    if (this.now() - entry.start > entry.ttlMs) return undefined;
    this.entries.set(key, entry);
    return entry.value;
  }

  /**
   * Stores `value` under `key` for `ttlMs` milliseconds from now, as the most recently used entry; evicts the least
   * recently used entry when the cache is full. A TTL that is not positive stores nothing (and drops an older entry).
   */
  set(key: K, value: V, ttlMs: number): void {
    this.entries.delete(key);
    if (!(ttlMs > 0)) return;
    this.entries.set(key, { value, start: this.now(), ttlMs });
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value as K);
  }

  delete(key: K): boolean {
    return this.entries.delete(key);
  }

  /** Entries held, expired ones included until they are read or evicted. */
  get size(): number {
    return this.entries.size;
  }
}
