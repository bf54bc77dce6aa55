import fc from 'fast-check';
import { AuthError } from '../../../lambdas/authorizer/errors';
import { type TimeRules, checkExpiry, checkNotBefore, clockSeconds, numericDate } from '../../../lambdas/authorizer/jwt-time';

const NOW = 1_750_000_000;
const TOLERANCE = 30;
const capped: TimeRules = { spec: { id: 'oidc', clockToleranceSeconds: TOLERANCE }, maxTokenAge: 3600 };
const uncapped: TimeRules = { spec: { id: 'oidc', clockToleranceSeconds: TOLERANCE } };

/** The reason code a check ends with, or 'ok'. */
function outcome(fn: () => unknown): string {
  try {
    fn();
    return 'ok';
  } catch (err) {
    if (err instanceof AuthError) return `${err.code}${err.detail?.claim ? `:${err.detail.claim}` : ''}`;
    throw err;
  }
}

describe('clockSeconds', () => {
  it('reads a clock in whole seconds, rounding down', () => {
    expect(clockSeconds(NOW * 1000 + 999)).toBe(NOW);
  });

  it.each([Number.NaN, Number.POSITIVE_INFINITY, 8.64e15 + 1])('refuses a clock that reads no valid time (%p)', (reading) => {
    expect(() => clockSeconds(reading)).toThrow('the clock reads no valid time');
  });
});

describe('numericDate', () => {
  it('reads an absent claim as undefined and a number as itself, Infinity included', () => {
    expect(numericDate({ id: 'oidc' }, {}, 'exp')).toBeUndefined();
    expect(numericDate({ id: 'oidc' }, { exp: 1.5 }, 'exp')).toBe(1.5);
    expect(numericDate({ id: 'oidc' }, JSON.parse('{"exp":1e400}'), 'exp')).toBe(Number.POSITIVE_INFINITY);
  });

  it.each(['1750000000', null, true, [1], {}])('refuses a time claim that is not a number (%p) as JWT_CLAIM_INVALID', (value) => {
    expect(outcome(() => numericDate({ id: 'oidc' }, { nbf: value }, 'nbf'))).toBe('JWT_CLAIM_INVALID:nbf');
  });
});

describe('checkNotBefore', () => {
  it('accepts a token whose nbf is up to the tolerance ahead of the clock, and refuses it one second later', () => {
    expect(outcome(() => checkNotBefore(capped, NOW + TOLERANCE, NOW))).toBe('ok');
    expect(outcome(() => checkNotBefore(capped, NOW + TOLERANCE + 1, NOW))).toBe('JWT_NOT_YET_VALID:nbf');
    expect(outcome(() => checkNotBefore(capped, undefined, NOW))).toBe('ok');
  });
});

describe('checkExpiry', () => {
  it('refuses a token from exp + tolerance on, and accepts it the second before', () => {
    const times = (exp: number) => ({ iat: NOW, nbf: undefined, exp });

    expect(outcome(() => checkExpiry(capped, times(NOW - TOLERANCE + 1), NOW))).toBe('ok');
    expect(outcome(() => checkExpiry(capped, times(NOW - TOLERANCE), NOW))).toBe('JWT_EXPIRED');
  });

  it('caps the age at maxTokenAge plus the tolerance, and refuses an iat more than the tolerance in the future', () => {
    const issuedAt = (iat: number) => ({ iat, nbf: undefined, exp: undefined });

    expect(outcome(() => checkExpiry(capped, issuedAt(NOW - 3600 - TOLERANCE), NOW))).toBe('ok');
    expect(outcome(() => checkExpiry(capped, issuedAt(NOW - 3600 - TOLERANCE - 1), NOW))).toBe('JWT_TOO_OLD');
    expect(outcome(() => checkExpiry(capped, issuedAt(NOW + TOLERANCE), NOW))).toBe('ok');
    expect(outcome(() => checkExpiry(capped, issuedAt(NOW + TOLERANCE + 1), NOW))).toBe('JWT_NOT_YET_VALID:iat');
  });

  it('ignores iat when the age cap is off', () => {
    expect(outcome(() => checkExpiry(uncapped, { iat: 0, nbf: undefined, exp: undefined }, NOW))).toBe('ok');
  });

  it('reports an expired token as expired even when it is also too old', () => {
    expect(outcome(() => checkExpiry(capped, { iat: 0, nbf: undefined, exp: 1 }, NOW))).toBe('JWT_EXPIRED');
  });

  it('agrees with the rules written as inequalities, for any times', () => {
    const t = fc.integer({ min: NOW - 10_000, max: NOW + 10_000 });
    fc.assert(
      fc.property(t, t, fc.option(t, { nil: undefined }), (now, iat, exp) => {
        const expected =
          exp !== undefined && exp <= now - TOLERANCE
            ? 'JWT_EXPIRED'
            : now - iat - TOLERANCE > 3600
              ? 'JWT_TOO_OLD'
              : now - iat < -TOLERANCE
                ? 'JWT_NOT_YET_VALID:iat'
                : 'ok';
        expect(outcome(() => checkExpiry(capped, { iat, nbf: undefined, exp }, now))).toBe(expected);
      }),
      { numRuns: 500 },
    );
  });
});
