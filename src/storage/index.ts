import type { ResourceStore, StoreDeps } from './store';
import { SqliteStore } from './sqlite/sqlite-store';
import type { Synchronous } from './sqlite/schema';

/** The only place that names a storage backend. */
export interface StoreConfig {
  kind: 'sqlite';
  dataDir: string;
  synchronous: Synchronous;
}

export function openStore(config: StoreConfig, deps: StoreDeps): ResourceStore {
  switch (config.kind) {
    case 'sqlite':
      return new SqliteStore({ dataDir: config.dataDir, synchronous: config.synchronous }, deps);
    default: {
      const unknown: never = config.kind;
      throw new Error(`unknown store kind ${String(unknown)}`);
    }
  }
}
