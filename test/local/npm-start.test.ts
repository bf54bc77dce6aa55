import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';

/**
 * Issue 18: `npm start` stops everything it started when its own process (npm's) gets SIGTERM or SIGINT. The
 * project's .npmrc runs scripts with bash, which execs node in its place, so node gets what npm forwards. Under
 * another script shell (dash, `sh`), SIGTERM kills the shell without passing it on: scripts/run.mjs notices the
 * lost parent and stops local mode all the same. (dash holds a SIGINT until its command ends: only bash, or a
 * Ctrl-C to the whole process group, gets SIGINT through.)
 */
const REPO = path.resolve(__dirname, '../..');

/** Resolves with the gateway's and the emulator's URLs once `npm start` prints that it serves. */
function serving(child: ChildProcess): Promise<{ base: string; emulator: string }> {
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString('utf8');
      const m = /Serving (http:\/\/\S+) \(emulator (http:\/\/[^)\s]+)\)/.exec(out);
      if (m) resolve({ base: m[1]!, emulator: m[2]! });
    });
    child.once('exit', (code) => reject(new Error(`npm start exited with ${code} before serving:\n${out}`)));
  });
}

/** Whether a whole answer comes from `url` (a connection cut mid-answer, as a server stops, counts as none). */
const answers = (url: string) =>
  fetch(url, { signal: AbortSignal.timeout(1_000) })
    .then((r) => r.arrayBuffer())
    .then(
      () => true,
      () => false,
    );

async function stopsWithin(urls: string[], ms: number): Promise<boolean[]> {
  const deadline = Date.now() + ms;
  let up = await Promise.all(urls.map(answers));
  while (up.some(Boolean) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
    up = await Promise.all(urls.map(answers));
  }
  return up;
}

describe('npm start', () => {
  it.each([
    ['SIGTERM', 'bash'],
    ['SIGINT', 'bash'],
    ['SIGTERM', 'sh'],
  ] as const)('stops the gateway and the emulator on %s to the npm process (script shell %s)', async (signal, shell) => {
    // Its own process group, so that whatever a failed run leaves behind can be cleaned up here.
    const child = spawn('npm', ['start', '--', '--port', '0'], {
      cwd: REPO,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { PATH: process.env.PATH, HOME: process.env.HOME, npm_config_script_shell: shell },
    });
    try {
      const { base, emulator } = await serving(child);
      expect(await answers(`${base}/health`)).toBe(true);
      expect(await answers(`${emulator}/moto-api/`)).toBe(true);

      process.kill(child.pid!, signal);

      expect(await stopsWithin([`${base}/health`, `${emulator}/moto-api/`], 10_000)).toEqual([false, false]);
    } finally {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone, as it should be
      }
    }
  }, 180_000);
});
