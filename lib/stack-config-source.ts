import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../contract/config-error';
import { type StackConfig, type StackConfigInput, parseStackConfig } from '../contract/stack-config';

/** Where a stack's configuration comes from: a validated or written object, or a JSON file. */
export interface StackConfigSource {
  readonly config?: StackConfig | StackConfigInput;
  readonly configFile?: string;
  readonly baseDir?: string;
}

/** Whether `config` is already validated (parseStackConfig's result) rather than a document as written. */
export const isStackConfig = (config: StackConfig | StackConfigInput): config is StackConfig =>
  'authorizer' in config && 'source' in config && 'createdServiceSecrets' in config;

/**
 * Reads and validates a JSON configuration file. The team's handler entries are relative to its folder. Throws a
 * ConfigError naming the file (and the field) when it is missing, not JSON or invalid.
 */
export function loadStackConfig(file: string): StackConfig {
  const resolved = path.resolve(file);
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(resolved, 'utf8'));
  } catch (err) {
    throw new ConfigError(`${file}: ${(err as Error).message}`);
  }
  return parseStackConfig(doc, file, path.dirname(resolved));
}

/** The validated configuration from exactly one of `config` and `configFile`. */
export function resolveStackConfig(source: StackConfigSource): StackConfig {
  if (source.config !== undefined && source.configFile !== undefined) throw new ConfigError('Gatehouse: give config or configFile, not both');
  if (source.configFile !== undefined) return loadStackConfig(source.configFile);
  if (source.config === undefined) throw new ConfigError('Gatehouse: a configuration is required (config or configFile)');
  if (isStackConfig(source.config)) return source.config;
  return parseStackConfig(source.config, 'config', path.resolve(source.baseDir ?? '.'));
}
