import type { ResourceStore, StoreDeps } from './store';
import { MongoStore } from './mongo/mongo-store';
import { SqliteStore } from './sqlite/sqlite-store';
import type { Synchronous } from './sqlite/schema';

/** The only place that names a storage backend. */
export type StoreConfig =
  | { kind: 'sqlite'; dataDir: string; synchronous: Synchronous }
  /** See MongoOptions: `testEngineWithoutTransactions` is for the tests' wire-protocol bridge only. */
  | { kind: 'mongodb'; url: string; database?: string; testEngineWithoutTransactions?: boolean };

/** Opens a store; a MongoDB store connects on first use (see startStore). */
export function openStore(config: StoreConfig, deps: StoreDeps): ResourceStore {
  switch (config.kind) {
    case 'sqlite':
      return new SqliteStore({ dataDir: config.dataDir, synchronous: config.synchronous }, deps);
    case 'mongodb':
      return new MongoStore({ url: config.url, database: config.database, testEngineWithoutTransactions: config.testEngineWithoutTransactions }, deps);
    default: {
      const unknown: never = config;
      throw new Error(`unknown store kind ${String((unknown as { kind: string }).kind)}`);
    }
  }
}

/**
 * Whatever a store must check before the server takes requests: MongoDB connects, refuses a
 * deployment without transactions and creates its indexes. Rejects with a message for the operator.
 */
export async function startStore(store: ResourceStore): Promise<void> {
  if (store instanceof MongoStore) await store.start();
}
