import { readFileSync } from 'node:fs';
import { ConfigError } from '../../contract/config-error';
import { AUTHORIZER_CONFIG_ENV, AUTHORIZER_CONFIG_FILE, AUTHORIZER_TABLE_ENV } from '../../contract/bundled-config';

/**
 * The document: the bundled file with the table's name merged in, or else the whole document in `GATEHOUSE_CONFIG`.
 * Never echoes the document (it names secrets and issuers) in an error.
 */
export function readConfigDocument(file: string, env: NodeJS.ProcessEnv): unknown {
  let raw: string | undefined;
  let fromFile = false;
  try {
    raw = readFileSync(file, 'utf8');
    fromFile = true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new ConfigError(`${AUTHORIZER_CONFIG_FILE} cannot be read (${(err as NodeJS.ErrnoException).code})`);
    raw = env[AUTHORIZER_CONFIG_ENV];
  }
  if (!raw) throw new ConfigError(`no configuration: neither ${AUTHORIZER_CONFIG_FILE} in the bundle nor ${AUTHORIZER_CONFIG_ENV} is there`);
  let doc: unknown;
  try {
    doc = JSON.parse(raw);
  } catch {
    throw new ConfigError(`${fromFile ? AUTHORIZER_CONFIG_FILE : AUTHORIZER_CONFIG_ENV} is not valid JSON`);
  }
  if (!fromFile || doc === null || typeof doc !== 'object' || Array.isArray(doc)) return doc;
  const tableName = env[AUTHORIZER_TABLE_ENV];
  return tableName ? { ...doc, tableName } : doc;
}
