import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import type { ProxyHandler } from './http-router';

// The SDK default retries 3 times with no timeout; a handler should fail (500, client retries) well before
// API Gateway's 29 s integration timeout instead of hanging on one slow connection.
const DYNAMODB_OPTIONS = { maxAttempts: 3, requestHandler: { connectionTimeout: 1000, requestTimeout: 3000, throwOnRequestTimeout: true } };

let dynamodb: DynamoDBClient | undefined;

/**
 * The DynamoDB client of a deployed handler, built once per execution environment on first use. Region, endpoint
 * and credentials come from the standard SDK environment (`AWS_REGION`, `AWS_ENDPOINT_URL`, ...).
 */
export function sharedDynamoClient(): DynamoDBClient {
  return (dynamodb ??= new DynamoDBClient(DYNAMODB_OPTIONS));
}

/** The value of environment variable `name`; throws naming the variable when it is unset or empty. */
export function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`environment variable ${name} is not set: the stack must pass it to this function`);
  return value;
}

/**
 * A deployed entry point that builds its handler on the first invocation, not at import: tests import the module
 * for its factory without the deployed environment, and the environment is read once per execution environment.
 */
export function lazyHandler(make: () => ProxyHandler): ProxyHandler {
  let built: ProxyHandler | undefined;
  // async: a failure to build (a missing variable) is a rejected invocation, not a synchronous throw.
  return async (event: APIGatewayProxyEvent, context: Context) => (built ??= make())(event, context);
}
