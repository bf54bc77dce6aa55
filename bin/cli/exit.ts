import { CommanderError } from 'commander';
import { DIRECTORY_ERRORS, DirectoryError } from '../../control/directory/errors';
import { STACK_ERRORS, StackError } from '../../control/stack-lookup';
import { type Target, UsageError } from '../../control/target';
import { describeAwsFailure } from './aws-failure';
import type { Io } from './output';

/** Exit codes: what a script can branch on. */
export const EXIT = { ok: 0, failure: 1, usage: 2, notFound: 3, conflict: 4 } as const;

/**
 * Prints why a command failed (one line, or one JSON document `{ error, message }` with --json) on stderr and
 * returns its exit code: usage and configuration errors 2, directory and stack errors their code's exit (a stack
 * not found 3), AWS and unexpected failures 1 (./aws-failure.ts says which call failed and why). `target` is the
 * run's target if it was resolved.
 */
export function reportError(err: unknown, io: Io, json: boolean, target?: Target): number {
  if (err instanceof CommanderError) {
    // Commander has printed its own message (or the help); help and --version exit 0.
    return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
  }
  let code: number;
  let reason: string;
  let message: string;
  if (err instanceof UsageError) {
    [code, reason, message] = [EXIT.usage, 'USAGE', err.message];
  } else if (err instanceof DirectoryError) {
    [code, reason, message] = [DIRECTORY_ERRORS[err.code]?.exit ?? EXIT.failure, err.code, err.message];
  } else if (err instanceof StackError) {
    [code, reason, message] = [STACK_ERRORS[err.code].exit, err.code, err.message];
  } else if (err instanceof Error && err.name === 'ConfigError') {
    [code, reason, message] = [EXIT.usage, 'CONFIG_INVALID', err.message];
  } else {
    const f = describeAwsFailure(err, target);
    [code, reason, message] = [f.exit, f.reason, f.message];
  }
  io.stderr(json ? `${JSON.stringify({ error: reason, message })}\n` : `gatehouse: ${message}\n`);
  return code;
}
