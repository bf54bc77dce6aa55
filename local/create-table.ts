import { CreateTableCommand, type DynamoDBClient, UpdateTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import { GSI1, TABLE_KEYS, TTL_ATTRIBUTE } from '../contract/table';

/**
 * Creates Gatehouse's table on an emulator with the same key schema, index and TTL attribute as the deployed
 * one (lib/gatehouse-table.ts); a test checks the two stay in step.
 */
export async function createGatehouseTable(client: DynamoDBClient, tableName: string): Promise<string> {
  const s = (AttributeName: string) => ({ AttributeName, AttributeType: 'S' as const });
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [
        { AttributeName: TABLE_KEYS.partition, KeyType: 'HASH' },
        { AttributeName: TABLE_KEYS.sort, KeyType: 'RANGE' },
      ],
      AttributeDefinitions: [s(TABLE_KEYS.partition), s(TABLE_KEYS.sort), s(GSI1.partition), s(GSI1.sort)],
      GlobalSecondaryIndexes: [
        {
          IndexName: GSI1.name,
          KeySchema: [
            { AttributeName: GSI1.partition, KeyType: 'HASH' },
            { AttributeName: GSI1.sort, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
    }),
  );
  await client.send(new UpdateTimeToLiveCommand({ TableName: tableName, TimeToLiveSpecification: { AttributeName: TTL_ATTRIBUTE, Enabled: true } }));
  return tableName;
}
