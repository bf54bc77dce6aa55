import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { type Command, Option } from 'commander';
import { SignJWT } from 'jose';
import { randomUUID } from 'node:crypto';
import { devTokenClaims } from '../../../control/dev-tokens/claims';
import { signDevToken } from '../../../control/dev-tokens/sign';
import { standInsOf } from '../../../control/dev-tokens/stand-in';
import { type LocalIssuer, UsageError, parseDuration } from '../../../control/target';
import type { CommandContext, ContextFactory } from '../context';
import { action, collect } from '../options';

/** The options of `tokens mint`. */
interface MintOptions {
  sub: string;
  issuer?: string;
  tenant?: string;
  scope: string[];
  role: string[];
  ttl: string;
  tokenUse?: 'access' | 'id';
  clientId?: string;
  audience?: string;
  azp?: string;
}

/** Options that choose between a provider's kinds of token, so only with `--issuer`. */
const ISSUER_CHOICES = [
  ['tokenUse', '--token-use'],
  ['clientId', '--client-id'],
  ['audience', '--audience'],
  ['azp', '--azp'],
] as const;

/** `gatehouse tokens mint`: development tokens of the local issuer and of the configured issuers' stand-ins (local mode only). */
export function registerTokenCommands(program: Command, context: ContextFactory): void {
  program
    .command('tokens')
    .description("development tokens of the local issuer and of the configured issuers' local stand-ins (local mode only)")
    .command('mint')
    .description(
      "a token signed locally: Supabase-style by the local issuer (HS256), or with --issuer in that configured issuer's documented shape, signed by local mode's stand-in key; refuses anything but local mode",
    )
    .requiredOption('--sub <sub>', 'the user id')
    .option('--issuer <id>', "a configured issuer that local mode stands in for (npm start lists them): its iss, claims and shape (default: the local Supabase-style issuer)")
    .option('--tenant <tenant>', 'app_metadata.tenant_id; with --issuer where it reads the tenant: custom:tenant_id (Cognito), org_id (Auth0, WorkOS), o.id (Clerk), tid (Entra: a configured directory)')
    .option('--scope <scope>', 'app_metadata.scopes entry (repeat for more); with --issuer: scope (Cognito, Auth0), permissions (Auth0, WorkOS), scp (Entra), o.per/o.fpm/fea (Clerk: <feature>:<permission>, read back as org:<feature>:<permission>)', collect, [])
    .option('--role <role>', 'app_metadata.roles entry (repeat for more); with --issuer: cognito:groups, the Auth0 rolesClaim, o.rol (Clerk, one), roles (Entra; WorkOS with role)', collect, [])
    .option('--ttl <duration>', 'lifetime', '1h')
    .addOption(new Option('--token-use <use>', "with a Cognito --issuer: access or id (default: the issuer's tokenUse)").choices(['access', 'id']))
    .option('--client-id <id>', 'with --issuer: the app client (Cognito client_id, or aud of an id token), the WorkOS client (its iss), an OIDC issuer\'s client claim (default: the first configured)')
    .option('--audience <aud>', 'with --issuer: aud for Auth0, Entra, WorkOS, OIDC (default: the first configured)')
    .option('--azp <party>', 'with --issuer: azp for Clerk (default: the first authorized party), Auth0, Entra (default: a made-up app)')
    .action(
      action(async (o: MintOptions, cmd: Command) => {
        const c = context(cmd);
        const issuer = c.t.localIssuer;
        if (c.t.kind !== 'local' || !issuer || !loopback(issuer.issuer) || !loopback(c.t.sdkEnv?.AWS_ENDPOINT_URL ?? '')) {
          throw new UsageError('tokens mint: works only against local mode (--local); it never signs for a deployed issuer');
        }
        const ttl = parseDuration(o.ttl, '--ttl');
        if (o.issuer === undefined || o.issuer === issuer.id) await mintLocal(c, issuer, o, ttl);
        else await mintStandIn(c, o.issuer, o, ttl);
      }),
    );
}

/** A Supabase-style access token of the local issuer, signed with its HS256 secret. */
async function mintLocal(c: CommandContext, issuer: LocalIssuer, o: MintOptions, ttl: number): Promise<void> {
  for (const [key, flag] of ISSUER_CHOICES) if (o[key] !== undefined) throw new UsageError(`${flag}: only with --issuer <a stand-in issuer>`);
  const secret = await c.secrets.send(new GetSecretValueCommand({ SecretId: issuer.hs256SecretId }));
  const now = Math.floor(Date.now() / 1000);
  const sessionId = randomUUID();
  const token = await new SignJWT({
    role: 'authenticated',
    aud: issuer.audience,
    session_id: sessionId,
    is_anonymous: false,
    app_metadata: { ...(o.tenant ? { tenant_id: o.tenant } : {}), scopes: o.scope, roles: o.role },
    user_metadata: {},
  })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuer(issuer.issuer)
    .setSubject(o.sub)
    .setIssuedAt(now)
    .setExpirationTime(now + ttl)
    .sign(new TextEncoder().encode(secret.SecretString ?? ''));
  c.out.result({ token, sessionId, expiresAt: now + ttl }, () => token);
}

/**
 * A token of a configured issuer's local stand-in: its claims in the provider's documented shape
 * (control/dev-tokens/), signed with the stand-in's key from the emulator's Secrets Manager.
 */
async function mintStandIn(c: CommandContext, id: string, o: MintOptions, ttl: number): Promise<void> {
  const standIns = standInsOf(c.t);
  const standIn = standIns.find((s) => s.id === id);
  if (!standIn) {
    throw new UsageError(`--issuer: ${id} has no local stand-in (${standIns.length ? `stand-ins: ${standIns.map((s) => s.id).join(', ')}` : 'none'}; local mode prints why a configured issuer is not served)`);
  }
  const now = Math.floor(Date.now() / 1000);
  const token = devTokenClaims(standIn.config, {
    sub: o.sub,
    ...(o.tenant !== undefined ? { tenant: o.tenant } : {}),
    scopes: o.scope,
    roles: o.role,
    ttlSeconds: ttl,
    now,
    ...(o.tokenUse !== undefined ? { tokenUse: o.tokenUse } : {}),
    ...(o.clientId !== undefined ? { clientId: o.clientId } : {}),
    ...(o.audience !== undefined ? { audience: o.audience } : {}),
    ...(o.azp !== undefined ? { azp: o.azp } : {}),
  });
  for (const note of token.notes) c.out.note(note);
  const cap = standIn.config.maxTokenAgeSeconds;
  if (cap > 0 && ttl > cap) c.out.note(`--ttl: longer than the issuer's maxTokenAgeSeconds (${cap}); the authorizer refuses this token (JWT_LIFETIME_TOO_LONG)`);
  const secret = await c.secrets.send(new GetSecretValueCommand({ SecretId: standIn.signing.secretId }));
  const jwt = await signDevToken(token, standIn.signing, secret.SecretString ?? '');
  const session = token.sessionId !== undefined ? { sessionId: token.sessionId } : {};
  c.out.result({ token: jwt, issuer: standIn.id, ...session, expiresAt: now + ttl, claims: token.claims }, () => jwt);
}

function loopback(url: string): boolean {
  try {
    const h = new URL(url).hostname;
    return h === '127.0.0.1' || h === 'localhost' || h === '[::1]';
  } catch {
    return false;
  }
}
