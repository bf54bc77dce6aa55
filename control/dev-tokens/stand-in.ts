import type { IssuerConfig } from '../../contract/config';
import type { Target } from '../target';

/**
 * Local mode's stand-in for a configured issuer: the issuer as configured (same `iss`, same claim rules), with its
 * keys read from a JWKS the local gateway serves (or, for an HS256 issuer, a secret in the emulator), so tokens in
 * that provider's shape can be minted offline (`gatehouse --local tokens mint --issuer <id>`).
 */
export interface StandInIssuer {
  /** The issuer's id in the authorizer configuration (`id`, else its type). */
  readonly id: string;
  /** The issuer as the authorizer reads it locally: parsed (defaults filled), its key source the local one. */
  readonly config: IssuerConfig;
  /** How local mode signs its tokens: the algorithm, and the emulator secret holding the key. */
  readonly signing: StandInSigning;
}

export interface StandInSigning {
  /** RS256 or PS256 with the run's RSA key (a private JWK, as JSON, in `secretId`); HS256 with the secret in `secretId`. */
  readonly alg: 'RS256' | 'PS256' | 'HS256';
  readonly secretId: string;
  /** The RSA key's `kid` (its public JWK is served with it). */
  readonly kid?: string;
}

/**
 * The stand-in issuers of a local target. `npm start` writes them to .local/cli-target.json beside the fields
 * control/target.ts declares (`standIns`); the reader there returns the file's whole document, so they are read
 * from the target here, checked for shape, rather than trusted.
 */
export function standInsOf(t: Target): readonly StandInIssuer[] {
  const list = (t as Target & { standIns?: unknown }).standIns;
  if (!Array.isArray(list)) return [];
  return list.filter(
    (s): s is StandInIssuer =>
      s !== null &&
      typeof s === 'object' &&
      typeof (s as StandInIssuer).id === 'string' &&
      typeof (s as StandInIssuer).config === 'object' &&
      typeof (s as StandInIssuer).signing?.secretId === 'string' &&
      ['RS256', 'PS256', 'HS256'].includes((s as StandInIssuer).signing.alg),
  );
}
