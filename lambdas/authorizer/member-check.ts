import { AuthError } from './errors';
import type { UserPrincipal } from './jwt';
import { type MemberStore, RecordInvalidError } from './store';

/**
 * Membership mode, after the tenant check: the user's member item in the tenant the request named (./tenant-header.ts
 * set it); its role becomes the user's roles, whatever the token claimed.
 */
export class MemberCheck {
  /** `members` is absent only when there is no table (the config schema refuses membership mode without one). */
  constructor(private readonly members: MemberStore | undefined) {}

  /** The user with the member's role; throws MEMBERSHIP_NOT_FOUND (403), MEMBERSHIP_RECORD_INVALID or MEMBERSHIP_STORE_UNAVAILABLE (500). */
  async member(user: UserPrincipal): Promise<UserPrincipal> {
    if (!this.members) return user;
    const tenantId = user.tenantId!;
    let record;
    try {
      record = await this.members.get({ tenantId, issuer: user.issuerId, subject: user.subject });
    } catch (err) {
      if (err instanceof RecordInvalidError) throw new AuthError('MEMBERSHIP_RECORD_INVALID', { tenantId, field: err.field });
      throw new AuthError('MEMBERSHIP_STORE_UNAVAILABLE', { tenantId }, { cause: err });
    }
    if (!record) throw new AuthError('MEMBERSHIP_NOT_FOUND', { tenantId });
    return { ...user, roles: [record.role] };
  }
}
