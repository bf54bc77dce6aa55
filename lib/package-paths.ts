import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** The package's name in package.json: how its root is recognised, in the repository and installed alike. */
export const PACKAGE_NAME = 'gatehouse';

/** The lock files NodejsFunction understands (aws-cdk-lib/aws-lambda-nodejs), any of which marks a project's root. */
export const LOCK_FILES = ['package-lock.json', 'yarn.lock', 'pnpm-lock.yaml', 'bun.lock', 'bun.lockb'] as const;

/** `dir` and its parents, nearest first. */
function* upFrom(dir: string): Generator<string> {
  let current = path.resolve(dir);
  for (;;) {
    yield current;
    const parent = path.dirname(current);
    if (parent === current) return;
    current = parent;
  }
}

function packageName(dir: string): string | undefined {
  const file = path.join(dir, 'package.json');
  if (!existsSync(file)) return undefined;
  try {
    return (JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown }).name as string | undefined;
  } catch {
    return undefined;
  }
}

/**
 * The folder of Gatehouse's package.json, found from `from` upwards: the repository's root when lib/*.ts run from
 * source (tsx, jest), `node_modules/gatehouse` when dist/lib/*.js run installed. The Lambda sources
 * (`lambdas/...`) are there in both.
 */
export function packageRoot(from: string = __dirname): string {
  for (const dir of upFrom(from)) if (packageName(dir) === PACKAGE_NAME) return dir;
  throw new Error(`Gatehouse: no package.json named "${PACKAGE_NAME}" in ${from} or above it`);
}

/** Where NodejsFunction bundles from: the project whose lock file holds the dependencies the Lambda code imports. */
export interface BundlingRoot {
  /** The folder of the lock file (NodejsFunction's `projectRoot`): every entry must be inside it. */
  readonly projectRoot: string;
  readonly depsLockFilePath: string;
}

/**
 * The nearest folder, from the package's root upwards, with a lock file: the repository itself, or the app that
 * installed the package (`<app>/node_modules/gatehouse` -> `<app>`, a workspace's root for a monorepo). The package
 * ships no lock file, so installed it is always the app's, and esbuild resolves jose, zod and @middy from the
 * app's node_modules, where npm installed them as Gatehouse's dependencies.
 */
export function bundlingRoot(root: string = packageRoot()): BundlingRoot {
  for (const dir of upFrom(root)) {
    const lock = LOCK_FILES.find((name) => existsSync(path.join(dir, name)));
    if (lock) return { projectRoot: dir, depsLockFilePath: path.join(dir, lock) };
  }
  throw new Error(`Gatehouse: no lock file (${LOCK_FILES.join(', ')}) in ${root} or above it: install your app's dependencies first (npm install)`);
}
