import type { AuthorizerConfigInput } from '../../../contract/config';
import { emulatorTable, reasonOf, SUPABASE, user, wiredCollaborators } from './steps';

/** The wiring (collaborators.ts) alone: which steps a configuration gets, and that building them does no I/O. */
const env = emulatorTable('gatehouse-wiring');

const wire = (overrides: Partial<AuthorizerConfigInput> = {}) => wiredCollaborators(env, overrides);

describe('collaborators', () => {
  it('builds every step without a single AWS call', () => {
    wire({ membership: {}, issuers: [{ ...SUPABASE, revokedSessions: true }], owner: { subject: 'user-1' } });

    expect(env.clients.calls).toEqual([]);
  });

  it('builds the membership steps in membership mode only', () => {
    expect(wire()).toMatchObject({ tenantHeader: undefined, members: undefined });
    expect(wire({ membership: {} }).tenantHeader).toBeDefined();
    expect(wire({ membership: {} }).members).toBeDefined();
  });

  it('gives only the issuers that ask for it a session deny list', async () => {
    const on = wire({ issuers: [{ ...SUPABASE, revokedSessions: true }] });

    expect(await reasonOf(() => on.sessions.check(user({ sessionId: undefined })))).toBe('SESSION_MISSING');
    await expect(wire().sessions.check(user({ sessionId: undefined }))).resolves.toBeUndefined();
  });

  it('reads no tenant record when tenants are not verified', async () => {
    await expect(wire({ tenants: { verify: false } }).tenants.tenantOf(user({ tenantId: 'nobody' }))).resolves.toBeUndefined();
    expect(env.clients.calls).toEqual([]);
  });
});
