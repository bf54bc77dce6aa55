import { Cooldown } from '../../../lambdas/authorizer/cooldown';

describe('Cooldown', () => {
  const setup = () => {
    const clock = { t: 1_000_000 };
    return { clock, c: new Cooldown(10_000, () => clock.t) };
  };

  it('blocks only after a failed attempt, for the cooldown counted from when the attempt started', () => {
    const { clock, c } = setup();
    expect(c.blocked()).toBe(false);
    c.attempt();
    clock.t += 2000; // the attempt hangs until its timeout
    c.failed(new Error('timeout'));
    expect(c.blocked()).toBe(true);
    expect(c.failing).toBe(true);
    clock.t += 7999;
    expect(c.blocked()).toBe(true);
    clock.t += 1;
    expect(c.blocked()).toBe(false);
    expect(c.failing).toBe(true); // still failing until an attempt succeeds
  });

  it('a success ends the block and forgets the failure', () => {
    const { c } = setup();
    c.attempt();
    c.failed(new Error('down'));
    c.attempt();
    c.succeeded();
    expect([c.blocked(), c.failing, c.failure]).toEqual([false, false, undefined]);
    expect(c.coolingDown()).toBe(true); // an attempt started just now, whatever its outcome
  });

  it('hands out the error of the last failed attempt', () => {
    const { c } = setup();
    const err = new Error('second');
    c.attempt();
    c.failed(new Error('first'));
    c.attempt();
    c.failed(err);
    expect(c.failure).toBe(err);
  });
});
