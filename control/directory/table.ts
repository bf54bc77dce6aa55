import { type AttributeValue, type DynamoDBClient, QueryCommand, type QueryCommandInput } from '@aws-sdk/client-dynamodb';

/** A DynamoDB item as the SDK reads and writes it. */
export type Item = Record<string, AttributeValue>;

/**
 * Gatehouse's table as the directory's operations (tenants.ts, api-keys.ts, members.ts, sessions.ts) use it: the
 * client, the table's name and the clock, plus the reads they all need. Item shapes: contract/table.ts.
 */
export class DirectoryTable {
  constructor(
    readonly db: DynamoDBClient,
    readonly name: string,
    /** Milliseconds since the epoch. */
    readonly now: () => number = Date.now,
  ) {}

  /** Now as an ISO 8601 timestamp (createdAt, updatedAt, revokedAt). */
  iso(): string {
    return new Date(this.now()).toISOString();
  }

  /** Now in whole seconds since the epoch (expiresAt and the TTL attribute). */
  nowSeconds(): number {
    return Math.floor(this.now() / 1000);
  }

  /** Every item of a query, page after page. */
  async queryAll(input: Omit<QueryCommandInput, 'TableName'>): Promise<Item[]> {
    const items: Item[] = [];
    let start: Item | undefined;
    do {
      const page = await this.db.send(new QueryCommand({ TableName: this.name, ...input, ...(start ? { ExclusiveStartKey: start } : {}) }));
      items.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey;
    } while (start);
    return items;
  }
}

/** An item's primary key attributes. */
export function keyAttrs(k: { pk: string; sk: string }): Item {
  return { pk: { S: k.pk }, sk: { S: k.sk } };
}

/** String attributes, one per property. */
export function strings(o: Record<string, string>): Item {
  return Object.fromEntries(Object.entries(o).map(([k, s]) => [k, { S: s }]));
}
