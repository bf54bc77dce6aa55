/**
 * The headers the authorizers are keyed by (their identity sources), shared by the stack and the local gateway.
 * User and API-key routes: Authorization. Service routes: Authorization and X-Service-Name, which the decision
 * reads. API Gateway answers 401 without calling an authorizer when one is missing, and caches by their values.
 */
export const AUTHORIZATION_HEADER = 'Authorization';
export const SERVICE_NAME_HEADER = 'X-Service-Name';
