import type { AuthorizerConfig } from '../../contract/config';
import { AuthError } from './errors';
import type { UserPrincipal } from './jwt';

/**
 * Owner mode (`owner`, for single-owner deployments): only the owner's subject may call; any other verified user is
 * refused with OWNER_MISMATCH (403). Without `owner`, every user passes. No I/O.
 */
export function checkOwner(owner: AuthorizerConfig['owner'], user: UserPrincipal): void {
  if (owner && user.subject !== owner.subject) throw new AuthError('OWNER_MISMATCH');
}
