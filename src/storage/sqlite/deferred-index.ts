import type Database from 'better-sqlite3';
import type { Resource } from 'fhir/r4';
import type { StoreDeps } from '../store';
import type { IndexWriter } from './index-writer';

/**
 * Index rows written after the commit, in batches (CreateOptions.deferIndex). An AuditEvent is
 * written on every request; writing its dozen index rows inside each request's small group commit
 * dirties a page of every index b-tree per commit, most of the cost of auditing a read. Written
 * a few thousand at a time, the same rows share pages.
 *
 * The resources waiting are listed in `deferred_index`, committed with them, so a crash loses no
 * indexing; all methods run on the writer connection inside an open transaction.
 */
export class DeferredIndex {
  private readonly add_: Database.Statement<[number, string]>;
  private readonly drop: Database.Statement<[number]>;
  private readonly any: Database.Statement<[], unknown>;
  private readonly batch: Database.Statement<[number], { pk: number; content: string | null }>;
  private readonly dropThrough: Database.Statement<[number]>;
  /** Types ever deferred (in this database): only searches that may return them wait for the indexer. */
  private readonly types = new Set<string>();

  constructor(db: Database.Database, private readonly index: IndexWriter, private readonly deps: StoreDeps) {
    this.add_ = db.prepare('INSERT OR IGNORE INTO deferred_index (pk, type) VALUES (?, ?)');
    this.drop = db.prepare('DELETE FROM deferred_index WHERE pk = ?');
    this.any = db.prepare('SELECT 1 FROM deferred_index LIMIT 1').pluck();
    // LEFT JOINs: a waiting row whose resource is gone (removed from the file by hand, say) must
    // still leave the queue, or every search that waits for the indexer would wait forever.
    this.batch = db.prepare(`SELECT d.pk, v.content FROM deferred_index d LEFT JOIN resource r ON r.pk = d.pk
      LEFT JOIN resource_version v ON v.vid = r.current_vid ORDER BY d.pk LIMIT ?`);
    this.dropThrough = db.prepare('DELETE FROM deferred_index WHERE pk <= ?');
    for (const t of db.prepare<[], string>('SELECT DISTINCT type FROM deferred_index').pluck().all()) this.types.add(t);
  }

  add(pk: number, type: string): void {
    this.add_.run(pk, type);
    this.types.add(type);
  }

  /** A resource indexed now (an update or delete after a deferred create) needs no deferred pass. */
  indexedNow(pk: number): void {
    if (this.types.size > 0) this.drop.run(pk);
  }

  /** Whether a search over `types` (none: every type) may need rows still waiting. */
  concerns(types: readonly string[]): boolean {
    if (this.types.size === 0) return false;
    return types.length === 0 || types.some((t) => this.types.has(t));
  }

  pending(): boolean {
    return this.types.size > 0 && this.any.get() !== undefined;
  }

  /** Writes the index rows of up to `max` waiting resources, oldest first; how many it did. */
  run(max: number): number {
    const rows = this.batch.all(max);
    for (const row of rows) {
      // A tombstone (or a resource no longer there) has no rows; its delete already cleared any.
      if (row.content !== null) this.index.write(row.pk, this.deps.index(JSON.parse(row.content) as Resource));
    }
    if (rows.length > 0) this.dropThrough.run(rows[rows.length - 1].pk);
    return rows.length;
  }
}
