import { LookupBudget } from '../../../lambdas/authorizer/lookup-budget';

describe('LookupBudget', () => {
  it('allows perSecond lookups at once, then refills at perSecond a second up to perSecond', () => {
    const clock = { t: 0 };
    const b = new LookupBudget(10, () => clock.t);
    const takeAll = () => {
      let n = 0;
      while (b.take()) n++;
      return n;
    };
    expect(takeAll()).toBe(10);
    clock.t += 500;
    expect(takeAll()).toBe(5);
    clock.t += 60_000; // a long quiet spell saves up one second's worth, no more
    expect(takeAll()).toBe(10);
  });

  it('refills nothing when the clock goes back', () => {
    const clock = { t: 10_000 };
    const b = new LookupBudget(2, () => clock.t);
    expect([b.take(), b.take(), b.take()]).toEqual([true, true, false]);
    clock.t -= 5000;
    expect(b.take()).toBe(false);
  });
});
