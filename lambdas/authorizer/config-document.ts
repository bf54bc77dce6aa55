import { ConfigError } from '../../contract/config-error';
import { AUTHORIZER_CONFIG_ENV, AUTHORIZER_CONFIG_FILE, AUTHORIZER_TABLE_ENV } from '../../contract/bundled-config';
import { readBundledFile } from '../shared/bundled-file';

/**
 * The document: the bundled file with the table's name merged in, or else the whole document in `GATEHOUSE_CONFIG`.
 * Never echoes the document (it names secrets and issuers) in an error.
 */
export function readConfigDocument(file: string, env: NodeJS.ProcessEnv): unknown {
  const bundled = readBundledFile(file);
  const fromFile = bundled !== undefined;
  const raw = bundled ?? env[AUTHORIZER_CONFIG_ENV];
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
