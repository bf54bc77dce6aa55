import { createAuthorizer } from './authorizer';
import { ConfigError } from '../../contract/config-error';

/**
 * The deployed entry point. The stack renders the configuration document into `GATEHOUSE_CONFIG`; it is validated
 * here, at cold start, so a bad document fails the first invocation with a message naming the field rather than
 * deciding anything.
 */
function fromEnvironment() {
  const raw = process.env.GATEHOUSE_CONFIG;
  if (!raw) throw new ConfigError('GATEHOUSE_CONFIG is not set: the stack renders the authorizer configuration into it');
  let doc: unknown;
  try {
    doc = JSON.parse(raw);
  } catch {
    throw new ConfigError('GATEHOUSE_CONFIG is not valid JSON');
  }
  return createAuthorizer(doc);
}

export const handler = fromEnvironment();
