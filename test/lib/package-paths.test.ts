import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bundlingRoot, packageRoot } from '../../lib/package-paths';

/** Where the Lambda sources and the lock file are found: in the repository, and installed in an app's node_modules. */
const ROOT = path.resolve(__dirname, '../..');
let tmp: string;
beforeEach(() => (tmp = mkdtempSync(path.join(os.tmpdir(), 'gatehouse-paths-'))));
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

function write(file: string, content = ''): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, content);
}

describe('packageRoot', () => {
  it('is the repository root from lib/ (sources run by tsx or jest)', () => {
    expect(packageRoot(path.join(ROOT, 'lib'))).toBe(ROOT);
  });

  it("is node_modules/gatehouse from its dist/lib (installed), past the app's own package.json", () => {
    const app = path.join(tmp, 'app');
    write(path.join(app, 'package.json'), JSON.stringify({ name: 'my-app' }));
    const pkg = path.join(app, 'node_modules/gatehouse');
    write(path.join(pkg, 'package.json'), JSON.stringify({ name: 'gatehouse' }));
    mkdirSync(path.join(pkg, 'dist/lib'), { recursive: true });
    expect(packageRoot(path.join(pkg, 'dist/lib'))).toBe(pkg);
  });

  it('throws when no package.json above is named gatehouse', () => {
    write(path.join(tmp, 'package.json'), '{ not json');
    expect(() => packageRoot(tmp)).toThrow(/no package.json named "gatehouse"/);
  });
});

describe('bundlingRoot', () => {
  it("is the repository's own lock file in the repository", () => {
    expect(bundlingRoot(ROOT)).toEqual({ projectRoot: ROOT, depsLockFilePath: path.join(ROOT, 'package-lock.json') });
  });

  it.each(['package-lock.json', 'yarn.lock', 'pnpm-lock.yaml'])("is the app's folder and its %s when installed", (lock) => {
    const app = path.join(tmp, 'app');
    write(path.join(app, lock));
    write(path.join(app, 'node_modules/.package-lock.json'));
    const pkg = path.join(app, 'node_modules/gatehouse');
    mkdirSync(pkg, { recursive: true });
    expect(bundlingRoot(pkg)).toEqual({ projectRoot: app, depsLockFilePath: path.join(app, lock) });
  });

  it('throws, saying to install, when there is no lock file', () => {
    const pkg = path.join(tmp, 'app/node_modules/gatehouse');
    mkdirSync(pkg, { recursive: true });
    // The temporary folder's parents hold no lock file on any sane machine; the message is what is checked.
    expect(() => bundlingRoot(pkg)).toThrow(/no lock file .*(npm install)/);
  });
});
