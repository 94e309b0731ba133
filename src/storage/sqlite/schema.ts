import type Database from 'better-sqlite3';

/**
 * Tables of the embedded store. Every version of every resource is kept in `resource_version`
 * (a delete adds a tombstone row); `resource` points at the current one. Index tables are keyed
 * by the resource's integer `pk`, which is ~3x cheaper to maintain than text ids.
 */
const SCHEMA_VERSION = 3;

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
CREATE INDEX IF NOT EXISTS resource_type ON resource (type);
CREATE UNIQUE INDEX IF NOT EXISTS resource_version_pk ON resource_version (pk, version);
CREATE INDEX IF NOT EXISTS resource_version_type ON resource_version (type, vid);
CREATE INDEX IF NOT EXISTS resource_version_written ON resource_version (written_ms);
CREATE TABLE IF NOT EXISTS search_key (k INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE);
-- Resources committed without their index rows (CreateOptions.deferIndex), oldest first: the
-- indexer writes those rows in batches, and a search that could match them catches up first.
CREATE TABLE IF NOT EXISTS deferred_index (pk INTEGER PRIMARY KEY, type TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS ix_token (pk INTEGER NOT NULL, k INTEGER NOT NULL, grp INTEGER NOT NULL, system TEXT NOT NULL, code TEXT NOT NULL, text TEXT);
CREATE INDEX IF NOT EXISTS ix_token_code ON ix_token (k, code, system, pk);
CREATE INDEX IF NOT EXISTS ix_token_pk ON ix_token (pk, k, code);
CREATE TABLE IF NOT EXISTS ix_string (pk INTEGER NOT NULL, k INTEGER NOT NULL, grp INTEGER NOT NULL, norm TEXT NOT NULL, exact TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS ix_string_norm ON ix_string (k, norm, pk);
CREATE INDEX IF NOT EXISTS ix_string_pk ON ix_string (pk, k, norm);
CREATE TABLE IF NOT EXISTS ix_date (pk INTEGER NOT NULL, k INTEGER NOT NULL, grp INTEGER NOT NULL, lo INTEGER NOT NULL, hi INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS ix_date_lo ON ix_date (k, lo, hi, pk);
CREATE INDEX IF NOT EXISTS ix_date_hi ON ix_date (k, hi, lo, pk);
CREATE INDEX IF NOT EXISTS ix_date_pk ON ix_date (pk, k, lo, hi);
CREATE TABLE IF NOT EXISTS ix_number (pk INTEGER NOT NULL, k INTEGER NOT NULL, grp INTEGER NOT NULL, value REAL NOT NULL);
CREATE INDEX IF NOT EXISTS ix_number_value ON ix_number (k, value, pk);
CREATE INDEX IF NOT EXISTS ix_number_pk ON ix_number (pk, k, value);
CREATE TABLE IF NOT EXISTS ix_quantity (pk INTEGER NOT NULL, k INTEGER NOT NULL, grp INTEGER NOT NULL, system TEXT NOT NULL, code TEXT NOT NULL, value REAL NOT NULL);
CREATE INDEX IF NOT EXISTS ix_quantity_value ON ix_quantity (k, code, value, pk);
CREATE INDEX IF NOT EXISTS ix_quantity_pk ON ix_quantity (pk, k, value);
CREATE TABLE IF NOT EXISTS ix_reference (pk INTEGER NOT NULL, k INTEGER NOT NULL, grp INTEGER NOT NULL, type TEXT NOT NULL, id TEXT NOT NULL, url TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS ix_reference_target ON ix_reference (k, id, type, pk);
CREATE INDEX IF NOT EXISTS ix_reference_url ON ix_reference (k, url, pk);
CREATE INDEX IF NOT EXISTS ix_reference_pk ON ix_reference (pk, k, type, id);
CREATE TABLE IF NOT EXISTS ix_uri (pk INTEGER NOT NULL, k INTEGER NOT NULL, grp INTEGER NOT NULL, uri TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS ix_uri_value ON ix_uri (k, uri, pk);
CREATE INDEX IF NOT EXISTS ix_uri_pk ON ix_uri (pk, k, uri);
`;

const INDEX_TABLES = ['token', 'string', 'date', 'number', 'quantity', 'reference', 'uri'];

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
  // Each unit of a group commit runs in a savepoint, whose rollback journal is a temporary file
  // unless temporary storage is memory: measured, that file made index writes three times slower.
  db.pragma('temp_store = MEMORY');
  if (!inMemory) db.pragma('wal_autocheckpoint = 0');
  // After a checkpoint the WAL is cut back to this size instead of staying at its high-water mark.
  if (!inMemory) db.pragma('journal_size_limit = 67108864');
}

export function migrate(db: Database.Database): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > SCHEMA_VERSION) {
    throw new Error(`database schema version ${current} is newer than this server (${SCHEMA_VERSION})`);
  }
  db.transaction(() => {
    // Version 3 added deferred_index (created by the DDL below). Version 2 made the per-resource (pk) indexes covering, so that _sort and _has joins are
    // answered from the index; indexes of version 1 under the same names are rebuilt.
    if (current === 1) for (const t of INDEX_TABLES) db.exec(`DROP INDEX IF EXISTS ix_${t}_pk`);
    db.exec(DDL);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  })();
}
