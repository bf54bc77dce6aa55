import { TransactionCanceledException, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { API_KEYS_PER_TENANT, GSI1, apiKeyIndexKey, apiKeySlotsItemKey } from '../../contract/table';
import { DirectoryError } from './errors';
import { type DirectoryTable, type Item, keyAttrs } from './table';
import type { TransactWrite } from './tenants';

/**
 * The per-tenant key cap, exact under concurrency. The tenant's slots item holds a map `live` of key id ->
 * expiresAt (0: never); a key is created in one transaction with the claim of its slot, `SET live.<id>` on the
 * condition `size(live) < max`. Two creates racing for the last slot both write the same item, so DynamoDB
 * serializes them: one claims it, the other's condition fails. The count never passes the cap.
 *
 * Revoking or expiring a key writes nothing here (a revocation must not depend on a second write): when a claim
 * is refused, {@link reconcileSlots} frees the slots of keys that are no longer live (expired by the slot's own
 * date, or revoked or expired as the index shows them) and the claim is tried again. The index is eventually
 * consistent, so a key revoked a moment ago may still hold its slot for that moment: the cap errs on the side of
 * refusing, never of exceeding. A slot whose key the index does not show yet (created a moment ago) is kept.
 */
const LIVE = 'live';

/** The transaction item that claims a slot for `keyId`, refused (ConditionalCheckFailed) at the cap. */
export function claimSlot(t: DirectoryTable, tenantId: string, keyId: string, expiresAt: number | undefined, max: number): TransactWrite {
  return {
    Update: {
      TableName: t.name,
      Key: keyAttrs(apiKeySlotsItemKey(tenantId)),
      UpdateExpression: 'SET #l.#id = :e',
      // No map yet (a tenant whose keys predate the cap) fails too: reconcileSlots builds it from the index.
      ConditionExpression: 'attribute_exists(#l) AND size(#l) < :max',
      ExpressionAttributeNames: { '#l': LIVE, '#id': keyId },
      ExpressionAttributeValues: { ':e': { N: String(expiresAt ?? 0) }, ':max': { N: String(max) } },
    },
  };
}

/** The configured cap, or the default when none is given. */
export function slotLimit(max: number | undefined): number {
  return max ?? API_KEYS_PER_TENANT.default;
}

/**
 * Runs `attempt` (a transaction whose item at `claimIndex` is {@link claimSlot}) until it succeeds; when the claim
 * is refused, frees the slots of keys no longer live and tries again, or answers KEY_LIMIT_REACHED when the
 * tenant really holds `max` live keys. A transaction conflict (another write of the slots item at the same
 * moment) is retried after a short pause. Any other failure is the caller's to explain.
 */
export async function withSlot(t: DirectoryTable, tenantId: string, max: number, claimIndex: number, attempt: () => Promise<void>): Promise<void> {
  for (let tries = 1; ; tries++) {
    try {
      return await attempt();
    } catch (err) {
      const reason = err instanceof TransactionCanceledException ? err.CancellationReasons?.[claimIndex]?.Code : undefined;
      const conflict = err instanceof TransactionCanceledException && err.CancellationReasons?.some((r) => r.Code === 'TransactionConflict');
      if (reason !== 'ConditionalCheckFailed' && !conflict) throw err;
      if (tries >= 5) throw new DirectoryError('KEY_SLOTS_BUSY', `tenant ${tenantId}'s keys are being changed by others at this moment: try again`);
      if (conflict) {
        await new Promise((r) => setTimeout(r, 20 * tries + Math.random() * 30));
        continue;
      }
      const live = await reconcileSlots(t, tenantId);
      if (live >= max) {
        throw new DirectoryError('KEY_LIMIT_REACHED', `tenant ${tenantId} has ${live} live API keys, the most it may hold (${max}): revoke one first`);
      }
    }
  }
}

/**
 * Brings the slots up to date from the index and returns how many keys hold one: creates the map from the index
 * when it does not exist (keys created before the cap), then removes the slots of keys that are no longer live.
 */
export async function reconcileSlots(t: DirectoryTable, tenantId: string): Promise<number> {
  const now = t.nowSeconds();
  const indexed = await t.queryAll({
    IndexName: GSI1.name,
    KeyConditionExpression: '#p = :p',
    ExpressionAttributeNames: { '#p': GSI1.partition },
    ExpressionAttributeValues: { ':p': { S: apiKeyIndexKey(tenantId, '').gsi1pk } },
  });
  const liveInIndex = new Map(indexed.map((i) => [i.keyId?.S ?? '', isLive(i, now)]));
  const initial = Object.fromEntries(indexed.filter((i) => isLive(i, now)).map((i) => [i.keyId!.S!, { N: i.expiresAt?.N ?? '0' }]));
  const out = await t.db.send(
    new UpdateItemCommand({
      TableName: t.name,
      Key: keyAttrs(apiKeySlotsItemKey(tenantId)),
      UpdateExpression: 'SET #l = if_not_exists(#l, :initial)',
      ExpressionAttributeNames: { '#l': LIVE },
      ExpressionAttributeValues: { ':initial': { M: initial } },
      ReturnValues: 'ALL_NEW',
    }),
  );
  const slots = out.Attributes?.[LIVE]?.M ?? {};
  const dead = Object.entries(slots)
    .filter(([id, e]) => (e.N !== '0' && Number(e.N) <= now) || liveInIndex.get(id) === false)
    .map(([id]) => id);
  // Removing a slot twice is harmless, and a freed slot never comes back to life (revocation and expiry are
  // final), so racing reconcilers need no condition. Chunks keep each expression small.
  for (let i = 0; i < dead.length; i += 100) {
    const chunk = dead.slice(i, i + 100);
    await t.db.send(
      new UpdateItemCommand({
        TableName: t.name,
        Key: keyAttrs(apiKeySlotsItemKey(tenantId)),
        UpdateExpression: `REMOVE ${chunk.map((_, j) => `#l.#d${j}`).join(', ')}`,
        ExpressionAttributeNames: { '#l': LIVE, ...Object.fromEntries(chunk.map((id, j) => [`#d${j}`, id])) },
      }),
    );
  }
  return Object.keys(slots).length - dead.length;
}

function isLive(item: Item, now: number): boolean {
  const expires = item.expiresAt?.N;
  return item.status?.S === 'active' && (expires === undefined || Number(expires) > now);
}
