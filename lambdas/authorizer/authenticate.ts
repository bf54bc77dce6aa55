import type { Credential } from './classify';
import { AuthError } from './errors';
import type { ApiKeyVerifier } from './api-keys';
import type { JwtVerifier } from './jwt';
import type { Principal } from './principal';
import type { ServiceSecretVerifier } from './service-secrets';
import type { SignedRequestEvent, SignedRequestVerifier } from './signed-requests';

/** One verifier per credential kind. A kind the configuration does not enable has none. */
export interface Verifiers {
  /** Present when issuers are configured. */
  readonly jwt?: JwtVerifier | undefined;
  /** Present when API keys (and the table) are configured. */
  readonly apiKeys?: ApiKeyVerifier | undefined;
  readonly services: ServiceSecretVerifier;
  readonly signed: SignedRequestVerifier;
}

/**
 * Verifies a classified credential with the verifier of its kind. A credential of a kind this deployment does not
 * take (a JWT with no issuers, an API key with no `apiKeys`) is CREDENTIAL_UNRECOGNIZED, before any parsing or I/O.
 */
export async function authenticate(verifiers: Verifiers, credential: Credential, event: SignedRequestEvent): Promise<Principal> {
  switch (credential.kind) {
    case 'jwt':
      if (!verifiers.jwt) throw new AuthError('CREDENTIAL_UNRECOGNIZED');
      return verifiers.jwt.verify(credential.token);
    case 'apiKey':
      if (!verifiers.apiKeys) throw new AuthError('CREDENTIAL_UNRECOGNIZED');
      return verifiers.apiKeys.verify(credential.key);
    case 'service':
      return verifiers.services.verify(credential.service, credential.secret);
    case 'signed':
      return verifiers.signed.verify(credential.header, event);
  }
}
