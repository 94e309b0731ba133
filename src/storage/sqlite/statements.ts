import type Database from 'better-sqlite3';

/** Rows as SQLite returns them. */
export interface CurrentRow {
  pk: number;
  version: number;
  deleted: number;
  current_vid: number;
}

export interface VersionRow {
  vid: number;
  type: string;
  id: string;
  version: number;
  method: string;
  written_ms: number;
  deleted: number;
  content: string | null;
}

const VERSION_COLUMNS = 'v.vid, v.type, r.id, v.version, v.method, v.written_ms, v.deleted, v.content';

/** Every statement prepared once per connection: preparing per call costs more than running. */
export function readStatements(db: Database.Database) {
  return {
    current: db.prepare<[string, string], VersionRow>(
      `SELECT ${VERSION_COLUMNS} FROM resource r JOIN resource_version v ON v.vid = r.current_vid WHERE r.type = ? AND r.id = ?`),
    version: db.prepare<[string, string, number], VersionRow>(
      `SELECT ${VERSION_COLUMNS} FROM resource r JOIN resource_version v ON v.pk = r.pk
       WHERE r.type = ? AND r.id = ? AND v.version = ?`),
    pkOf: db.prepare<[string, string], { pk: number }>('SELECT pk FROM resource WHERE type = ? AND id = ?'),
    ping: db.prepare('SELECT 1 AS ok'),
  };
}

export function writeStatements(db: Database.Database) {
  return {
    currentRow: db.prepare<[string, string], CurrentRow>(
      'SELECT pk, version, deleted, current_vid FROM resource WHERE type = ? AND id = ?'),
    writtenMs: db.prepare<[number], { written_ms: number }>('SELECT written_ms FROM resource_version WHERE vid = ?'),
    insertResource: db.prepare<[string, string], { pk: number }>(
      'INSERT INTO resource (type, id, version, deleted, current_vid) VALUES (?, ?, 0, 0, 0) RETURNING pk'),
    insertVersion: db.prepare<[number, string, number, string, number, number, string | null]>(
      `INSERT INTO resource_version (pk, type, version, method, written_ms, deleted, content)
       VALUES (?, ?, ?, ?, ?, ?, ?)`),
    supersede: db.prepare<[number, number]>('UPDATE resource_version SET superseded_ms = ? WHERE vid = ?'),
    pointCurrent: db.prepare<[number, number, number, number]>(
      'UPDATE resource SET version = ?, deleted = ?, current_vid = ? WHERE pk = ?'),
  };
}

export type ReadStatements = ReturnType<typeof readStatements>;
export type WriteStatements = ReturnType<typeof writeStatements>;
