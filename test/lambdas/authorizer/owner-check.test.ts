import { checkOwner } from '../../../lambdas/authorizer/owner-check';
import { reasonOf, user } from './steps';

/** The owner-mode step alone (no I/O). */
describe('owner step', () => {
  it('lets the owner through', () => {
    expect(() => checkOwner({ subject: 'user-1' }, user({ subject: 'user-1' }))).not.toThrow();
  });

  it('refuses any other verified user as OWNER_MISMATCH', async () => {
    expect(await reasonOf(() => checkOwner({ subject: 'user-1' }, user({ subject: 'user-2' })))).toBe('OWNER_MISMATCH');
  });

  it('lets every user through when no owner is configured', () => {
    expect(() => checkOwner(undefined, user({ subject: 'anyone' }))).not.toThrow();
  });
});
