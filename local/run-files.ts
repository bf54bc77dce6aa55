import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { LOCAL_TARGET_FILE, type LocalTargetFile, localTargetFileOf } from '../control/target';

/**
 * The files of one local run, in a folder of its own per port (.local/<port>/), so that two local modes on
 * different ports never overwrite each other's credentials, CLI target or kept state. `.local/cli-target.json`, what
 * `gatehouse --local` reads by default, is a copy of the most recent run's target; `GATEHOUSE_LOCAL_PORT=<port>`
 * picks another run's. Stopping a run removes its own files, and the shared copy only while it is still its own.
 */
export class RunFiles {
  readonly dir: string;
  readonly credentialsFile: string;
  readonly cliTargetFile: string;
  readonly stateFile: string;
  /** Where the run bundles the team's handlers (removed with the run's files). */
  readonly buildDir: string;
  private readonly sharedTargetFile: string;

  /** `buildDir`: where this run bundles the team's handlers, known before its port is (a --port 0 run). */
  constructor(
    readonly root: string,
    readonly port: number,
    buildDir?: string,
  ) {
    this.dir = path.join(root, '.local', String(port));
    this.credentialsFile = path.join(this.dir, 'demo-credentials.json');
    this.cliTargetFile = path.join(root, localTargetFileOf(String(port)));
    this.stateFile = path.join(this.dir, 'state.json');
    this.buildDir = buildDir ?? path.join(this.dir, 'build');
    this.sharedTargetFile = path.join(root, LOCAL_TARGET_FILE);
  }

  /** The state a previous run on this port kept (--keep), if any. */
  readKept<T>(): T | undefined {
    return existsSync(this.stateFile) ? (JSON.parse(readFileSync(this.stateFile, 'utf8')) as T) : undefined;
  }

  /** Writes the run's demo credentials and CLI target, and points the shared CLI target at this run. */
  write(credentials: unknown, target: LocalTargetFile): void {
    mkdirSync(this.dir, { recursive: true });
    writeFileSync(this.credentialsFile, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600 });
    const text = `${JSON.stringify(target, null, 2)}\n`;
    writeFileSync(this.cliTargetFile, text, { mode: 0o600 });
    writeFileSync(this.sharedTargetFile, text, { mode: 0o600 });
  }

  /** What stopping removes (relative to the working directory), for the run to say at start and at stop. */
  removedAtStop(keep: boolean): string[] {
    const rel = (f: string) => path.relative(process.cwd(), f) || f;
    return [
      rel(this.credentialsFile),
      rel(this.cliTargetFile),
      rel(this.buildDir),
      ...(keep ? [] : [rel(this.stateFile)]),
      `${rel(this.sharedTargetFile)} (if it still points at this run)`,
    ];
  }

  /** Saves the state (--keep) or removes a kept one, and removes this run's other files. */
  stop(keep: boolean, state: unknown): void {
    const sharedIsOurs = this.sharedIsOurs();
    if (keep) writeFileSync(this.stateFile, JSON.stringify(state), { mode: 0o600 });
    else rmSync(this.stateFile, { force: true });
    rmSync(this.credentialsFile, { force: true });
    rmSync(this.cliTargetFile, { force: true });
    rmSync(this.buildDir, { recursive: true, force: true });
    if (sharedIsOurs) rmSync(this.sharedTargetFile, { force: true });
    // The port's folder goes too once empty (a kept state stays in it).
    if (existsSync(this.dir) && readdirSync(this.dir).length === 0) rmSync(this.dir, { recursive: true, force: true });
  }

  /** Whether the shared CLI target still describes this run (another run started since points it at itself). */
  private sharedIsOurs(): boolean {
    try {
      const shared = JSON.parse(readFileSync(this.sharedTargetFile, 'utf8')) as Partial<LocalTargetFile>;
      const ours = JSON.parse(readFileSync(this.cliTargetFile, 'utf8')) as Partial<LocalTargetFile>;
      return shared.pid === ours.pid && shared.tableName === ours.tableName;
    } catch {
      return false;
    }
  }
}
