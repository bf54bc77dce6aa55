/** Types of emulator.mjs, so TypeScript callers (jest global setup, local mode) are checked against it. */

/** A running moto_server. */
export interface MotoHandle {
  /** Base URL for AWS SDK clients, e.g. `http://127.0.0.1:41234`. */
  endpoint: string;
  port: number;
  /** Leader of the server's process group. */
  pid: number;
  /** The server's stdout and stderr; deleted by stop(). */
  logFile: string;
  /** Kills the process group (SIGTERM, SIGKILL after 3 s); resolves when it is gone. Idempotent. */
  stop(): Promise<void>;
}

/** Installs the pinned moto into `<repo>/.venv` unless already there; returns the path of `moto_server`. */
export function ensureMoto(): string;

/** Starts moto_server on 127.0.0.1 (a free port unless given) and resolves once it answers. */
export function startMoto(options?: { port?: number }): Promise<MotoHandle>;
