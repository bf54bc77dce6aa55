import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import type { Command } from 'commander';
import { SignJWT } from 'jose';
import { randomUUID } from 'node:crypto';
import { UsageError, parseDuration } from '../../../control/target';
import type { ContextFactory } from '../context';
import { action, collect } from '../options';

/** `gatehouse tokens mint`: development tokens of the local issuer (local mode only). */
export function registerTokenCommands(program: Command, context: ContextFactory): void {
  program
    .command('tokens')
    .description('development tokens of the local issuer (local mode only)')
    .command('mint')
    .description('a Supabase-style access token signed by the local issuer; refuses anything but local mode')
    .requiredOption('--sub <sub>', 'the user id')
    .option('--tenant <tenant>', 'app_metadata.tenant_id')
    .option('--scope <scope>', 'app_metadata.scopes entry (repeat for more)', collect, [])
    .option('--role <role>', 'app_metadata.roles entry (repeat for more)', collect, [])
    .option('--ttl <duration>', 'lifetime', '1h')
    .action(
      action(async (o: { sub: string; tenant?: string; scope: string[]; role: string[]; ttl: string }, cmd: Command) => {
        const c = context(cmd);
        const issuer = c.t.localIssuer;
        if (c.t.kind !== 'local' || !issuer || !loopback(issuer.issuer) || !loopback(c.t.sdkEnv?.AWS_ENDPOINT_URL ?? '')) {
          throw new UsageError('tokens mint: works only against local mode (--local); it never signs for a deployed issuer');
        }
        const secret = await c.secrets.send(new GetSecretValueCommand({ SecretId: issuer.hs256SecretId }));
        const now = Math.floor(Date.now() / 1000);
        const ttl = parseDuration(o.ttl, '--ttl');
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
      }),
    );
}

function loopback(url: string): boolean {
  try {
    const h = new URL(url).hostname;
    return h === '127.0.0.1' || h === 'localhost' || h === '[::1]';
  } catch {
    return false;
  }
}
