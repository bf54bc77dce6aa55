import { Option } from 'commander';
import { UsageError } from '../../control/target';
import type { CommandContext } from './context';

/** Commander's argument parser for a repeatable option (`--scope a --scope b`). */
export const collect = (v: string, prev: string[] = []) => [...prev, v];

/** Wraps a command's action so commander awaits it (and any error reaches runCli's handler). */
export const action =
  <A extends unknown[]>(fn: (...args: A) => Promise<void>) =>
  async (...args: A) => {
    await fn(...args);
  };

/** `--flush`, on every command that revokes something (see ./revocation.ts). */
export const flushOption = () =>
  new Option('--flush', "also empty the stage's authorizer cache (now, and again once the authorizer's own cache has expired); waits until then");

/** `--issuer`, on the commands that name a user or a session of an issuer. */
export const issuerOption = () => new Option('--issuer <id>', "the user's issuer id from the configuration (default: the only one; in local mode, the local issuer)");

/**
 * The issuer `--issuer` names (a configured one), or when it is not given the only configured issuer; in local mode
 * the local Supabase-style issuer (the configured issuers' stand-ins are named with --issuer).
 */
export function issuerOf(c: CommandContext, given: string | undefined): string {
  if (given) {
    if (!c.t.issuerIds.includes(given)) throw new UsageError(`--issuer: ${given} is not a configured issuer (${c.t.issuerIds.join(', ') || 'none'})`);
    return given;
  }
  if (c.t.kind === 'local' && c.t.localIssuer) return c.t.localIssuer.id;
  if (c.t.issuerIds.length !== 1) throw new UsageError(`--issuer: required, one of ${c.t.issuerIds.join(', ') || '(no issuers configured)'}`);
  return c.t.issuerIds[0]!;
}
