/**
 * What a deployed Gatehouse stack tells the command-line tool about itself (`gatehouse --stack-name`): its outputs,
 * by key, and the template metadata entry holding the stack configuration document it was synthesized from (the
 * `deployment` section with its defaults filled in). Nothing here is secret: the document names secrets, never
 * holds one.
 */
export const STACK_OUTPUTS = {
  apiUrl: 'ApiUrl',
  restApiId: 'RestApiId',
  tableName: 'TableName',
} as const;

/**
 * Outputs only some stacks have, so not among STACK_OUTPUTS (every one of which the command-line tool requires of
 * a Gatehouse stack): the stage's client certificate id, when a route goes to an HTTP backend (a backend's owner
 * reads its PEM with `aws apigateway get-client-certificate --client-certificate-id <id>`).
 */
export const OPTIONAL_STACK_OUTPUTS = {
  clientCertificateId: 'ClientCertificateId',
} as const;

/** The key of the template's `Metadata` entry holding the stack configuration document. */
export const CONFIG_METADATA_KEY = 'GatehouseConfig';

/** The stack name `gatehouse` and `cdk deploy` use unless told otherwise. */
export const DEFAULT_STACK_NAME = 'Gatehouse';
