import { TtlLru } from '../../../lambdas/authorizer/lru';

function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => void (t += ms) };
}

describe('TtlLru', () => {
  it('keeps an entry while its age is at most its TTL, and drops it after', () => {
    // Prepare
    const c = clock();
    const cache = new TtlLru<string, string>(10, c.now);
    cache.set('k', 'v', 1000);

    // Act
    c.advance(1000);
    const atTtl = cache.get('k');
    c.advance(1);
    const after = cache.get('k');

    // Assert
    expect(atTtl).toBe('v');
    expect(after).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('reads the clock on every access (an entry never outlives its TTL on a stale reading)', () => {
    // Prepare
    const now = jest.fn(() => 0);
    const cache = new TtlLru<string, number>(10, now);
    cache.set('k', 1, 50);

    // Act
    now.mockReturnValue(51);

    // Assert
    expect(cache.get('k')).toBeUndefined();
    expect(now).toHaveBeenCalledTimes(2);
  });

  it('gives each entry its own TTL', () => {
    // Prepare
    const c = clock();
    const cache = new TtlLru<string, string>(10, c.now);
    cache.set('hit', 'record', 60_000);
    cache.set('miss', 'none', 10_000);

    // Act
    c.advance(10_001);

    // Assert
    expect(cache.get('miss')).toBeUndefined();
    expect(cache.get('hit')).toBe('record');
  });

  it('evicts the least recently used entry when full; a read makes an entry recent', () => {
    // Prepare
    const c = clock();
    const cache = new TtlLru<string, number>(3, c.now);
    cache.set('a', 1, 1000);
    cache.set('b', 2, 1000);
    cache.set('c', 3, 1000);

    // Act
    cache.get('a');
    cache.set('d', 4, 1000);

    // Assert
    expect(cache.size).toBe(3);
    expect(cache.get('b')).toBeUndefined();
    expect([cache.get('a'), cache.get('c'), cache.get('d')]).toEqual([1, 3, 4]);
  });

  it('replaces an entry on set, restarting its TTL, without growing', () => {
    // Prepare
    const c = clock();
    const cache = new TtlLru<string, number>(2, c.now);
    cache.set('a', 1, 100);
    c.advance(90);

    // Act
    cache.set('a', 2, 100);
    c.advance(90);

    // Assert
    expect(cache.get('a')).toBe(2);
    expect(cache.size).toBe(1);
  });

  it('stores nothing for a TTL that is not positive, and drops the older entry', () => {
    // Prepare
    const cache = new TtlLru<string, number>(2, clock().now);
    cache.set('a', 1, 100);

    // Act
    cache.set('a', 2, 0);
    cache.set('b', 3, Number.NaN);

    // Assert
    expect(cache.get('a')).toBeUndefined();
    expect(cache.get('b')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('treats __proto__ and constructor as ordinary keys', () => {
    // Prepare
    const cache = new TtlLru<string, string>(10, clock().now);

    // Act
    cache.set('__proto__', 'p', 100);

    // Assert
    expect(cache.get('__proto__')).toBe('p');
    expect(cache.get('constructor')).toBeUndefined();
  });

  it.each([0, -1, 1.5, Number.NaN])('refuses a bound of %p entries', (max) => {
    expect(() => new TtlLru(max, Date.now)).toThrow(RangeError);
  });
});
