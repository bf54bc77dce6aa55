import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError } from '../../contract/config-error';
import { type StackConfigInput, parseStackConfig } from '../../contract/stack-config';
import { isStackConfig, loadStackConfig, resolveStackConfig } from '../../lib/stack-config-source';

/** The ways GatehouseStack takes its configuration: validated, as written (typed), or a JSON file. */
const doc: StackConfigInput = {
  environment: 'test',
  issuers: [{ type: 'workos', clientId: 'client_01HEXAMPLE' }],
  routes: [
    { method: 'GET', path: '/health', public: true, handler: 'health' },
    { method: 'GET', path: '/v1/me', accepts: ['user'], handler: 'me' },
  ],
  deployment: { stageName: 'dev' },
};
let tmp: string;
beforeEach(() => (tmp = mkdtempSync(path.join(os.tmpdir(), 'gatehouse-config-'))));
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

describe('resolveStackConfig', () => {
  it('passes a validated configuration through', () => {
    const config = parseStackConfig(doc);
    expect(isStackConfig(config)).toBe(true);
    expect(resolveStackConfig({ config })).toBe(config);
  });

  it('validates a configuration as written, with handler entries relative to baseDir', () => {
    expect(isStackConfig(doc)).toBe(false);
    const config = resolveStackConfig({ config: doc, baseDir: tmp });
    expect(config.deployment.stageName).toBe('dev');
    expect(config.authorizer.routes).toHaveLength(2);
    expect(config.baseDir).toBe(tmp);
  });

  it('reads a file, with handler entries relative to its folder', () => {
    const file = path.join(tmp, 'gatehouse.json');
    writeFileSync(file, JSON.stringify(doc));
    const config = resolveStackConfig({ configFile: file });
    expect(config.authorizer.environment).toBe('test');
    expect(config.baseDir).toBe(tmp);
  });

  it('names the field of a wrong configuration, and the file of a missing or broken one', () => {
    expect(() => resolveStackConfig({ config: { ...doc, routes: [{ method: 'GET', path: '/x', handler: 'nope', public: true }] } })).toThrow(/unknown handler "nope"/);
    expect(() => loadStackConfig(path.join(tmp, 'absent.json'))).toThrow(ConfigError);
    const broken = path.join(tmp, 'broken.json');
    writeFileSync(broken, '{');
    expect(() => loadStackConfig(broken)).toThrow(new RegExp(`^${broken.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: `));
  });

  it('takes exactly one of config and configFile', () => {
    expect(() => resolveStackConfig({})).toThrow(/a configuration is required/);
    expect(() => resolveStackConfig({ config: doc, configFile: 'gatehouse.json' })).toThrow(/not both/);
  });
});
