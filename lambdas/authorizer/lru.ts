/**
 * A bounded least-recently-used cache with a time to live per entry, for the stores' record caches and the JWT
 * verifier's verified tokens (jwt.ts: entries with no TTL; each hit re-checks the token's own time claims).
 *
 * A Map finds entries; a doubly linked list through them keeps the order of use, so a hit, an insert and an
 * eviction are each O(1). (Evicting with a Map's `keys().next()` is not: V8 walks every deleted slot from the front
 * until the table is rehashed, about 8 µs per insert at 10,000 entries and 67 µs at 100,000, which a flood of
 * unknown keys would pay on every request.) Nothing is allocated up front.
 *
 * The clock is read on every access, never cached: with an injected clock (tests) or a late timer, an entry must
 * not outlive its TTL. An entry is fresh while its age is at most its TTL, and an expired entry is deleted when it
 * is next read. Keys are compared as Map keys (SameValueZero); `__proto__` is an ordinary key.
 */
interface Node<K, V> {
  readonly key: K;
  value: V;
  start: number;
  ttlMs: number;
  /** Towards the most recently used end. */
  newer: Node<K, V> | undefined;
  /** Towards the least recently used end. */
  older: Node<K, V> | undefined;
}

export class TtlLru<K, V> {
  private readonly nodes = new Map<K, Node<K, V>>();
  private newest: Node<K, V> | undefined;
  private oldest: Node<K, V> | undefined;

  constructor(
    private readonly maxEntries: number,
    private readonly now: () => number,
  ) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new RangeError('maxEntries: a positive integer');
  }

  /** The live value under `key`, which becomes the most recently used; undefined if absent or expired (then dropped). */
  get(key: K): V | undefined {
    const node = this.nodes.get(key);
    if (node === undefined) return undefined;
    if (this.now() - node.start > node.ttlMs) {
      this.remove(node);
      return undefined;
    }
    this.unlink(node);
    this.pushNewest(node);
    return node.value;
  }

  /**
   * Stores `value` under `key` for `ttlMs` milliseconds from now, as the most recently used entry; evicts the least
   * recently used entry when the cache is full. A TTL that is not positive stores nothing (and drops an older entry);
   * a TTL of Infinity keeps the entry until it is evicted or deleted.
   */
  set(key: K, value: V, ttlMs: number): void {
    const existing = this.nodes.get(key);
    if (existing !== undefined) this.remove(existing);
    if (!(ttlMs > 0)) return;
    const node: Node<K, V> = { key, value, start: this.now(), ttlMs, newer: undefined, older: undefined };
    this.nodes.set(key, node);
    this.pushNewest(node);
    if (this.nodes.size > this.maxEntries && this.oldest !== undefined) this.remove(this.oldest);
  }

  delete(key: K): boolean {
    const node = this.nodes.get(key);
    if (node === undefined) return false;
    this.remove(node);
    return true;
  }

  /** Entries held, expired ones included until they are read or evicted. */
  get size(): number {
    return this.nodes.size;
  }

  private remove(node: Node<K, V>): void {
    this.unlink(node);
    this.nodes.delete(node.key);
  }

  private unlink(node: Node<K, V>): void {
    if (node.newer !== undefined) node.newer.older = node.older;
    else this.newest = node.older;
    if (node.older !== undefined) node.older.newer = node.newer;
    else this.oldest = node.newer;
    node.newer = node.older = undefined;
  }

  private pushNewest(node: Node<K, V>): void {
    node.older = this.newest;
    if (this.newest !== undefined) this.newest.newer = node;
    this.newest = node;
    this.oldest ??= node;
  }
}
