import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Resource } from 'fhir/r4';
import { FhirError } from '../../fhir/errors';
import type { SearchQuery } from '../../search/query';
import { AsyncLock } from '../async-lock';
import type {
  CreateOptions, HistoryPage, HistoryQuery, LiveVersion, ResourceKey, ResourceStore, SearchPage, StoreDeps, StoredVersion, UnitOfWork,
  WriteMethod, WriteOptions,
} from '../store';
import { checkExpected, nextTimestampMs, stampMeta } from '../versioning';
import { DeferredIndex } from './deferred-index';
import { HistoryQueries } from './history';
import { IndexWriter, SearchKeys } from './index-writer';
import { SqliteReader, toVersion } from './reader';
import { configure, migrate, type Synchronous } from './schema';
import { writeStatements, type CurrentRow, type WriteStatements } from './statements';

export { toVersion };

export interface SqliteOptions {
  /** A directory for `fhir.sqlite`, or ':memory:' for a throw-away store (tests). */
  dataDir: string;
  synchronous?: Synchronous;
  /** How often the WAL is folded back into the database, off the request path. */
  checkpointIntervalMs?: number;
  /**
   * Under unbroken write load the timer finds no quiet moment, so a commit that leaves the WAL
   * larger than this checkpoints at once; otherwise the WAL (and every read through it) grows
   * without bound.
   */
  walLimitBytes?: number;
}

/** A unit of work waiting for its turn in a group commit. */
interface PendingUnit {
  work(uow: UnitOfWork): Promise<unknown>;
  resolve(value: unknown): void;
  reject(err: unknown): void;
}

/** The most units one commit carries; the rest wait for the next. */
const UNITS_PER_COMMIT = 256;

/** Deferred index rows written per unit of work, and how soon after their commit at the latest. */
const DEFERRED_BATCH = 2000;
const INDEX_LAG_MS = 200;

export class SqliteStore implements ResourceStore {
  private readonly writer: Database.Database;
  private readonly readerDb: Database.Database;
  private readonly reader: SqliteReader;
  private readonly writerReader: SqliteReader;
  private readonly writerKeys: SearchKeys;
  private readonly writes: WriteStatements;
  private readonly index: IndexWriter;
  private readonly history_: HistoryQueries;
  private readonly writerHistory: HistoryQueries;
  /** Commits of this process per resource type, and what data_version said when last asked (generation()). */
  private readonly writesOf = new Map<string, number>();
  private readonly deferred: DeferredIndex;
  private indexTimer?: NodeJS.Timeout;
  private readonly units: PendingUnit[] = [];
  private draining = false;
  /** Units run one at a time, in the order asked, and commit in that order (see transact). */
  readonly serializesUnits = true;
  private closing = false;
  private readonly dataVersion: Database.Statement<[], unknown>;
  private lastDataVersion = -1;
  private foreignCommits = 0;
  private readonly lock = new AsyncLock();
  private readonly inMemory: boolean;
  private checkpointTimer?: NodeJS.Timeout;
  private readonly walFile?: string;
  private readonly walLimitBytes: number;
  private checkpointer?: Worker;
  /** 1 while a checkpoint is requested and not yet done; the worker clears it. */
  private readonly checkpointPending = new Int32Array(new SharedArrayBuffer(4));

  constructor(options: SqliteOptions, private readonly deps: StoreDeps) {
    this.inMemory = options.dataDir === ':memory:';
    const file = this.inMemory ? ':memory:' : path.join(options.dataDir, 'fhir.sqlite');
    if (!this.inMemory) fs.mkdirSync(options.dataDir, { recursive: true });
    this.walFile = this.inMemory ? undefined : `${file}-wal`;
    this.walLimitBytes = options.walLimitBytes ?? 64 * 1024 * 1024;
    this.writer = new Database(file);
    configure(this.writer, options.synchronous ?? 'NORMAL', this.inMemory);
    migrate(this.writer);
    // A second connection reads only committed data, so a unit of work that awaits never
    // exposes its half-done writes. An in-memory database cannot be shared, so reads there
    // wait for the writer instead (see readNow).
    this.readerDb = this.inMemory ? this.writer : new Database(file, { readonly: true });
    if (!this.inMemory) configure(this.readerDb, options.synchronous ?? 'NORMAL', false);
    const nowMs = (): number => deps.now().getTime();
    this.writerKeys = new SearchKeys(this.writer);
    this.writerReader = new SqliteReader(this.writer, this.writerKeys, nowMs);
    this.reader = this.inMemory ? this.writerReader : new SqliteReader(this.readerDb, new SearchKeys(this.readerDb), nowMs);
    this.writes = writeStatements(this.writer);
    this.index = new IndexWriter(this.writer, this.writerKeys);
    this.deferred = new DeferredIndex(this.writer, this.index, deps);
    if (this.deferred.pending()) this.scheduleIndexing(); // left by a crash
    this.history_ = new HistoryQueries(this.readerDb);
    this.writerHistory = this.inMemory ? this.history_ : new HistoryQueries(this.writer);
    // On the writer connection: its own commits leave it unchanged, other connections' move it.
    this.dataVersion = this.writer.prepare('PRAGMA data_version').pluck();
    if (!this.inMemory) {
      this.checkpointer = new Worker(path.join(__dirname, 'checkpoint-worker.js'), { workerData: { file, pending: this.checkpointPending } });
      this.checkpointer.unref();
      this.checkpointTimer = setInterval(() => this.checkpoint(), options.checkpointIntervalMs ?? 1000);
      this.checkpointTimer.unref();
    }
  }

  /** Asks the checkpoint worker to fold the WAL back into the database (one request at a time). */
  private checkpoint(): void {
    if (!this.checkpointer || Atomics.compareExchange(this.checkpointPending, 0, 0, 1) !== 0) return;
    this.checkpointer.postMessage('checkpoint');
  }

  /**
   * A commit that leaves the WAL over its limit asks the worker for a checkpoint at once. Under
   * unbroken write load that is not enough: a checkpoint running beside the writer never catches
   * the frames written meanwhile, so the WAL never starts over. Past four times the limit the writer
   * itself folds the WAL back and truncates it, between two units of work (a short, bounded stall).
   */
  private checkpointIfLarge(): void {
    if (this.walFile === undefined) return;
    let size = 0;
    try { size = fs.statSync(this.walFile).size; } catch { return; }
    if (size > 4 * this.walLimitBytes) this.writer.pragma('wal_checkpoint(TRUNCATE)');
    else if (size > this.walLimitBytes) this.checkpoint();
  }

  /**
   * Reads go to the writer connection whenever it holds no open unit of work: it then sees exactly
   * the committed data, and its page cache stays warm across its own commits, whereas the reader
   * connection drops its whole cache each time it sees another connection's commit (with audit on,
   * every few milliseconds). While a unit of work is open, the reader connection keeps its half-done
   * writes out of sight.
   */
  private readNow<T>(work: (r: SqliteReader, history: HistoryQueries) => T): Promise<T> {
    if (this.inMemory && this.lock.busy) return this.lock.run(async () => work(this.reader, this.history_));
    const idle = !this.inMemory && !this.writer.inTransaction;
    try {
      return Promise.resolve(idle ? work(this.writerReader, this.writerHistory) : work(this.reader, this.history_));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  read(type: string, id: string): Promise<StoredVersion | undefined> {
    return this.readNow((r) => r.read(type, id));
  }

  vread(type: string, id: string, versionId: number): Promise<StoredVersion | undefined> {
    return this.readNow((r) => r.vread(type, id, versionId));
  }

  async search(query: SearchQuery): Promise<SearchPage> {
    if (this.deferred.concerns(query.types)) await this.catchUp();
    return this.readNow((r) => r.search(query));
  }

  async referencedBy(sources: ResourceKey[], keys: string[], targetType?: string): Promise<LiveVersion[]> {
    return this.readNow((r) => r.referencedBy(sources, keys, targetType));
  }

  async referencing(targets: ResourceKey[], keys: string[]): Promise<LiveVersion[]> {
    if (this.deferred.concerns([])) await this.catchUp();
    return this.readNow((r) => r.referencing(targets, keys));
  }

  /**
   * Writes the deferred index rows still waiting, a batch per unit of work so writers are not held
   * up for long; a search that may match them waits for this, so none is ever missed.
   */
  private async catchUp(): Promise<void> {
    while (this.deferred.pending()) {
      await this.lock.run(async () => {
        this.writer.exec('BEGIN IMMEDIATE');
        try {
          this.deferred.run(DEFERRED_BATCH);
          this.writer.exec('COMMIT');
        } catch (err) {
          if (this.writer.inTransaction) this.writer.exec('ROLLBACK');
          this.writerKeys.forget();
          throw err;
        }
      });
    }
  }

  /** Deferred rows are written within INDEX_LAG_MS of their commit even when nothing searches for them. */
  private scheduleIndexing(): void {
    if (this.indexTimer !== undefined || this.closing) return;
    this.indexTimer = setTimeout(() => {
      this.indexTimer = undefined;
      this.catchUp().catch((err: unknown) => this.deps.onBackgroundError?.(err));
    }, INDEX_LAG_MS);
  }

  history(query: HistoryQuery): Promise<HistoryPage> {
    return this.readNow((r, h) => {
      const cursorVid = query.cursor === undefined ? undefined : parseCursor(query.cursor);
      let pk: number | undefined;
      if (query.id !== undefined) {
        pk = r.s.pkOf.get(query.type ?? '', query.id)?.pk;
        if (pk === undefined) return { versions: [], cursors: [] };
      }
      if (query.count === 0) return { versions: [], cursors: [] }; // _count=0: no entries, and no page to follow
      const { rows, cut } = h.run(query, pk, cursorVid);
      const more = cut || rows.length > query.count;
      const page = more ? rows.slice(0, query.count) : rows;
      return { versions: page.map(toVersion), nextCursor: more ? String(page[page.length - 1].vid) : undefined, cursors: page.map((row) => String(row.vid)) };
    });
  }

  /**
   * This process's commits count per type; another process's commit (which SQLite's data_version
   * reveals, without saying what it wrote) moves every type's token on.
   */
  generation(type: string): Promise<string> {
    const seen = Number(this.dataVersion.get());
    if (seen !== this.lastDataVersion) {
      this.lastDataVersion = seen;
      this.foreignCommits++;
    }
    return Promise.resolve(`${this.foreignCommits}.${this.writesOf.get(type) ?? 0}`);
  }

  /**
   * Group commit: units of work asked for while one runs (or in the same turn of the event loop)
   * run one after another in one SQLite transaction, each inside its own savepoint, and commit
   * together; each caller hears back only after that commit. A unit that fails is rolled back to
   * its savepoint alone, as if it had run by itself; a commit that fails fails every unit in it.
   * One commit per request was most of the cost of a single create.
   */
  transact<T>(work: (uow: UnitOfWork) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.units.push({ work, resolve: resolve as (value: unknown) => void, reject });
      if (this.draining) return;
      this.draining = true;
      // Next turn, not now: requests read in this turn then share the commit.
      setImmediate(() => void this.drain());
    });
  }

  private async drain(): Promise<void> {
    try {
      while (this.units.length > 0) {
        const batch = this.units.splice(0, UNITS_PER_COMMIT);
        await this.lock.run(() => this.commitTogether(batch));
      }
    } finally {
      this.draining = false;
    }
  }

  private async commitTogether(batch: PendingUnit[]): Promise<void> {
    const done: { unit: PendingUnit; result: unknown; uow: SqliteUnitOfWork }[] = [];
    const failed: { unit: PendingUnit; err: unknown }[] = [];
    try {
      this.writer.exec('BEGIN IMMEDIATE');
      // A unit alone needs no savepoint: the transaction is its own (a savepoint journals every
      // page a large unit touches; measured, a fifth of a patient Bundle's ingest).
      const alone = batch.length === 1;
      for (const unit of batch) {
        const uow = new SqliteUnitOfWork(this.writes, this.writerReader, this.index, this.deps, this.deferred);
        if (!alone) this.writer.exec('SAVEPOINT unit');
        try {
          const result = await unit.work(uow);
          if (!alone) this.writer.exec('RELEASE unit');
          done.push({ unit, result, uow });
        } catch (err) {
          // Alone, or an error SQLite itself rolled the whole transaction back for: the batch fails.
          if (alone || !this.writer.inTransaction) {
            uow.rolledBack(); // the newest first: the units done before it are undone below
            throw err;
          }
          this.writer.exec('ROLLBACK TO unit');
          this.writer.exec('RELEASE unit');
          this.writerKeys.forget();
          uow.rolledBack();
          failed.push({ unit, err });
        }
      }
      this.writer.exec('COMMIT');
    } catch (err) {
      if (this.writer.inTransaction) this.writer.exec('ROLLBACK');
      this.writerKeys.forget();
      for (let i = done.length - 1; i >= 0; i--) done[i].uow.rolledBack();
      for (const unit of batch) {
        const own = failed.find((f) => f.unit === unit);
        unit.reject(own ? own.err : err);
      }
      return;
    }
    for (const { uow } of done) {
      for (const type of uow.types) this.writesOf.set(type, (this.writesOf.get(type) ?? 0) + 1);
      if (uow.deferredAny) this.scheduleIndexing();
    }
    this.checkpointIfLarge();
    for (const { unit, result } of done) unit.resolve(result);
    for (const { unit, err } of failed) unit.reject(err);
  }

  async ping(): Promise<boolean> {
    return this.reader.s.ping.get() !== undefined;
  }

  async close(): Promise<void> {
    if (this.checkpointTimer) clearInterval(this.checkpointTimer);
    this.closing = true;
    // Units already asked for are committed (or fail) before the connections go.
    while (this.draining || this.units.length > 0) await new Promise((resolve) => setImmediate(resolve));
    if (this.indexTimer) clearTimeout(this.indexTimer);
    await this.catchUp(); // a clean stop leaves nothing for the next start to index
    await this.lock.run(async () => undefined);
    if (this.checkpointer) {
      const worker = this.checkpointer;
      worker.ref(); // keep the process alive until the worker has closed its connection
      await new Promise<void>((resolve) => { worker.once('exit', () => resolve()); worker.postMessage('close'); });
    }
    if (!this.inMemory) {
      this.writer.pragma('wal_checkpoint(TRUNCATE)');
      this.readerDb.close();
    }
    this.writer.close();
  }
}

function parseCursor(cursor: string): number {
  if (!/^[1-9][0-9]{0,15}$/.test(cursor)) throw new FhirError('invalid', `Invalid paging cursor '${cursor}'`);
  return Number(cursor);
}

class SqliteUnitOfWork implements UnitOfWork {
  /** The types this unit of work wrote (for generation()). */
  readonly types = new Set<string>();
  /** Whether it left index rows for the indexer (CreateOptions.deferIndex). */
  deferredAny = false;
  private readonly undo: (() => void)[] = [];

  onRollback(undo: () => void): void {
    this.undo.push(undo);
  }

  /** Its writes were rolled back: undo what was done outside the database on their account, newest first. */
  rolledBack(): void {
    for (let i = this.undo.length - 1; i >= 0; i--) this.undo[i]();
    this.undo.length = 0;
  }

  constructor(
    private readonly w: WriteStatements, private readonly r: SqliteReader,
    private readonly index: IndexWriter, private readonly deps: StoreDeps, private readonly deferred: DeferredIndex,
  ) {}

  async read(type: string, id: string): Promise<StoredVersion | undefined> { return this.r.read(type, id); }
  async vread(type: string, id: string, versionId: number): Promise<StoredVersion | undefined> { return this.r.vread(type, id, versionId); }
  async search(query: SearchQuery): Promise<SearchPage> {
    // Inside the unit of work: the rows are written in it (and kept waiting again if it rolls back).
    if (this.deferred.concerns(query.types)) while (this.deferred.run(DEFERRED_BATCH) > 0);
    return this.r.search(query);
  }
  async referencedBy(sources: ResourceKey[], keys: string[], targetType?: string): Promise<LiveVersion[]> {
    return this.r.referencedBy(sources, keys, targetType);
  }
  async referencing(targets: ResourceKey[], keys: string[]): Promise<LiveVersion[]> {
    if (this.deferred.concerns([])) while (this.deferred.run(DEFERRED_BATCH) > 0);
    return this.r.referencing(targets, keys);
  }

  async create(resource: Resource, options: CreateOptions = {}): Promise<LiveVersion> {
    const id = options.id ?? this.deps.newId();
    const current = this.w.currentRow.get(resource.resourceType, id);
    if (current) throw new FhirError('exception', `Refusing to create ${resource.resourceType}/${id}: the id is already taken`);
    return this.write(resource, id, options.method ?? 'POST', current, options.deferIndex === true).version;
  }

  async update(resource: Resource & { id: string }, options: WriteOptions = {}): Promise<{ version: LiveVersion; created: boolean }> {
    const current = this.w.currentRow.get(resource.resourceType, resource.id);
    checkExpected(resource.resourceType, resource.id, current?.version, options.expectedVersion);
    return this.write(resource, resource.id, options.method ?? 'PUT', current);
  }

  async delete(type: string, id: string, options: WriteOptions = {}): Promise<StoredVersion | undefined> {
    const current = this.w.currentRow.get(type, id);
    checkExpected(type, id, current?.version, options.expectedVersion);
    if (!current || current.deleted) return undefined;
    this.types.add(type);
    const ms = this.timestamp(current);
    const version = current.version + 1;
    const vid = Number(this.w.insertVersion.run(current.pk, type, version, 'DELETE', ms, 1, null).lastInsertRowid);
    this.w.supersede.run(ms, current.current_vid);
    this.w.pointCurrent.run(version, 1, vid, current.pk);
    this.index.remove(current.pk);
    this.deferred.indexedNow(current.pk);
    return { type, id, versionId: version, lastUpdated: new Date(ms).toISOString(), deleted: true, method: 'DELETE' };
  }

  private timestamp(current: { current_vid: number } | undefined): number {
    const previous = current ? this.w.writtenMs.get(current.current_vid)?.written_ms : undefined;
    return nextTimestampMs(this.deps.now().getTime(), previous);
  }

  /** `current` is the resource's row as the caller just read it in this unit of work (undefined: new). */
  private write(resource: Resource, id: string, method: WriteMethod, current: CurrentRow | undefined, deferIndex = false): { version: LiveVersion; created: boolean } {
    this.types.add(resource.resourceType);
    const type = resource.resourceType;
    const created = !current || current.deleted === 1;
    const ms = this.timestamp(current);
    if (!current) {
      const { pk } = this.w.insertResource.get(type, id) as { pk: number };
      current = { pk, version: 0, deleted: 0, current_vid: 0 };
    } else {
      this.w.supersede.run(ms, current.current_vid);
      this.index.remove(current.pk);
      this.deferred.indexedNow(current.pk);
    }
    const version = current.version + 1;
    const lastUpdated = new Date(ms).toISOString();
    const stored = stampMeta(resource, id, version, lastUpdated);
    const json = JSON.stringify(stored);
    const vid = Number(this.w.insertVersion.run(current.pk, type, version, method, ms, 0, json).lastInsertRowid);
    this.w.pointCurrent.run(version, 0, vid, current.pk);
    if (deferIndex && created) {
      this.deferred.add(current.pk, type);
      this.deferredAny = true;
    } else {
      this.index.write(current.pk, this.deps.index(stored));
    }
    return { version: { type, id, versionId: version, lastUpdated, deleted: false, method, resource: stored, json }, created };
  }
}
