import type Database from 'better-sqlite3';

/**
 * Tables of the embedded store. Every version of every resource is kept in `resource_version`
 * (a delete adds a tombstone row); `resource` points at the current one. Index tables are keyed
 * by the resource's integer `pk`, which is ~3x cheaper to maintain than text ids.
 */
const SCHEMA_VERSION = 1;

const DDL = `
CREATE TABLE IF NOT EXISTS resource (
  pk INTEGER PRIMARY KEY,
  type TEXT NOT NULL,
  id TEXT NOT NULL,
  version INTEGER NOT NULL,
  deleted INTEGER NOT NULL,
  current_vid INTEGER NOT NULL,
  UNIQUE (type, id)
);
CREATE TABLE IF NOT EXISTS resource_version (
  vid INTEGER PRIMARY KEY,
  pk INTEGER NOT NULL,
  type TEXT NOT NULL,
  version INTEGER NOT NULL,
  method TEXT NOT NULL,
  written_ms INTEGER NOT NULL,
  superseded_ms INTEGER,
  deleted INTEGER NOT NULL,
  content TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS resource_version_pk ON resource_version (pk, version);
CREATE INDEX IF NOT EXISTS resource_version_type ON resource_version (type, vid);
CREATE TABLE IF NOT EXISTS identifier_index (
  pk INTEGER NOT NULL,
  system TEXT NOT NULL,
  value TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS identifier_index_value ON identifier_index (value, system, pk);
CREATE INDEX IF NOT EXISTS identifier_index_pk ON identifier_index (pk);
`;

export type Synchronous = 'OFF' | 'NORMAL' | 'FULL';

/**
 * WAL lets readers work while one writer commits. synchronous=NORMAL in WAL mode loses nothing
 * when the process dies (the WAL is in the OS page cache); only a power cut can lose the last
 * commits, which FULL prevents at a large cost per commit. Automatic checkpoints are off because
 * they fsync inside whichever commit triggers them; the store checkpoints on a timer instead.
 */
export function configure(db: Database.Database, synchronous: Synchronous, inMemory: boolean): void {
  if (!inMemory) db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${synchronous}`);
  db.pragma('foreign_keys = OFF');
  db.pragma('busy_timeout = 5000');
  db.pragma('cache_size = -65536');
  if (!inMemory) db.pragma('wal_autocheckpoint = 0');
}

export function migrate(db: Database.Database): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > SCHEMA_VERSION) {
    throw new Error(`database schema version ${current} is newer than this server (${SCHEMA_VERSION})`);
  }
  db.exec(DDL);
  db.pragma(`user_version = ${SCHEMA_VERSION}`);
}
