import type Database from 'better-sqlite3';
import type { HistoryQuery } from '../store';
import type { VersionRow } from './statements';

/**
 * History queries. The WHERE clause is assembled from a fixed set of fragments chosen by which
 * filters are present (never from request text), and each shape is prepared once and cached.
 */
const FRAGMENTS = {
  type: 'v.type = @type',
  pk: 'v.pk = @pk',
  since: 'v.written_ms >= @sinceMs',
  at: 'v.written_ms < @atEndMs AND (v.superseded_ms IS NULL OR v.superseded_ms > @atStartMs)',
  cursor: 'v.vid < @cursor',
} as const;

type Fragment = keyof typeof FRAGMENTS;

export class HistoryQueries {
  private readonly cache = new Map<string, Database.Statement<[Record<string, unknown>], VersionRow>>();

  constructor(private readonly db: Database.Database) {}

  /**
   * `pk` is the resource's key when the query is for one instance (its `id` resolved by the caller).
   * Up to `count + 1` rows (the extra one says a next page exists); rows are read one by one, so a
   * page that reaches its byte budget stops reading there (`cut`).
   */
  run(query: HistoryQuery, pk: number | undefined, cursorVid: number | undefined): { rows: VersionRow[]; cut: boolean } {
    const used: Fragment[] = [];
    const params: Record<string, unknown> = { limit: query.count + 1 };
    if (pk !== undefined) { used.push('pk'); params.pk = pk; }
    else if (query.type !== undefined) { used.push('type'); params.type = query.type; }
    if (query.sinceMs !== undefined) { used.push('since'); params.sinceMs = query.sinceMs; }
    if (query.at) { used.push('at'); params.atStartMs = query.at.startMs; params.atEndMs = query.at.endMs; }
    if (cursorVid !== undefined) { used.push('cursor'); params.cursor = cursorVid; }
    // Without a byte budget, all() at once: better-sqlite3's iterate() costs far more per call,
    // and a one-version probe (the consent cache's generation check) runs on every request.
    if (query.maxBytes === undefined) return { rows: this.statement(used).all(params), cut: false };
    const rows: VersionRow[] = [];
    let bytes = 0;
    for (const row of this.statement(used).iterate(params)) {
      const size = row.content?.length ?? 0;
      if (query.maxBytes !== undefined && rows.length > 0 && rows.length < query.count && bytes + size > query.maxBytes) return { rows, cut: true };
      bytes += size;
      rows.push(row);
      if (rows.length > query.count) break;
    }
    return { rows, cut: false };
  }

  private statement(used: Fragment[]): Database.Statement<[Record<string, unknown>], VersionRow> {
    const key = used.join(',');
    let stmt = this.cache.get(key);
    if (!stmt) {
      const where = used.length ? `WHERE ${used.map((f) => FRAGMENTS[f]).join(' AND ')}` : '';
      stmt = this.db.prepare<[Record<string, unknown>], VersionRow>(
        `SELECT v.vid, v.type, r.id, v.version, v.method, v.written_ms, v.deleted, v.content
         FROM resource_version v JOIN resource r ON r.pk = v.pk ${where} ORDER BY v.vid DESC LIMIT @limit`);
      this.cache.set(key, stmt);
    }
    return stmt;
  }
}
