import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import type { Resource } from 'fhir/r4';
import { FhirError } from '../../fhir/errors';
import { AsyncLock } from '../async-lock';
import type {
  HistoryPage, HistoryQuery, LiveVersion, MatchCriteria, ResourceStore, StoreDeps, StoredVersion, UnitOfWork,
  WriteMethod, WriteOptions,
} from '../store';
import { identifierKeys, nextTimestampMs, stampMeta } from '../versioning';
import { HistoryQueries } from './history';
import { configure, migrate, type Synchronous } from './schema';
import { readStatements, writeStatements, type ReadStatements, type VersionRow, type WriteStatements } from './statements';

export interface SqliteOptions {
  /** A directory for `fhir.sqlite`, or ':memory:' for a throw-away store (tests). */
  dataDir: string;
  synchronous?: Synchronous;
  /** How often the WAL is folded back into the database, off the request path. */
  checkpointIntervalMs?: number;
}

/** A stored row as a StoredVersion; the JSON is parsed only if someone asks for the resource. */
export function toVersion(row: VersionRow): StoredVersion {
  let parsed: Resource | undefined;
  const content = row.content;
  return {
    type: row.type,
    id: row.id,
    versionId: row.version,
    lastUpdated: new Date(row.written_ms).toISOString(),
    deleted: row.deleted === 1,
    method: row.method as WriteMethod,
    json: content ?? undefined,
    get resource(): Resource | undefined {
      if (parsed === undefined && content !== null) parsed = JSON.parse(content) as Resource;
      return parsed;
    },
  };
}

export class SqliteStore implements ResourceStore {
  private readonly writer: Database.Database;
  private readonly reader: Database.Database;
  private readonly reads: ReadStatements;
  private readonly writerReads: ReadStatements;
  private readonly writes: WriteStatements;
  private readonly history_: HistoryQueries;
  private readonly lock = new AsyncLock();
  private readonly inMemory: boolean;
  private checkpointTimer?: NodeJS.Timeout;

  constructor(options: SqliteOptions, private readonly deps: StoreDeps) {
    this.inMemory = options.dataDir === ':memory:';
    const file = this.inMemory ? ':memory:' : path.join(options.dataDir, 'fhir.sqlite');
    if (!this.inMemory) fs.mkdirSync(options.dataDir, { recursive: true });
    this.writer = new Database(file);
    configure(this.writer, options.synchronous ?? 'NORMAL', this.inMemory);
    migrate(this.writer);
    // A second connection reads only committed data, so a unit of work that awaits never
    // exposes its half-done writes. An in-memory database cannot be shared, so reads there
    // wait for the writer instead (see readNow).
    this.reader = this.inMemory ? this.writer : new Database(file, { readonly: true });
    if (!this.inMemory) configure(this.reader, options.synchronous ?? 'NORMAL', false);
    this.reads = readStatements(this.reader);
    this.writerReads = this.inMemory ? this.reads : readStatements(this.writer);
    this.writes = writeStatements(this.writer);
    this.history_ = new HistoryQueries(this.reader);
    if (!this.inMemory) {
      this.checkpointTimer = setInterval(() => this.checkpoint(), options.checkpointIntervalMs ?? 1000);
      this.checkpointTimer.unref();
    }
  }

  private checkpoint(): void {
    if (!this.lock.busy) this.writer.pragma('wal_checkpoint(PASSIVE)');
  }

  private readNow<T>(work: (s: ReadStatements) => T): Promise<T> {
    if (this.inMemory && this.lock.busy) return this.lock.run(async () => work(this.reads));
    return Promise.resolve(work(this.reads));
  }

  read(type: string, id: string): Promise<StoredVersion | undefined> {
    return this.readNow((s) => { const row = s.current.get(type, id); return row && toVersion(row); });
  }

  vread(type: string, id: string, versionId: number): Promise<StoredVersion | undefined> {
    return this.readNow((s) => { const row = s.version.get(type, id, versionId); return row && toVersion(row); });
  }

  match(type: string, criteria: MatchCriteria, limit: number): Promise<LiveVersion[]> {
    return this.readNow((s) => matchRows(s, type, criteria, limit));
  }

  async history(query: HistoryQuery): Promise<HistoryPage> {
    const cursorVid = query.cursor === undefined ? undefined : parseCursor(query.cursor);
    return this.readNow((s) => {
      let pk: number | undefined;
      if (query.id !== undefined) {
        pk = s.pkOf.get(query.type ?? '', query.id)?.pk;
        if (pk === undefined) return { versions: [] };
      }
      const rows = this.history_.run(query, pk, cursorVid);
      const more = rows.length > query.count;
      const page = more ? rows.slice(0, query.count) : rows;
      return { versions: page.map(toVersion), nextCursor: more ? String(page[page.length - 1].vid) : undefined };
    });
  }

  transact<T>(work: (uow: UnitOfWork) => Promise<T>): Promise<T> {
    return this.lock.run(async () => {
      this.writer.exec('BEGIN IMMEDIATE');
      try {
        const result = await work(new SqliteUnitOfWork(this.writes, this.writerReads, this.deps));
        this.writer.exec('COMMIT');
        return result;
      } catch (err) {
        if (this.writer.inTransaction) this.writer.exec('ROLLBACK');
        throw err;
      }
    });
  }

  async ping(): Promise<boolean> {
    return this.reads.ping.get() !== undefined;
  }

  async close(): Promise<void> {
    if (this.checkpointTimer) clearInterval(this.checkpointTimer);
    await this.lock.run(async () => undefined);
    if (!this.inMemory) {
      this.writer.pragma('wal_checkpoint(TRUNCATE)');
      this.reader.close();
    }
    this.writer.close();
  }
}

function parseCursor(cursor: string): number {
  if (!/^[1-9][0-9]{0,15}$/.test(cursor)) throw new FhirError('invalid', `Invalid paging cursor '${cursor}'`);
  return Number(cursor);
}

function matchRows(s: ReadStatements, type: string, criteria: MatchCriteria, limit: number): LiveVersion[] {
  let pks: Set<number> | undefined;
  for (const anyOf of criteria.identifiers ?? []) {
    const union = new Set<number>();
    for (const wanted of anyOf) {
      const found = wanted.value !== undefined
        ? s.byIdentifier.all({ type, system: wanted.system ?? null, value: wanted.value })
        : s.bySystem.all({ type, system: wanted.system ?? '' });
      for (const { pk } of found) union.add(pk);
    }
    pks = pks ? new Set([...pks].filter((pk) => union.has(pk))) : union;
  }
  let rows: VersionRow[];
  if (pks) {
    rows = [...pks].sort((a, b) => a - b).map((pk) => s.liveByPk.get(pk)).filter((r): r is VersionRow => r !== undefined);
    if (criteria.id !== undefined) rows = rows.filter((r) => r.id === criteria.id);
  } else if (criteria.id !== undefined) {
    const row = s.liveById.get(type, criteria.id);
    rows = row ? [row] : [];
  } else {
    rows = s.liveOfType.all(type, limit);
  }
  return rows.filter((r) => r.deleted === 0).slice(0, limit).map((r) => toVersion(r) as LiveVersion);
}

class SqliteUnitOfWork implements UnitOfWork {
  constructor(private readonly w: WriteStatements, private readonly r: ReadStatements, private readonly deps: StoreDeps) {}

  async read(type: string, id: string): Promise<StoredVersion | undefined> {
    const row = this.r.current.get(type, id);
    return row && toVersion(row);
  }

  async vread(type: string, id: string, versionId: number): Promise<StoredVersion | undefined> {
    const row = this.r.version.get(type, id, versionId);
    return row && toVersion(row);
  }

  async match(type: string, criteria: MatchCriteria, limit: number): Promise<LiveVersion[]> {
    return matchRows(this.r, type, criteria, limit);
  }

  async create(resource: Resource, options: WriteOptions = {}): Promise<LiveVersion> {
    const id = this.deps.newId();
    if (this.w.currentRow.get(resource.resourceType, id)) throw new FhirError('exception', 'Generated id collided');
    return this.write(resource, id, options.method ?? 'POST').version;
  }

  async update(resource: Resource & { id: string }, options: WriteOptions = {}): Promise<{ version: LiveVersion; created: boolean }> {
    const current = this.w.currentRow.get(resource.resourceType, resource.id);
    checkExpected(resource.resourceType, resource.id, current?.version, options.expectedVersion);
    return this.write(resource, resource.id, options.method ?? 'PUT');
  }

  async delete(type: string, id: string, options: WriteOptions = {}): Promise<StoredVersion | undefined> {
    const current = this.w.currentRow.get(type, id);
    checkExpected(type, id, current?.version, options.expectedVersion);
    if (!current || current.deleted) return undefined;
    const ms = this.timestamp(current);
    const version = current.version + 1;
    const vid = Number(this.w.insertVersion.run(current.pk, type, version, 'DELETE', ms, 1, null).lastInsertRowid);
    this.w.supersede.run(ms, current.current_vid);
    this.w.pointCurrent.run(version, 1, vid, current.pk);
    this.w.clearIdentifiers.run(current.pk);
    return { type, id, versionId: version, lastUpdated: new Date(ms).toISOString(), deleted: true, method: 'DELETE' };
  }

  private timestamp(current: { current_vid: number } | undefined): number {
    const previous = current ? this.w.writtenMs.get(current.current_vid)?.written_ms : undefined;
    return nextTimestampMs(this.deps.now().getTime(), previous);
  }

  private write(resource: Resource, id: string, method: WriteMethod): { version: LiveVersion; created: boolean } {
    const type = resource.resourceType;
    let current = this.w.currentRow.get(type, id);
    const created = !current || current.deleted === 1;
    const ms = this.timestamp(current);
    if (!current) {
      this.w.insertResource.run(type, id);
      current = this.w.currentRow.get(type, id) as NonNullable<typeof current>;
    } else {
      this.w.supersede.run(ms, current.current_vid);
      this.w.clearIdentifiers.run(current.pk);
    }
    const version = current.version + 1;
    const lastUpdated = new Date(ms).toISOString();
    const stored = stampMeta(resource, id, version, lastUpdated);
    const json = JSON.stringify(stored);
    const vid = Number(this.w.insertVersion.run(current.pk, type, version, method, ms, 0, json).lastInsertRowid);
    this.w.pointCurrent.run(version, 0, vid, current.pk);
    for (const key of identifierKeys(stored)) this.w.insertIdentifier.run(current.pk, key.system, key.value);
    return { version: { type, id, versionId: version, lastUpdated, deleted: false, method, resource: stored, json }, created };
  }
}

/** If-Match semantics (http.html#concurrency): a stale or absent version is a failed precondition. */
function checkExpected(type: string, id: string, actual: number | undefined, expected: number | undefined): void {
  if (expected === undefined) return;
  if (actual === undefined) {
    throw new FhirError('not-found', `${type}/${id} does not exist, so version ${expected} cannot be current`, { status: 412 });
  }
  if (actual !== expected) {
    throw new FhirError('conflict', `${type}/${id} is at version ${actual}, not ${expected}`, { status: 412 });
  }
}
