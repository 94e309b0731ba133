import type Database from 'better-sqlite3';
import type { SearchQuery } from '../../search/query';
import type { LiveVersion, ResourceKey, SearchPage, StoredVersion } from '../store';
import type { SearchKeys } from './index-writer';
import { balanced, Planner } from './plan';
import { storedVersion } from '../versioning';
import { readStatements, type ReadStatements, type VersionRow } from './statements';

const MAX_CACHED_SQL = 8 * 1024;

/** A stored row as a StoredVersion. */
export function toVersion(row: VersionRow): StoredVersion {
  return storedVersion({
    type: row.type, id: row.id, versionId: row.version, writtenMs: row.written_ms, deleted: row.deleted === 1, method: row.method, json: row.content ?? undefined,
  });
}

const live = (rows: VersionRow[]): LiveVersion[] => rows.filter((r) => r.deleted === 0).map((r) => toVersion(r) as LiveVersion);

/** All reads of one connection: by id, by version, and search with includes. */
export class SqliteReader {
  readonly s: ReadStatements;
  private readonly planner: Planner;
  private readonly statements = new Map<string, Database.Statement<unknown[], VersionRow & { n?: number }>>();

  constructor(private readonly db: Database.Database, private readonly keys: SearchKeys, nowMs: () => number) {
    this.s = readStatements(db);
    this.planner = new Planner(keys, nowMs, (sql) => Number((this.prepared(sql.text).get(...sql.params) as { n: number }).n));
  }

  private prepared(text: string): Database.Statement<unknown[], VersionRow & { n?: number }> {
    let stmt = this.statements.get(text);
    if (!stmt) {
      stmt = this.db.prepare(text);
      // Kept for reuse, unless it is one of the large one-off statements (long value lists,
      // include pages) whose compiled form would only hold memory.
      if (text.length <= MAX_CACHED_SQL) {
        if (this.statements.size > 500) this.statements.clear();
        this.statements.set(text, stmt);
      }
    }
    return stmt;
  }

  read(type: string, id: string): StoredVersion | undefined {
    const row = this.s.current.get(type, id);
    return row && toVersion(row);
  }

  vread(type: string, id: string, versionId: number): StoredVersion | undefined {
    const row = this.s.version.get(type, id, versionId);
    return row && toVersion(row);
  }

  search(query: SearchQuery): SearchPage {
    const { page, count } = this.planner.search(query);
    // Rows are read one by one, so a page that reaches its byte budget stops reading there.
    const rows: (VersionRow & { n?: number })[] = [];
    let bytes = 0;
    let cut = false;
    for (const row of this.prepared(page.text).iterate(...page.params)) {
      if (rows.length >= query.count) { rows.push(row); break; }
      const size = row.content?.length ?? 0;
      if (query.maxBytes !== undefined && rows.length > 0 && bytes + size > query.maxBytes) { cut = true; break; }
      bytes += size;
      rows.push(row);
    }
    const hasMore = cut || rows.length > query.count;
    const versions = live(rows.length > query.count ? rows.slice(0, query.count) : rows);
    let total: number | undefined;
    if (query.total === 'accurate') total = Number((this.prepared(count.text).get(...count.params) as { n: number }).n);
    else if (!hasMore && (versions.length > 0 || query.offset === 0)) total = query.offset + versions.length;
    return { versions, hasMore, total };
  }

  referencedBy(sources: ResourceKey[], keys: string[], targetType?: string): LiveVersion[] {
    if (sources.length === 0 || keys.length === 0) return [];
    const ks = keys.map((k) => this.keys.lookup(k));
    // A balanced OR: a flat one of a 1000-result page is deeper than SQLite's expression limit.
    const pairs = balanced(sources.map(() => '(s.type = ? AND s.id = ?)'), 'OR');
    const params: unknown[] = [...ks, ...sources.flatMap((s) => [s.type, s.id])];
    let sql = `SELECT DISTINCT v.vid, v.type, r.id, v.version, v.method, v.written_ms, v.deleted, v.content
      FROM resource s JOIN ix_reference t ON t.pk = s.pk JOIN resource r ON r.type = t.type AND r.id = t.id
      JOIN resource_version v ON v.vid = r.current_vid
      WHERE t.k IN (${ks.map(() => '?').join(', ')}) AND (${pairs}) AND r.deleted = 0`;
    if (targetType) { sql += ' AND r.type = ?'; params.push(targetType); }
    return live(this.prepared(sql).all(...params));
  }

  referencing(targets: ResourceKey[], keys: string[]): LiveVersion[] {
    if (targets.length === 0 || keys.length === 0) return [];
    const ks = keys.map((k) => this.keys.lookup(k));
    const pairs = balanced(targets.map(() => '(t.type = ? AND t.id = ?)'), 'OR');
    const sql = `SELECT DISTINCT v.vid, v.type, r.id, v.version, v.method, v.written_ms, v.deleted, v.content
      FROM ix_reference t JOIN resource r ON r.pk = t.pk JOIN resource_version v ON v.vid = r.current_vid
      WHERE t.k IN (${ks.map(() => '?').join(', ')}) AND (${pairs}) AND r.deleted = 0 ORDER BY r.pk`;
    return live(this.prepared(sql).all(...ks, ...targets.flatMap((t) => [t.type, t.id])));
  }
}
