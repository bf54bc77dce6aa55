// node scripts/mutation-check.mjs [--sandbox] [--only 1,4,6] [--verbose]
//
// Removes one security check at a time from the authorizer source and runs the security and authorizer tests
// against the mutant. A mutant is "killed" when at least one test that passes on the unmodified source fails;
// otherwise it SURVIVED: that check could be deleted without any test noticing. Exits non-zero if any mutant
// survives (or cannot be run). Not part of `npm test`: each mutant costs one jest run (15-30 s).
//
// Every patch is an exact string replacement that must match exactly once, so a change to the source makes the
// script fail loudly instead of silently testing nothing. By default the mutated file is written in place and
// the original is ALWAYS written back (finally, exit and signal handlers); a file someone else changed meanwhile
// is left alone and reported. With --sandbox the whole run happens in a temporary copy of the project, so the
// working tree is never touched (use it while others edit or test in the same tree).
//
// Node built-ins only.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// --forceExit: a test that leaves a handle open (a hung server, say) must not hold a run until the timeout; the
// verdict comes from the JSON report, written when the last test ends.
const JEST_ARGS = ['jest', 'test/security', 'test/lambdas/authorizer', '--silent', '--forceExit'];
const RUN_TIMEOUT_MS = 5 * 60_000;
const MARKER = '// MUTATION-CHECK: temporary mutant written by scripts/mutation-check.mjs; `git checkout` this file if you see this line.';

/** @typedef {{ file: string, find: string, replace: string }} Patch */
/** @typedef {{ id: string, name: string, patches: Patch[], note?: string }} Mutation */

/** @type {Mutation[]} */
const MUTATIONS = [
  {
    id: '1',
    name: 'alg pinning (jwt.ts: the issuer algorithm check, the only place an algorithm is pinned)',
    patches: [
      {
        file: 'lambdas/authorizer/jwt.ts',
        find: "if (typeof alg !== 'string' || !spec.algorithms.includes(alg as never)) {",
        replace: "if (typeof alg !== 'string') {",
      },
    ],
  },
  {
    id: '2',
    name: 'issuer/kid binding (jwt.ts: one JWKS shared by every issuer)',
    patches: [
      {
        file: 'lambdas/authorizer/jwt.ts',
        find: 'key = await issuer.jwks!(header as KeyQuery);',
        // Any issuer's key set may vouch for any token: the first set that knows the kid wins.
        replace:
          'key = await (async () => { let last: unknown; for (const other of this.issuers.values()) { if (!other.jwks) continue; try { return await other.jwks(header as KeyQuery); } catch (err) { last = err; } } throw last; })();',
      },
    ],
  },
  {
    id: '3',
    name: 'Supabase role check (issuers.ts: requiredClaimValues role = authenticated)',
    patches: [{ file: 'lambdas/authorizer/issuers.ts', find: "requiredClaimValues: { role: 'authenticated' },", replace: 'requiredClaimValues: {},' }],
  },
  {
    id: '4',
    name: 'API key checksum (api-key.ts: parseApiKey ok on shape alone)',
    patches: [
      {
        file: 'contract/api-key.ts',
        find: "if (checksum(value.slice(0, -8)) !== m[4]) return { ok: false, reason: 'APIKEY_CHECKSUM_INVALID' };",
        replace: '',
      },
    ],
  },
  {
    id: '5',
    name: 'environment check (api-keys.ts: key environment vs deployment)',
    patches: [
      {
        file: 'lambdas/authorizer/api-keys.ts',
        find: "if (parsed.key.environment !== this.environment) throw new AuthError('APIKEY_ENVIRONMENT_MISMATCH');",
        replace: '',
      },
    ],
  },
  {
    id: '5b',
    name: 'environment check (api-keys.ts: stored record environment vs key)',
    patches: [
      {
        file: 'lambdas/authorizer/api-keys.ts',
        find: "if (record.environment !== parsed.key.environment) throw new AuthError('APIKEY_ENVIRONMENT_MISMATCH', detail);",
        replace: '',
      },
    ],
  },
  {
    id: '6',
    name: 'constant-time compare (service-secrets.ts: timingSafeEqual -> ===)',
    note: 'timing only: no functional test can see it; expected to be killed by the source check in test/security/api-keys-and-services.test.ts',
    patches: [
      {
        file: 'lambdas/authorizer/service-secrets.ts',
        find: 'timingSafeEqual(sha256(c), digest) || ok',
        replace: 'sha256(c).equals(digest) || ok',
      },
    ],
  },
  {
    id: '7',
    name: 'size cap (classify.ts: AUTHORIZATION_TOO_LARGE)',
    patches: [{ file: 'lambdas/authorizer/classify.ts', find: "throw new AuthError('AUTHORIZATION_TOO_LARGE');", replace: '' }],
  },
  {
    id: '8',
    name: 'blank/short service secret guard (service-secrets.ts: MIN_SERVICE_SECRET_BYTES)',
    patches: [
      {
        file: 'lambdas/authorizer/service-secrets.ts',
        find: 'c !== undefined && !isWeakSecret(c, MIN_SERVICE_SECRET_BYTES)',
        replace: 'c !== undefined',
      },
    ],
  },
];

// ---------------------------------------------------------------------------------------------------------------

const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const option = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
if (flag('--help') || flag('-h')) {
  process.stdout.write('usage: node scripts/mutation-check.mjs [--sandbox] [--only 1,4,6] [--verbose]\n');
  process.exit(0);
}
const verbose = flag('--verbose');
const only = option('--only')?.split(',').map((s) => s.trim());
const selected = only ? MUTATIONS.filter((m) => only.includes(m.id)) : MUTATIONS;
if (only && selected.length !== only.length) fail(`--only: unknown mutation id in ${only.join(',')}; known: ${MUTATIONS.map((m) => m.id).join(', ')}`);

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-mutation-'));
const root = flag('--sandbox') ? makeSandbox(tmp) : REPO;

/**
 * Files currently mutated: path -> { original, mutant }. Restored by restoreAll(), which every exit path calls.
 * @type {Map<string, { original: string, mutant: string }>}
 */
const mutated = new Map();
/** @type {import('node:child_process').ChildProcess | undefined} */
let child;

function restoreAll() {
  for (const [file, { original, mutant }] of mutated) {
    let current;
    try {
      current = fs.readFileSync(file, 'utf8');
    } catch {
      current = undefined;
    }
    if (current === mutant || current === undefined) {
      fs.writeFileSync(file, original);
    } else if (current !== original) {
      // Someone else saved this file while the mutant was in place: do not overwrite their work.
      const copy = path.join(tmp, `${path.basename(file)}.original`);
      fs.writeFileSync(copy, original);
      process.stderr.write(`mutation-check: ${path.relative(root, file)} changed during the run; left as is. The original is in ${copy}\n`);
    }
    mutated.delete(file);
  }
}

function killChild() {
  if (child?.pid && child.exitCode === null) {
    try {
      process.kill(-child.pid, 'SIGTERM'); // the whole jest process group (jest, its workers, moto)
    } catch {
      /* already gone */
    }
  }
}

process.on('exit', () => {
  killChild();
  restoreAll();
  // The scratch directory (reports, the sandbox) goes too, unless it keeps an original restoreAll could not write back.
  if (!fs.readdirSync(tmp).some((f) => f.endsWith('.original'))) fs.rmSync(tmp, { recursive: true, force: true });
});
for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]]) {
  process.on(signal, () => {
    process.stderr.write(`\nmutation-check: ${signal}, restoring the original sources\n`);
    killChild();
    restoreAll();
    process.exit(code);
  });
}
process.on('uncaughtException', (err) => {
  killChild();
  restoreAll();
  process.stderr.write(`mutation-check: ${err?.stack ?? err}\n`);
  process.exit(2);
});

function fail(message) {
  process.stderr.write(`mutation-check: ${message}\n`);
  process.exit(2);
}

/**
 * A copy of the project in `dir` (sources, tests, configs, test vectors), sharing node_modules and the emulator
 * venv. Nothing outside the repository is needed: the tests read only files inside it.
 */
function makeSandbox(dir) {
  const target = path.join(dir, path.basename(REPO));
  const shared = new Set(['node_modules', '.venv']);
  const skipped = new Set(['.git', 'cdk.out', '.local', 'coverage']);
  fs.mkdirSync(target);
  for (const entry of fs.readdirSync(REPO)) {
    if (skipped.has(entry)) continue;
    if (shared.has(entry)) fs.symlinkSync(path.join(REPO, entry), path.join(target, entry));
    else fs.cpSync(path.join(REPO, entry), path.join(target, entry), { recursive: true });
  }
  return target;
}

/** Applies a mutation's patches to the current text of its files; throws unless each `find` occurs exactly once. */
function mutants(m) {
  /** @type {Map<string, string>} */
  const out = new Map();
  for (const p of m.patches) {
    const file = path.join(root, p.file);
    const text = out.get(file) ?? fs.readFileSync(file, 'utf8');
    const count = text.split(p.find).length - 1;
    if (count !== 1) throw new Error(`mutation ${m.id}: expected exactly one occurrence in ${p.file} of\n    ${p.find}\n  found ${count}. The source changed: update the patch.`);
    out.set(file, text.replace(p.find, () => p.replace));
  }
  return out;
}

/** Runs jest once; resolves to the set of failing test names, and suites that could not run. */
function runJest(label) {
  const output = path.join(tmp, `${label}.json`);
  fs.rmSync(output, { force: true });
  return new Promise((resolve) => {
    let log = '';
    const started = Date.now();
    child = spawn('npx', [...JEST_ARGS, '--json', `--outputFile=${output}`], {
      cwd: root,
      detached: true, // its own process group, so a signal can stop jest, its workers and the emulator together
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, FORCE_COLOR: '0' },
    });
    child.stdout.on('data', (d) => (log += d));
    child.stderr.on('data', (d) => (log += d));
    const timer = setTimeout(() => {
      log += `\n[mutation-check] timed out after ${RUN_TIMEOUT_MS / 1000} s\n`;
      killChild();
    }, RUN_TIMEOUT_MS);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      child = undefined;
      const seconds = Math.round((Date.now() - started) / 100) / 10;
      let report;
      try {
        report = JSON.parse(fs.readFileSync(output, 'utf8'));
      } catch {
        resolve({ ok: false, failing: new Set(), broken: new Map([['(jest)', `jest produced no report (exit ${code ?? signal})`]]), total: 0, seconds, log });
        return;
      }
      const failing = new Set();
      /** Suites that could not run at all (a load or syntax error): file -> first line of the message. */
      const broken = new Map();
      for (const suite of report.testResults ?? []) {
        const file = path.relative(root, suite.name);
        const failed = (suite.assertionResults ?? []).filter((a) => a.status === 'failed');
        for (const a of failed) failing.add(`${file} > ${a.fullName}`);
        if (suite.status === 'failed' && !failed.length) broken.set(file, (suite.message || suite.testExecError?.message || 'failed to run').split('\n').find((l) => l.trim())?.trim() ?? '');
      }
      resolve({ ok: true, failing, broken, total: report.numTotalTests ?? 0, seconds, log });
    });
  });
}

// ---------------------------------------------------------------------------------------------------------------

// 1. Every patch must apply to today's source before anything runs; a leftover mutant from a killed run stops us.
for (const m of selected) {
  for (const p of m.patches) {
    if (fs.readFileSync(path.join(root, p.file), 'utf8').startsWith(MARKER)) {
      fail(`${p.file} still holds a mutant from an interrupted run: restore it (git checkout ${p.file}) and run again`);
    }
  }
  try {
    mutants(m);
  } catch (err) {
    fail(err.message);
  }
}

process.stdout.write(`mutation-check: ${selected.length} mutations, ${root === REPO ? 'in place' : `in a sandbox copy (${root})`}; jest ${JEST_ARGS.slice(1).join(' ')}\n`);

// 2. Baseline: which tests already fail on the unmodified source (a mutant is killed only by a test that passed here).
const baseline = await runJest('baseline');
if (!baseline.ok || !baseline.total) {
  process.stderr.write(`${baseline.log.slice(-4000)}\n`);
  fail(`the baseline run is broken: ${[...baseline.broken.values()].join('; ')}`);
}
process.stdout.write(
  `baseline: ${baseline.total} tests, ${baseline.failing.size} failing and ${baseline.broken.size} suites not running on the unmodified source (${baseline.seconds} s)\n`,
);
for (const t of baseline.failing) process.stdout.write(`  already failing (ignored): ${t}\n`);
for (const [file, message] of baseline.broken) process.stdout.write(`  suite not running (ignored): ${file}: ${message}\n`);

// 3. One jest run per mutant, the original always written back.
const results = [];
for (const m of selected) {
  let run;
  try {
    for (const [file, mutant] of mutants(m)) {
      const original = fs.readFileSync(file, 'utf8');
      const text = `${MARKER}\n${mutant}`;
      mutated.set(file, { original, mutant: text });
      fs.writeFileSync(file, text);
    }
    run = await runJest(`mutation-${m.id}`);
  } finally {
    restoreAll();
  }
  const killers = [...run.failing].filter((t) => !baseline.failing.has(t));
  // A suite that stops loading under the mutant says the patch broke the file, not that a test caught it.
  const newlyBroken = [...run.broken].filter(([file]) => !baseline.broken.has(file)).map(([file, message]) => `${file}: ${message}`);
  const status = !run.ok || newlyBroken.length ? 'ERROR' : killers.length ? 'killed' : 'SURVIVED';
  results.push({ m, status });
  const detail =
    status === 'killed'
      ? `${killers.length} test${killers.length === 1 ? '' : 's'} failed, e.g. ${killers.slice(0, 2).map((t) => `"${t}"`).join(', ')}`
      : status === 'ERROR'
        ? `could not run the tests: ${run.ok ? newlyBroken.join('; ') : [...run.broken.values()].join('; ')}`
        : 'no test failed';
  process.stdout.write(`${status.padEnd(8)} (${m.id}) ${m.name} [${run.seconds} s]: ${detail}${m.note ? ` -- note: ${m.note}` : ''}\n`);
  if (verbose || status === 'ERROR') process.stdout.write(`${run.log.slice(-4000)}\n`);
}

const count = (s) => results.filter((r) => r.status === s).length;
const survived = count('SURVIVED');
const errors = count('ERROR');
process.stdout.write(
  `mutation-check: ${results.length} mutations, ${count('killed')} killed, ${survived} survived${errors ? `, ${errors} could not run` : ''}${survived || errors ? ' -- FAIL' : ' -- OK'}\n`,
);
process.exit(survived || errors ? 1 : 0);
