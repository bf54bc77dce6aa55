import {
  DEFAULT_TIER,
  RATE_LIMIT_TIERS_ENV,
  RateLimitTiersError,
  parseRateLimitTiers,
  rateLimitTiersFromEnv,
  tierFor,
} from '../../contract/rate-limit-tiers';

describe('rate-limit tiers document', () => {
  it('adds the default tier (100/min, bursts to 200, fail open) when the document has none', () => {
    expect(DEFAULT_TIER).toEqual({ requestsPerMinute: 100, burst: 200, onLimiterError: 'open' });
    expect(parseRateLimitTiers({})).toEqual({ default: { requestsPerMinute: 100, burst: 200, onLimiterError: 'open' } });
  });

  it('keeps a default tier given in the document, fills in onLimiterError, and keeps monthly quotas', () => {
    // Act
    const tiers = parseRateLimitTiers({
      default: { requestsPerMinute: 30, burst: 30 },
      pro: { requestsPerMinute: 1000, burst: 2000, monthlyQuota: 5_000_000, onLimiterError: 'closed' },
    });

    // Assert
    expect(tiers).toEqual({
      default: { requestsPerMinute: 30, burst: 30, onLimiterError: 'open' },
      pro: { requestsPerMinute: 1000, burst: 2000, monthlyQuota: 5_000_000, onLimiterError: 'closed' },
    });
  });

  it('accepts a tier of 600,000 requests a minute (the leased limiter enforces it on one item)', () => {
    // Act
    const tiers = parseRateLimitTiers({ scale: { requestsPerMinute: 600_000, burst: 10_000 } });

    // Assert
    expect(tiers.scale).toEqual({ requestsPerMinute: 600_000, burst: 10_000, onLimiterError: 'open' });
  });

  it.each([
    [{ pro: { requestsPerMinute: 0, burst: 1 } }, 'pro.requestsPerMinute'],
    [{ pro: { requestsPerMinute: 1_000_001, burst: 1 } }, 'pro.requestsPerMinute'],
    [{ pro: { requestsPerMinute: 1.5, burst: 1 } }, 'pro.requestsPerMinute'],
    [{ pro: { requestsPerMinute: 10, burst: 0 } }, 'pro.burst'],
    [{ pro: { requestsPerMinute: 10 } }, 'pro.burst'],
    [{ pro: { requestsPerMinute: 10, burst: 5, monthlyQuota: -1 } }, 'pro.monthlyQuota'],
    [{ pro: { requestsPerMinute: 10, burst: 5, onLimiterError: 'maybe' } }, 'pro.onLimiterError'],
    [{ pro: { requestsPerMinute: 10, burst: 5, rpm: 10 } }, 'pro'],
    [{ default: 'fast' }, 'default'],
    [[], '(root)'],
  ])('refuses %j, naming %s', (doc, field) => {
    let err: unknown;
    try {
      parseRateLimitTiers(doc, 'tiers.json');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RateLimitTiersError);
    expect((err as RateLimitTiersError).fields).toContain(field);
    expect((err as Error).message).toMatch(new RegExp(`^tiers\\.json: .*${field.replace(/[.()]/g, '\\$&')}: `));
  });

  describe('rateLimitTiersFromEnv', () => {
    it(`reads ${RATE_LIMIT_TIERS_ENV} as JSON`, () => {
      const env = { [RATE_LIMIT_TIERS_ENV]: JSON.stringify({ pro: { requestsPerMinute: 600, burst: 900 } }) };
      expect(rateLimitTiersFromEnv(env)).toEqual({
        default: DEFAULT_TIER,
        pro: { requestsPerMinute: 600, burst: 900, onLimiterError: 'open' },
      });
    });

    it('gives only the default tier when the variable is unset or empty', () => {
      expect(rateLimitTiersFromEnv({})).toEqual({ default: DEFAULT_TIER });
      expect(rateLimitTiersFromEnv({ [RATE_LIMIT_TIERS_ENV]: ' ' })).toEqual({ default: DEFAULT_TIER });
    });

    it('names the variable and the field on a bad document, without quoting the JSON parser', () => {
      expect(() => rateLimitTiersFromEnv({ [RATE_LIMIT_TIERS_ENV]: '{"pro": {"requestsPerMinute": "fast", "burst": 2}}' })).toThrow(
        /^environment variable RATE_LIMIT_TIERS: pro\.requestsPerMinute: /,
      );
      expect(() => rateLimitTiersFromEnv({ [RATE_LIMIT_TIERS_ENV]: '{"pro": ' })).toThrow('environment variable RATE_LIMIT_TIERS: is not valid JSON');
      expect(() => rateLimitTiersFromEnv({ LIMITS: '[]' }, 'LIMITS')).toThrow(/^environment variable LIMITS: \(root\): /);
    });
  });

  describe('tierFor', () => {
    const tiers = parseRateLimitTiers({ pro: { requestsPerMinute: 1000, burst: 1000 } });

    it('picks the named tier, else default (absent, unknown, or an Object.prototype name)', () => {
      expect(tierFor(tiers, 'pro')).toEqual({ name: 'pro', limits: tiers.pro });
      expect(tierFor(tiers, undefined)).toEqual({ name: 'default', limits: tiers.default });
      expect(tierFor(tiers, 'enterprise')).toEqual({ name: 'default', limits: tiers.default });
      expect(tierFor(tiers, 'constructor')).toEqual({ name: 'default', limits: tiers.default });
      expect(tierFor(tiers, '__proto__')).toEqual({ name: 'default', limits: tiers.default });
    });
  });
});
