/**
 * How the stack hands the authorizer its configuration: as a file in the function's code bundle, written at synth
 * time, rather than an environment variable. Lambda allows 4 KB for all of a function's environment variables
 * together (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html); a route table of 60 routes
 * is already twice that. The file costs nothing per request: it is read once, at cold start.
 *
 * Only what is known at synth time goes into the file. The table's name is a deploy-time value, so it travels in
 * one small variable and is merged in when the file is read.
 */
export const AUTHORIZER_CONFIG_FILE = 'gatehouse-config.json';

/** The variable holding the table's name, merged into the bundled document as `tableName`. */
export const AUTHORIZER_TABLE_ENV = 'GATEHOUSE_TABLE_NAME';

/** The variable a document may still come in by (local runs and tests); the bundled file wins when both exist. */
export const AUTHORIZER_CONFIG_ENV = 'GATEHOUSE_CONFIG';
