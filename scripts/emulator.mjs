// Local AWS wire APIs (DynamoDB, Secrets Manager, ...) on loopback, served by moto_server from a repo-local venv.
// Used by the jest global setup and by `node scripts/emulator.mjs start` for a local mode.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const REQUIREMENTS = path.join(REPO, 'requirements-dev.txt');
const VENV = path.join(REPO, '.venv');
const VENV_PYTHON = path.join(VENV, 'bin', 'python');
const MOTO_SERVER = path.join(VENV, 'bin', 'moto_server');
const STAMP = path.join(VENV, '.requirements.sha256');
const LOG_DIR = path.join(REPO, '.local');
const READY_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 3_000;

const log = (msg) => process.stderr.write(`[emulator] ${msg}\n`);

function run(cmd, args) {
  // stdout goes to stderr too: `start` keeps stdout for the env lines.
  const res = spawnSync(cmd, args, { stdio: ['ignore', 2, 2] });
  if (res.error) throw new Error(`${cmd}: ${res.error.message}`);
  if (res.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited with ${res.status ?? res.signal}`);
}

/**
 * Makes sure `<repo>/.venv` holds the pinned moto from requirements-dev.txt, installing it when the
 * stamp file does not match the requirements' sha256. Idempotent; needs no stdin.
 * The interpreter is `$PYTHON` or `python3`.
 * @returns {string} absolute path of `.venv/bin/moto_server`
 */
export function ensureMoto() {
  const want = createHash('sha256').update(fs.readFileSync(REQUIREMENTS)).digest('hex');
  const have = fs.existsSync(STAMP) ? fs.readFileSync(STAMP, 'utf8').trim() : '';
  // existsSync follows the venv's python symlink: a venv copied from a machine whose interpreter is gone counts as missing.
  if (have === want && fs.existsSync(VENV_PYTHON) && fs.existsSync(MOTO_SERVER)) return MOTO_SERVER;

  if (!fs.existsSync(VENV_PYTHON)) {
    const python = process.env.PYTHON || 'python3';
    log(`creating ${path.relative(REPO, VENV)} with ${python}`);
    run(python, ['-m', 'venv', '--clear', VENV]);
  }
  log('installing requirements-dev.txt (about a minute on a fresh venv)');
  run(VENV_PYTHON, ['-m', 'pip', 'install', '--disable-pip-version-check', '--no-input', '-q', '-r', REQUIREMENTS]);
  // Written last, so an interrupted install is retried next time.
  fs.writeFileSync(STAMP, `${want}\n`);
  log('moto installed');
  return MOTO_SERVER;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Moto groups still running: killed by the exit and signal handlers. */
const live = new Set();

function signalGroup(pgid, signal) {
  try {
    process.kill(-pgid, signal);
  } catch (err) {
    if (err.code !== 'ESRCH') throw err;
  }
}

function groupAlive(pgid) {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (err) {
    return err.code !== 'ESRCH';
  }
}

let handlersInstalled = false;
function installHandlers() {
  if (handlersInstalled) return;
  handlersInstalled = true;
  // 'exit' handlers cannot wait, so this is SIGKILL; graceful stops go through stop().
  process.on('exit', () => {
    for (const h of live) {
      signalGroup(h.pgid, 'SIGKILL');
      h.watchdog.kill('SIGKILL');
    }
  });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(sig, () => {
      // Someone else handles the signal (local mode, the CLI below): they stop the server when they are done with
      // it (local mode still reads it on the way out), and the 'exit' hook above kills whatever they leave.
      if (process.listenerCount(sig) > 1) return;
      for (const h of live) signalGroup(h.pgid, 'SIGTERM');
      // Having a listener cancels Node's default exit on the signal: restore it.
      process.exit(128 + os.constants.signals[sig]);
    });
  }
  // The monitor variant sees the error without swallowing it. It acts only when nobody handles the error, i.e. the
  // process is about to crash: jest running in band handles a test's stray async throw and keeps using the server.
  process.on('uncaughtExceptionMonitor', () => {
    if (process.listenerCount('uncaughtException') > 0) return;
    for (const h of live) signalGroup(h.pgid, 'SIGKILL');
  });
}

/**
 * A `sh` that blocks on a pipe from this process and kills the moto group on EOF: covers the deaths no
 * handler sees (SIGKILL, OOM). It is a separate process so moto stays our direct child and is reaped by us.
 */
function spawnWatchdog(pgid) {
  const dog = spawn('/bin/sh', ['-c', 'read -r _; kill -KILL "-$1" 2>/dev/null', 'moto-watchdog', String(pgid)], {
    detached: true,
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  dog.unref();
  dog.stdin.on('error', () => {});
  return dog;
}

function tail(file, lines = 20) {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

async function launch(bin, port) {
  fs.mkdirSync(LOG_DIR, { recursive: true });
  const logFile = path.join(LOG_DIR, `moto-${port}.log`);
  const fd = fs.openSync(logFile, 'w');
  // Own process group: Ctrl-C in a terminal does not hit it directly, and stop() can kill all of it at once.
  const child = spawn(bin, ['-H', '127.0.0.1', '-p', String(port)], {
    detached: true,
    stdio: ['ignore', fd, fd],
    env: { ...process.env, PYTHONUNBUFFERED: '1' },
  });
  fs.closeSync(fd);
  await new Promise((resolve, reject) => child.once('spawn', resolve).once('error', reject));
  // Not keeping the caller alive: a forgotten stop() ends at exit through the 'exit' handler instead of hanging.
  child.unref();
  let early = null;
  const exited = new Promise((resolve) => child.once('exit', (code, sig) => resolve((early = `exited with ${code ?? sig}`))));
  const handle = { pgid: child.pid, watchdog: spawnWatchdog(child.pid) };
  live.add(handle);

  let ready = false;
  let stopping;
  const stop = () =>
    (stopping ??= (async () => {
      child.ref(); // the exit event must keep this process alive until it arrives
      signalGroup(handle.pgid, 'SIGTERM');
      const forced = setTimeout(() => signalGroup(handle.pgid, 'SIGKILL'), STOP_GRACE_MS);
      await exited;
      // moto forks nothing today; bounded in case a member ends up a zombie that only init reaps.
      for (let i = 0; i < 100 && groupAlive(handle.pgid); i++) await sleep(50);
      clearTimeout(forced);
      handle.watchdog.kill('SIGKILL');
      live.delete(handle);
      // Logs of servers that came up are rarely wanted and would pile up, one per port; failed starts keep theirs.
      if (ready) fs.rmSync(logFile, { force: true });
    })());

  const endpoint = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!early && Date.now() < deadline) {
    if (await answers(`${endpoint}/moto-api/`)) {
      ready = true;
      return { endpoint, port, pid: child.pid, logFile, stop };
    }
    await sleep(100);
  }
  const why = early ?? `did not answer within ${READY_TIMEOUT_MS / 1000} s`;
  await stop();
  const err = new Error(`moto_server on port ${port} ${why}; log ${logFile}:\n${tail(logFile)}`);
  err.exitedEarly = why.startsWith('exited');
  throw err;
}

async function answers(url) {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    return false;
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Starts moto_server on 127.0.0.1 (a free port unless one is given) and waits until it answers.
 * The server never outlives this process: exit, signals, crashes and even SIGKILL of this process take it down.
 * @param {{ port?: number }} [options]
 * @returns {Promise<{ endpoint: string, port: number, pid: number, logFile: string, stop: () => Promise<void> }>}
 *   `stop()` SIGTERMs the server's process group (SIGKILL after 3 s) and resolves once it is gone; it is idempotent.
 */
export async function startMoto({ port } = {}) {
  const bin = ensureMoto();
  installHandlers();
  // A picked port can be taken by someone else before moto binds it: pick again then.
  for (let attempt = 1; ; attempt++) {
    try {
      return await launch(bin, port ?? (await freePort()));
    } catch (err) {
      if (port !== undefined || !err.exitedEarly || attempt === 3) throw err;
      log(`retrying on another port: ${err.message.split('\n')[0]}`);
    }
  }
}

async function main(command, args) {
  if (command === 'install') {
    log(`moto_server: ${ensureMoto()}`);
    return;
  }
  if (command === 'start') {
    const i = args.indexOf('--port');
    const moto = await startMoto(i >= 0 ? { port: Number(args[i + 1]) } : {});
    // Comment plus KEY=VALUE lines: paste into a shell or a dotenv file.
    process.stdout.write(
      [
        `# moto_server ${moto.endpoint} (pid ${moto.pid}, log ${path.relative(REPO, moto.logFile)}); Ctrl-C stops it`,
        `AWS_ENDPOINT_URL=${moto.endpoint}`,
        'AWS_REGION=us-east-1',
        'AWS_ACCESS_KEY_ID=testing',
        'AWS_SECRET_ACCESS_KEY=testing',
        '',
      ].join('\n'),
    );
    const keepAlive = setInterval(() => {}, 1 << 30);
    const shutdown = async () => {
      await moto.stop();
      clearInterval(keepAlive);
      log('stopped');
      process.exit(0);
    };
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.once(sig, shutdown);
    return;
  }
  process.stderr.write('usage: node scripts/emulator.mjs install | start [--port N]\n');
  process.exitCode = 2;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv[2], process.argv.slice(3)).catch((err) => {
    log(err.message);
    process.exit(1);
  });
}
