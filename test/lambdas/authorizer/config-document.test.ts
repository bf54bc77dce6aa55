import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AUTHORIZER_CONFIG_ENV, AUTHORIZER_CONFIG_FILE, AUTHORIZER_TABLE_ENV } from '../../../contract/bundled-config';
import { ConfigError } from '../../../contract/config-error';
import { readConfigDocument } from '../../../lambdas/authorizer/config-document';

/**
 * Where the deployed authorizer finds its configuration: the document bundled next to its code (what the stack
 * deploys, any size), with the table's name from the environment; else the whole document in GATEHOUSE_CONFIG
 * (what a team that runs the function its own way may pass). A bad document is refused at cold start without
 * echoing it.
 */
describe('readConfigDocument', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-config-document-'));
    file = path.join(dir, AUTHORIZER_CONFIG_FILE);
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('reads the bundled document and merges in the table name from the environment', () => {
    fs.writeFileSync(file, JSON.stringify({ environment: 'live', routes: [] }));

    expect(readConfigDocument(file, { [AUTHORIZER_TABLE_ENV]: 'gatehouse-Data-1' })).toEqual({ environment: 'live', routes: [], tableName: 'gatehouse-Data-1' });
  });

  it('prefers the bundled document to GATEHOUSE_CONFIG', () => {
    fs.writeFileSync(file, JSON.stringify({ environment: 'live' }));

    expect(readConfigDocument(file, { [AUTHORIZER_CONFIG_ENV]: JSON.stringify({ environment: 'test' }) })).toEqual({ environment: 'live' });
  });

  it('falls back to GATEHOUSE_CONFIG when nothing is bundled, as it is', () => {
    const doc = { environment: 'test', tableName: 't' };

    expect(readConfigDocument(file, { [AUTHORIZER_CONFIG_ENV]: JSON.stringify(doc), [AUTHORIZER_TABLE_ENV]: 'ignored' })).toEqual(doc);
  });

  it('refuses no document at all, naming both places', () => {
    expect(() => readConfigDocument(file, {})).toThrow(new ConfigError(`no configuration: neither ${AUTHORIZER_CONFIG_FILE} in the bundle nor ${AUTHORIZER_CONFIG_ENV} is there`));
  });

  it('refuses a document that is not JSON without quoting it', () => {
    fs.writeFileSync(file, '{"issuers": [{"hs256SecretId": "s3cr3t-name"');

    let error: unknown;
    try {
      readConfigDocument(file, {});
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toBe(`${AUTHORIZER_CONFIG_FILE} is not valid JSON`);
  });

  it('says why an unreadable bundled file cannot be read (and does not fall back)', () => {
    fs.mkdirSync(file); // a directory where the file should be: EISDIR

    expect(() => readConfigDocument(file, { [AUTHORIZER_CONFIG_ENV]: '{}' })).toThrow(`${AUTHORIZER_CONFIG_FILE} cannot be read (EISDIR)`);
  });
});
