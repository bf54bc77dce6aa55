import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

/** `npm run openapi`: the OpenAPI document of a configuration's routes, printed for the API's callers. */
const REPO = path.resolve(__dirname, '../..');
const run = (args: string[]) => promisify(execFile)(process.execPath, ['scripts/run.mjs', 'bin/openapi.ts', ...args], { cwd: REPO, timeout: 60_000 });

describe('npm run openapi', () => {
  it("prints the example's routes as an OpenAPI 3.0 document without API Gateway's extensions", async () => {
    const { stdout } = await run([]);
    const doc = JSON.parse(stdout);
    const example = JSON.parse(readFileSync(path.join(REPO, 'config/gatehouse.example.json'), 'utf8'));

    expect(doc.openapi).toBe('3.0.1');
    const operations = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`));
    expect(operations.sort()).toEqual(example.routes.map((r: { method: string; path: string }) => `${r.method} ${r.path}`).sort());
    expect(stdout).not.toContain('x-amazon-apigateway');
  }, 60_000);

  it('says why it cannot read a configuration, and exits 2', async () => {
    await expect(run(['config/does-not-exist.json'])).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('cannot read config/does-not-exist.json (ENOENT)') });
  }, 60_000);
});
