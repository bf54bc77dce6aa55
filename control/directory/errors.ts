/**
 * What the directory (tenants, API keys, members, revoked sessions) answers when an operation cannot be done.
 * The command-line tool maps `code` to an exit code, the self-service handler to an HTTP status. Messages name
 * the field or the id at fault and never contain a key or a secret.
 */
export const DIRECTORY_ERRORS = {
  INVALID_INPUT: { exit: 2, status: 400 },
  TIER_UNKNOWN: { exit: 2, status: 400 },
  CURSOR_INVALID: { exit: 2, status: 400 },
  TENANT_NOT_FOUND: { exit: 3, status: 404 },
  KEY_NOT_FOUND: { exit: 3, status: 404 },
  MEMBER_NOT_FOUND: { exit: 3, status: 404 },
  SERVICE_NOT_FOUND: { exit: 3, status: 404 },
  SIGNER_NOT_FOUND: { exit: 3, status: 404 },
  TENANT_EXISTS: { exit: 4, status: 409 },
  TENANT_SUSPENDED: { exit: 4, status: 409 },
  KEY_REVOKED: { exit: 4, status: 409 },
  KEY_LIMIT_REACHED: { exit: 4, status: 409 },
  KEY_SLOTS_BUSY: { exit: 4, status: 409 },
  SERVICE_EXISTS: { exit: 4, status: 409 },
  SIGNER_EXISTS: { exit: 4, status: 409 },
} as const;
export type DirectoryErrorCode = keyof typeof DIRECTORY_ERRORS;

export class DirectoryError extends Error {
  constructor(
    readonly code: DirectoryErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'DirectoryError';
  }
}
