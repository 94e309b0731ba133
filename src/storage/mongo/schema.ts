import type { Db, IndexDescription } from 'mongodb';
import { COLLECTION, GUARDS } from './documents';

/**
 * The indexes of the `resources` collection (docs/mongodb.md explains each). Search indexes are
 * partial on `live`, so superseded versions and tombstones cost them nothing; they lead with
 * `type` because every search names its types, then the entry's key and value: MongoDB builds
 * them as multikey indexes over the entry arrays and bounds key and value together for an
 * `$elemMatch`. Creating an index that exists with the same definition does nothing, so start-up
 * runs this every time.
 */
const LIVE = { partialFilterExpression: { live: true } };

export const INDEXES: IndexDescription[] = [
  { key: { rk: 1, v: -1 }, name: 'resource_versions' },
  { key: { ms: -1, rk: -1, v: -1 }, name: 'history_system' },
  { key: { type: 1, ms: -1, rk: -1, v: -1 }, name: 'history_type' },
  { key: { type: 1, seq: 1 }, name: 'live_type', ...LIVE },
  { key: { type: 1, id: 1 }, name: 'live_id', ...LIVE },
  { key: { type: 1, ms: 1 }, name: 'live_last_updated', ...LIVE },
  { key: { type: 1, 'tok.k': 1, 'tok.c': 1, 'tok.s': 1 }, name: 'live_token', ...LIVE },
  { key: { type: 1, 'str.k': 1, 'str.n': 1 }, name: 'live_string', ...LIVE },
  { key: { type: 1, 'dt.k': 1, 'dt.lo': 1, 'dt.hi': 1 }, name: 'live_date', ...LIVE },
  { key: { type: 1, 'num.k': 1, 'num.v': 1 }, name: 'live_number', ...LIVE },
  { key: { type: 1, 'qty.k': 1, 'qty.c': 1, 'qty.v': 1 }, name: 'live_quantity', ...LIVE },
  { key: { type: 1, 'ref.k': 1, 'ref.i': 1, 'ref.t': 1 }, name: 'live_reference', ...LIVE },
  { key: { 'ref.i': 1, 'ref.t': 1, 'ref.k': 1 }, name: 'live_reference_target', ...LIVE },
  { key: { type: 1, 'uri.k': 1, 'uri.u': 1 }, name: 'live_uri', ...LIVE },
  { key: { type: 1, 'cmp.k': 1 }, name: 'live_composite', ...LIVE },
];

/** Search guards (documents.ts) only matter while the units of work that wrote them run. */
export const GUARD_INDEXES: IndexDescription[] = [{ key: { at: 1 }, name: 'guard_expiry', expireAfterSeconds: 3600 }];

export async function ensureIndexes(db: Db): Promise<void> {
  await db.collection(COLLECTION).createIndexes(INDEXES);
  await db.collection(GUARDS).createIndexes(GUARD_INDEXES);
}

/**
 * The gateway's units of work are multi-document transactions, which MongoDB offers on a replica
 * set or through mongos to a sharded cluster, never on a standalone server.
 */
export function transactionProblem(hello: Record<string, unknown>): string | undefined {
  if (typeof hello.setName === 'string' || hello.msg === 'isdbgrid') return undefined;
  return 'MONGO_URL names a MongoDB deployment without transactions (a standalone server): '
    + 'the MongoDB store needs a replica set (even a single-member one, mongod --replSet) or a sharded cluster (mongos)';
}
