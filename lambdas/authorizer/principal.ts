import type { ApiKeyPrincipal } from './api-keys';
import type { UserPrincipal } from './jwt';
import type { ServicePrincipal } from './service-secrets';
import type { SignedPrincipal } from './signed-requests';

/** Whoever a verified credential names: a user, an API key, a service or a signer. */
export type Principal = UserPrincipal | ApiKeyPrincipal | ServicePrincipal | SignedPrincipal;

/** The principal id API Gateway is told (and the decision log records): never credential material. */
export function principalId(p: Principal): string {
  switch (p.kind) {
    case 'user':
      return p.subject;
    case 'apiKey':
      return p.keyId;
    case 'service':
      return `service:${p.service}`;
    case 'signed':
      return `signer:${p.signer}`;
  }
}
