import fc from 'fast-check';
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

describe('TtlLru against a model', () => {
  it('behaves like a plain list of entries ordered by use, for any sequence of gets, sets, deletes and clock steps', () => {
    const op = fc.oneof(
      fc.record({ op: fc.constant('get' as const), key: fc.integer({ min: 0, max: 6 }) }),
      fc.record({ op: fc.constant('set' as const), key: fc.integer({ min: 0, max: 6 }), ttl: fc.integer({ min: -1, max: 20 }) }),
      fc.record({ op: fc.constant('delete' as const), key: fc.integer({ min: 0, max: 6 }) }),
      fc.record({ op: fc.constant('tick' as const), ms: fc.integer({ min: 0, max: 8 }) }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.array(op, { maxLength: 60 }), (max, ops) => {
        let t = 0;
        const lru = new TtlLru<number, string>(max, () => t);
        // The model: oldest first.
        let model: { key: number; value: string; start: number; ttl: number }[] = [];
        ops.forEach((o, i) => {
          if (o.op === 'tick') t += o.ms;
          else if (o.op === 'delete') {
            expect(lru.delete(o.key)).toBe(model.some((e) => e.key === o.key));
            model = model.filter((e) => e.key !== o.key);
          } else if (o.op === 'set') {
            lru.set(o.key, `v${i}`, o.ttl);
            model = model.filter((e) => e.key !== o.key);
            if (o.ttl > 0) model.push({ key: o.key, value: `v${i}`, start: t, ttl: o.ttl });
            if (model.length > max) model.shift();
          } else {
            const e = model.find((x) => x.key === o.key);
            const live = e && t - e.start <= e.ttl ? e : undefined;
            expect(lru.get(o.key)).toBe(live?.value);
            model = model.filter((x) => x.key !== o.key);
            if (live) model.push(live);
          }
          expect(lru.size).toBe(model.length);
        });
      }),
      { numRuns: 500 },
    );
  });
});
