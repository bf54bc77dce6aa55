// Installs the npm dependencies when node_modules is missing or older than package-lock.json, so that the README's
// commands work on a fresh clone. Node built-ins only: this runs before anything is installed.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const LOCK = path.join(REPO, 'package-lock.json');
const STAMP = path.join(REPO, 'node_modules', '.gatehouse-lock.sha256');

/** Runs `npm ci` unless node_modules was installed from this exact package-lock.json. */
export function ensureDeps() {
  const want = createHash('sha256').update(fs.readFileSync(LOCK)).digest('hex');
  const have = fs.existsSync(STAMP) ? fs.readFileSync(STAMP, 'utf8').trim() : '';
  if (have === want) return;
  process.stderr.write('[deps] installing npm packages (npm ci, about a minute on a fresh clone)\n');
  const res = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: REPO, stdio: ['ignore', 2, 2] });
  if (res.status !== 0) throw new Error(`npm ci failed with ${res.status ?? res.signal}`);
  fs.writeFileSync(STAMP, `${want}\n`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) ensureDeps();
