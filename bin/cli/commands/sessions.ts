import type { Command } from 'commander';
import { parseDuration } from '../../../control/target';
import type { ContextFactory } from '../context';
import { action, flushOption, issuerOf, issuerOption } from '../options';
import { isoSeconds } from '../output';
import { revoked } from '../revocation';

/** `gatehouse sessions revoke`: deny a signed-out user session's tokens until they expire. */
export function registerSessionCommands(program: Command, context: ContextFactory): void {
  program
    .command('sessions')
    .description('user sessions (Supabase session_id): revoke')
    .command('revoke <sessionId>')
    .description("deny a signed-out session's tokens until they expire (issuers with revokedSessions on)")
    .addOption(issuerOption())
    .option('--ttl <duration>', "how long to deny it: at least the issuer's token lifetime", '24h')
    .addOption(flushOption())
    .action(
      action(async (sessionId: string, o: { issuer?: string; ttl: string; flush?: boolean }, cmd: Command) => {
        const c = context(cmd);
        const r = await c.dir.revokeSession(issuerOf(c, o.issuer), sessionId, parseDuration(o.ttl, '--ttl'));
        const bound = await revoked(c, 'sessionRevoked', 'revoked sessions (no issuer has revokedSessions on)', o.flush);
        c.out.result({ ...r, effectiveWithinSeconds: bound.effectiveWithinSeconds, flushed: bound.flushed }, () => `Session ${r.sessionId} of ${r.issuer} is denied until ${isoSeconds(r.until)}. ${bound.text}`);
      }),
    );
}
