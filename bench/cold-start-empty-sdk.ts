/**
 * The cold-start baseline of a handler that uses DynamoDB: the empty handler plus the DynamoDB client, required at
 * load as any such handler requires it (the Lambda runtime provides the SDK; loading it is init time all the same).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';

export const handler = async (): Promise<{ statusCode: number; body: string }> => ({ statusCode: 200, body: DynamoDBClient.name });
