import type Database from 'better-sqlite3';
import type { IndexRows } from '../../search/index-rows';

/**
 * Writes a resource's index rows inside the caller's transaction, keyed by its integer pk.
 * Parameter keys (`Patient.identifier`) are interned as small integers: index rows stay narrow
 * and comparisons cheap.
 */
export class SearchKeys {
  private readonly cache = new Map<string, number>();
  private readonly find: Database.Statement<[string], { k: number }>;
  private insert?: Database.Statement<[string]>;

  constructor(private readonly db: Database.Database) {
    this.find = db.prepare('SELECT k FROM search_key WHERE key = ?');
    for (const row of db.prepare<[], { k: number; key: string }>('SELECT k, key FROM search_key').all()) this.cache.set(row.key, row.k);
  }

  /** The key's number, creating it (writer connection only). */
  intern(key: string): number {
    let k = this.cache.get(key);
    if (k === undefined) {
      this.insert ??= this.db.prepare('INSERT INTO search_key (key) VALUES (?)');
      k = this.find.get(key)?.k ?? Number(this.insert.run(key).lastInsertRowid);
      this.cache.set(key, k);
    }
    return k;
  }

  /** After a rollback, numbers handed out inside it may not exist: forget them all and re-read. */
  forget(): void {
    this.cache.clear();
  }

  /** The key's number if it was ever written; readers use this (unknown key → nothing matches). */
  lookup(key: string): number {
    let k = this.cache.get(key);
    if (k === undefined) {
      k = this.find.get(key)?.k;
      if (k === undefined) return -1;
      this.cache.set(key, k);
    }
    return k;
  }
}

const TABLES = ['token', 'string', 'date', 'number', 'quantity', 'reference', 'uri'] as const;

export class IndexWriter {
  private readonly clear: Database.Statement<[number]>[];
  private readonly put: {
    token: Database.Statement<unknown[]>; string: Database.Statement<unknown[]>; date: Database.Statement<unknown[]>;
    number: Database.Statement<unknown[]>; quantity: Database.Statement<unknown[]>; reference: Database.Statement<unknown[]>;
    uri: Database.Statement<unknown[]>;
  };

  constructor(db: Database.Database, private readonly keys: SearchKeys) {
    this.clear = TABLES.map((t) => db.prepare<[number]>(`DELETE FROM ix_${t} WHERE pk = ?`));
    this.put = {
      token: db.prepare('INSERT INTO ix_token (pk, k, grp, system, code, text) VALUES (?, ?, ?, ?, ?, ?)'),
      string: db.prepare('INSERT INTO ix_string (pk, k, grp, norm, exact) VALUES (?, ?, ?, ?, ?)'),
      date: db.prepare('INSERT INTO ix_date (pk, k, grp, lo, hi) VALUES (?, ?, ?, ?, ?)'),
      number: db.prepare('INSERT INTO ix_number (pk, k, grp, value) VALUES (?, ?, ?, ?)'),
      quantity: db.prepare('INSERT INTO ix_quantity (pk, k, grp, system, code, value) VALUES (?, ?, ?, ?, ?, ?)'),
      reference: db.prepare('INSERT INTO ix_reference (pk, k, grp, type, id, url) VALUES (?, ?, ?, ?, ?, ?)'),
      uri: db.prepare('INSERT INTO ix_uri (pk, k, grp, uri) VALUES (?, ?, ?, ?)'),
    };
  }

  remove(pk: number): void {
    for (const stmt of this.clear) stmt.run(pk);
  }

  write(pk: number, rows: IndexRows): void {
    const k = (key: string): number => this.keys.intern(key);
    for (const r of rows.token) this.put.token.run(pk, k(r.key), r.grp, r.system, r.code, r.text ?? null);
    for (const r of rows.string) this.put.string.run(pk, k(r.key), r.grp, r.norm, r.exact);
    for (const r of rows.date) this.put.date.run(pk, k(r.key), r.grp, r.lo, r.hi);
    for (const r of rows.number) this.put.number.run(pk, k(r.key), r.grp, r.value);
    for (const r of rows.quantity) this.put.quantity.run(pk, k(r.key), r.grp, r.system, r.code, r.value);
    for (const r of rows.reference) this.put.reference.run(pk, k(r.key), r.grp, r.type, r.id, r.url);
    for (const r of rows.uri) this.put.uri.run(pk, k(r.key), r.grp, r.uri);
  }
}
