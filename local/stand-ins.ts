import type { JWK } from 'jose';
import { type IssuerConfig, issuerIdentity, parseConfig } from '../contract/config';
import type { StandInIssuer, StandInSigning } from '../control/dev-tokens/stand-in';
import { LOCAL_ISSUER_ID, type LocalSetup } from './local-setup';

/**
 * Local stand-ins for the configured issuers. Each JWKS-based issuer (WorkOS, Cognito, Auth0, Clerk, Entra, and OIDC
 * with `keys.jwksUrl`) is kept as configured, with the same `iss` and claim rules, but reads its keys from a JWKS
 * the local gateway serves (`jwksUrl`, which every preset takes), signed for by one RSA key per run; an OIDC issuer
 * with `keys.hs256SecretId`, and a Supabase issuer (its iss `<url>/auth/v1`, its claim paths, HS256 only: its
 * project's JWKS cannot be served locally), gets a local secret. `gatehouse --local tokens mint --issuer <id>` then mints tokens in
 * that provider's shape. An issuer that cannot have a stand-in is dropped, with the reason local mode prints.
 */

/** Where the local gateway serves a stand-in's JWKS. */
export const standInJwksPath = (id: string) => `/.local/issuers/${id}/jwks.json`;

/** The emulator secret holding the run's RSA signing key (a private JWK as JSON). */
export const rsaKeySecretId = (setup: LocalSetup) => setup.secretId('issuers/rsa-signing-key');

/** The emulator secret of an HS256 stand-in. */
export const hs256SecretIdOf = (setup: LocalSetup, id: string) => setup.secretId(`issuers/${id}/hs256-secret`);

/** A configured issuer local mode stands in for, before the gateway's URL is known. */
export interface PlannedStandIn {
  readonly id: string;
  /** As configured (parsed, defaults filled). */
  readonly config: IssuerConfig;
  readonly alg: StandInSigning['alg'];
}

/** A configured issuer local mode does not serve, and why. */
export interface DroppedIssuer {
  readonly id: string;
  readonly reason: string;
}

export interface StandInPlan {
  readonly kept: readonly PlannedStandIn[];
  readonly dropped: readonly DroppedIssuer[];
}

/** Which configured issuers get a stand-in (in configuration order), and which are dropped and why. */
export function planStandIns(stackConfig: Record<string, unknown>): StandInPlan {
  const kept: PlannedStandIn[] = [];
  const dropped: DroppedIssuer[] = [];
  const raw = Array.isArray(stackConfig.issuers) ? (stackConfig.issuers as unknown[]) : [];
  raw.forEach((entry, i) => {
    let config: IssuerConfig;
    try {
      // One issuer at a time, with the document's own rules for it, so one bad issuer drops only itself (the
      // document needs a route: one that accepts users).
      config = parseConfig({ environment: 'test', tableName: 'local-plan', issuers: [entry], routes: [{ method: 'GET', path: '/', accepts: ['user'] }] }).issuers[0]!;
    } catch (err) {
      const { id, type } = (entry ?? {}) as { id?: unknown; type?: unknown };
      dropped.push({ id: String(id ?? type ?? `issuers[${i}]`), reason: `not a valid issuer: ${(err as Error).message.split('\n').slice(1).join(' ').trim()}` });
      return;
    }
    const id = issuerIdentity(config).id;
    const verdict: Verdict = id === LOCAL_ISSUER_ID ? { reason: `its id is the local issuer's ("${LOCAL_ISSUER_ID}"); give it another id to try it locally` } : standInAlgorithm(config);
    if ('reason' in verdict) dropped.push({ id, reason: verdict.reason });
    else kept.push({ id, config, alg: verdict.alg });
  });
  return { kept, dropped };
}

type Verdict = { readonly alg: StandInSigning['alg'] } | { readonly reason: string };

/** The algorithm a stand-in signs with, or why the issuer can have none. */
function standInAlgorithm(config: IssuerConfig): Verdict {
  switch (config.type) {
    case 'supabase':
      // Its project URL's JWKS cannot be served locally, but its legacy HS256 secret can: the stand-in keeps its
      // iss (<url>/auth/v1) and claim paths and verifies HS256 only, with a local secret.
      return { alg: 'HS256' };
    case 'workos':
    case 'cognito':
    case 'clerk':
    case 'entra':
      return { alg: 'RS256' };
    case 'auth0':
      return { alg: config.algorithms.includes('RS256') ? 'RS256' : 'PS256' };
    case 'oidc':
      if ('jwks' in config.keys) return { reason: 'its keys are a static JWKS in the configuration, whose private keys local mode does not have (use keys.jwksUrl to try it locally)' };
      if ('hs256SecretId' in config.keys) return { alg: 'HS256' };
      if (config.algorithms.includes('RS256')) return { alg: 'RS256' };
      if (config.algorithms.includes('PS256')) return { alg: 'PS256' };
      return { reason: `local mode signs with an RSA key (RS256, PS256) or an HS256 secret; this issuer pins ${config.algorithms.join(', ')}` };
  }
}

/** A planned stand-in as the authorizer and the command-line tool see it once the gateway listens at `baseUrl`. */
export function standInIssuer(p: PlannedStandIn, setup: LocalSetup, baseUrl: string, rsaKid: string): StandInIssuer {
  const jwksUrl = `${baseUrl}${standInJwksPath(p.id)}`;
  if (p.alg === 'HS256') {
    const secretId = hs256SecretIdOf(setup, p.id);
    const config = p.config.type === 'supabase' ? { ...p.config, hs256SecretId: secretId, jwks: false } : { ...p.config, keys: { hs256SecretId: secretId } };
    return { id: p.id, config: config as IssuerConfig, signing: { alg: 'HS256', secretId } };
  }
  const config = (p.config.type === 'oidc' ? { ...p.config, keys: { jwksUrl } } : { ...p.config, jwksUrl }) as IssuerConfig;
  return { id: p.id, config, signing: { alg: p.alg, secretId: rsaKeySecretId(setup), kid: rsaKid } };
}

/** The gateway's static routes serving each RSA stand-in's JWKS: the run's RSA public key (no `alg`: RS256 and PS256 both use it). */
export function standInJwksRoutes(plan: StandInPlan, rsaKey: JWK): Record<string, () => { status: number; body: unknown }> {
  const { kty, n, e, kid } = rsaKey;
  const body = { keys: [{ kty, n, e, kid, use: 'sig' }] };
  return Object.fromEntries(plan.kept.filter((p) => p.alg !== 'HS256').map((p) => [standInJwksPath(p.id), () => ({ status: 200, body })]));
}
