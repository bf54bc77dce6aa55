import path from 'node:path';
import { createAuthorizer } from './authorizer';
import { readConfigDocument } from './config-document';
import { AUTHORIZER_CONFIG_FILE } from '../../contract/bundled-config';

/**
 * The deployed entry point. The stack bundles the configuration document with this code (contract/bundled-config.ts)
 * and names the table in an environment variable; it is validated here, at cold start, so a bad document fails the
 * first invocation with a message naming the field rather than deciding anything.
 */
export const handler = createAuthorizer(readConfigDocument(path.join(__dirname, AUTHORIZER_CONFIG_FILE), process.env));
