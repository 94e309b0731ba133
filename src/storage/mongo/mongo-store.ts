import { createHash } from 'node:crypto';
import { MongoClient, MongoError, MongoNetworkError, MongoServerError, MongoServerSelectionError, type ClientSession, type Collection, type Db } from 'mongodb';
import type { Resource } from 'fhir/r4';
import { FhirError } from '../../fhir/errors';
import type { SearchQuery } from '../../search/query';
import { AsyncLock } from '../async-lock';
import type {
  CreateOptions, HistoryPage, HistoryQuery, LiveVersion, ResourceKey, ResourceStore, SearchPage, StoreDeps, StoredVersion, UnitOfWork,
  WriteMethod, WriteOptions,
} from '../store';
import { checkExpected, nextTimestampMs, stampMeta } from '../versioning';
import { COLLECTION, GUARDS, indexFields, INDEX_FIELD_NAMES, type GuardDoc, type VersionDoc } from './documents';
import { history } from './history';
import { MongoReader, resourceKey, toVersion } from './reader';
import { ensureIndexes, transactionProblem } from './schema';

export interface MongoOptions {
  /** A MongoDB connection string (MONGO_URL); its path names the database, `fhir` when it has none. */
  url: string;
  /** Overrides the database named in the URL (tests use a fresh one each). */
  database?: string;
  /**
   * ONLY for a test engine that cannot run transactions (the wire-protocol bridge of the tests):
   * units of work then run one at a time in this process without a transaction, so a failing one
   * leaves its writes behind. Production never sets this: start() refuses such a deployment.
   */
  testEngineWithoutTransactions?: boolean;
}

/**
 * How long start-up waits for the deployment to answer before giving up with a message. Only
 * start-up: operations keep the driver's own server-selection wait (30 s), which rides out an
 * election during a failover.
 */
export const START_TIMEOUT_MS = 10_000;

/** Write conflicts between concurrent units of work are retried this many times before giving up. */
const MAX_ATTEMPTS = 20;

/** A unit of work's write lost a race with another one (same resource, same version): run it again. */
class WriteRace extends Error {}

export class MongoStore implements ResourceStore {
  private readonly client: MongoClient;
  private readonly db: Db;
  private readonly coll: Collection<VersionDoc>;
  private readonly reader: MongoReader;
  private readonly lock = new AsyncLock();
  private readonly transactions: boolean;
  private starting?: Promise<void>;
  private readonly seqs = new SequenceSource();
  /** The database this store uses. */
  readonly database: string;
  private readonly hosts: string;

  constructor(options: MongoOptions, private readonly deps: StoreDeps) {
    // The driver connects on first use; start() connects, checks the deployment and creates indexes.
    this.client = new MongoClient(options.url, { ignoreUndefined: true });
    this.database = options.database ?? databaseOf(options.url);
    this.hosts = hostsOf(options.url);
    this.db = this.client.db(this.database);
    this.coll = this.db.collection<VersionDoc>(COLLECTION);
    this.transactions = !options.testEngineWithoutTransactions;
    this.reader = new MongoReader(this.coll, () => deps.now().getTime());
  }

  /**
   * Connects, refuses a deployment without transactions, and creates the indexes (idempotent).
   * Every operation waits for it; main.ts awaits it before listening, so a problem stops start-up.
   */
  start(): Promise<void> {
    this.starting ??= (async () => {
      try {
        await withinStartTimeout(this.client.connect());
        if (this.transactions) {
          const problem = transactionProblem(await this.db.admin().command({ hello: 1 }));
          if (problem) throw new Error(problem);
        }
        await ensureIndexes(this.db);
      } catch (err) {
        // The operator sees the setting and the hosts that failed, never the credentials in the connection string.
        const reason = (err as Error).message;
        throw new Error(reason.startsWith('MONGO_URL') ? reason : `MONGO_URL (${this.hosts}): ${reason}`);
      }
    })();
    return this.starting;
  }

  private async ready<T>(work: () => Promise<T>): Promise<T> {
    await this.start();
    return work();
  }

  read(type: string, id: string): Promise<StoredVersion | undefined> { return this.ready(() => this.reader.read(type, id)); }
  vread(type: string, id: string, versionId: number): Promise<StoredVersion | undefined> { return this.ready(() => this.reader.vread(type, id, versionId)); }
  search(query: SearchQuery): Promise<SearchPage> { return this.ready(() => this.reader.search(query)); }
  referencedBy(sources: ResourceKey[], keys: string[], targetType?: string): Promise<LiveVersion[]> {
    return this.ready(() => this.reader.referencedBy(sources, keys, targetType));
  }
  referencing(targets: ResourceKey[], keys: string[]): Promise<LiveVersion[]> { return this.ready(() => this.reader.referencing(targets, keys)); }
  history(query: HistoryQuery): Promise<HistoryPage> { return this.ready(() => history(this.coll, query)); }

  transact<T>(work: (uow: UnitOfWork) => Promise<T>): Promise<T> {
    if (!this.transactions) return this.ready(() => this.lock.run(() => work(this.unitOfWork())));
    return this.ready(() => this.inTransaction(work));
  }

  /**
   * One multi-document transaction (snapshot reads, majority commit). A write conflict with a
   * concurrent unit of work aborts it; the driver's withTransaction retries transient errors
   * and unknown commit results, and a lost race on a version number is retried here: the work
   * runs again from the start and sees the other unit's committed writes. So `work` may run more
   * than once, and must not carry state outside the unit of work from an aborted run to the next.
   */
  private async inTransaction<T>(work: (uow: UnitOfWork) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const session = this.client.startSession();
      try {
        let result: T | undefined;
        await session.withTransaction(async () => { result = await work(this.unitOfWork(session)); }, {
          readConcern: { level: 'snapshot' }, writeConcern: { w: 'majority' }, readPreference: 'primary',
        });
        return result as T;
      } catch (err) {
        if (!(err instanceof WriteRace) || attempt >= MAX_ATTEMPTS) throw err;
      } finally {
        await session.endSession();
      }
    }
  }

  private unitOfWork(session?: ClientSession): MongoUnitOfWork {
    const reader = new MongoReader(this.coll, () => this.deps.now().getTime(), session);
    return new MongoUnitOfWork(this.coll, this.db.collection<GuardDoc>(GUARDS), reader, this.deps, this.seqs, session);
  }

  /** The driver's own view: network errors (a cleared pool included), no server reachable, or errors it labels retryable. */
  isTransient(err: unknown): boolean {
    if (err instanceof MongoNetworkError || err instanceof MongoServerSelectionError) return true;
    return err instanceof MongoError && (err.hasErrorLabel('RetryableWriteError') || err.hasErrorLabel('TransientTransactionError'));
  }

  /**
   * The newest write time of the type and how many versions share it (probes of the history
   * index): every process's writes show, since they all write the one collection.
   */
  async generation(type: string): Promise<string> {
    return this.ready(async () => {
      const newest = await this.coll.findOne({ type }, { sort: { ms: -1 }, projection: { ms: 1 } });
      if (!newest) return 'none';
      // Versions written in the same millisecond are counted: one more in it moves the token too.
      return `${newest.ms}.${await this.coll.countDocuments({ type, ms: newest.ms })}`;
    });
  }

  async ping(): Promise<boolean> {
    try {
      await this.start();
      await this.db.command({ ping: 1 });
      return true;
    } catch {
      return false;
    }
  }

  /** Names of the collection's indexes (operators' checks and tests). */
  async indexNames(): Promise<string[]> {
    await this.start();
    return (await this.coll.listIndexes().toArray()).map((i) => String(i.name));
  }

  /** Drops the whole database: for tests and tooling that own it, never called by the server. */
  async drop(): Promise<void> {
    await this.start();
    await this.db.dropDatabase();
  }

  async close(): Promise<void> {
    await this.lock.run(async () => undefined);
    await this.client.close();
  }
}

/** Rejects when the deployment has not answered within START_TIMEOUT_MS (close() then ends the attempt). */
function withinStartTimeout<T>(work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no MongoDB server answered within ${START_TIMEOUT_MS / 1000} s`)), START_TIMEOUT_MS);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/** The hosts of a connection string, without credentials or options: safe to print. */
export function hostsOf(url: string): string {
  return /^mongodb(?:\+srv)?:\/\/(?:[^@/]*@)?([^/?]+)/.exec(url)?.[1] ?? '(unparsable connection string)';
}

/** The database named in a connection string's path, or `fhir`. */
export function databaseOf(url: string): string {
  const m = /^mongodb(?:\+srv)?:\/\/[^/]*\/([^?]+)/.exec(url);
  return m ? decodeURIComponent(m[1]) : 'fhir';
}

/**
 * First-write order of resources (the default order of search results, as the SQLite store's
 * row number): milliseconds since the epoch times 1000 plus a counter, strictly increasing
 * within this process. Two gateway processes may draw equal values; ties are broken by _id.
 */
class SequenceSource {
  private last = 0;
  next(): number {
    this.last = Math.max(Date.now() * 1000, this.last + 1);
    return this.last;
  }
}

class MongoUnitOfWork implements UnitOfWork {
  constructor(
    private readonly coll: Collection<VersionDoc>, private readonly guards: Collection<GuardDoc>,
    private readonly r: MongoReader, private readonly deps: StoreDeps,
    private readonly seqs: SequenceSource, private readonly session?: ClientSession,
  ) {}

  private get opts(): { session?: ClientSession } {
    return this.session ? { session: this.session } : {};
  }

  read(type: string, id: string): Promise<StoredVersion | undefined> { return this.r.read(type, id); }
  vread(type: string, id: string, versionId: number): Promise<StoredVersion | undefined> { return this.r.vread(type, id, versionId); }
  referencedBy(sources: ResourceKey[], keys: string[], targetType?: string): Promise<LiveVersion[]> {
    return this.r.referencedBy(sources, keys, targetType);
  }
  referencing(targets: ResourceKey[], keys: string[]): Promise<LiveVersion[]> { return this.r.referencing(targets, keys); }

  /**
   * A search inside a unit of work decides what it writes (conditional create, update, delete,
   * a transaction's conditional references), so it first writes its guard (documents.ts): a
   * concurrent unit of work deciding on the same search then conflicts instead of also acting.
   */
  async search(query: SearchQuery): Promise<SearchPage> {
    if (this.session) {
      const key = createHash('sha256').update(JSON.stringify(query)).digest('base64url');
      try {
        await this.guards.updateOne({ _id: key }, { $set: { at: this.deps.now() } }, { upsert: true, session: this.session });
      } catch (err) {
        // Two units upserting a guard that did not exist yet: one of them loses on the unique _id.
        if (err instanceof MongoServerError && err.code === 11000) throw new WriteRace(`search guard ${key} was written concurrently`);
        throw err;
      }
    }
    return this.r.search(query);
  }

  async create(resource: Resource, options: CreateOptions = {}): Promise<LiveVersion> {
    const id = options.id ?? this.deps.newId();
    const current = await this.r.current(resource.resourceType, id);
    if (current) throw new FhirError('exception', `Refusing to create ${resource.resourceType}/${id}: the id is already taken`);
    return (await this.write(resource, id, options.method ?? 'POST', undefined)).version;
  }

  async update(resource: Resource & { id: string }, options: WriteOptions = {}): Promise<{ version: LiveVersion; created: boolean }> {
    const current = await this.r.current(resource.resourceType, resource.id);
    checkExpected(resource.resourceType, resource.id, current?.v, options.expectedVersion);
    return this.write(resource, resource.id, options.method ?? 'PUT', current);
  }

  async delete(type: string, id: string, options: WriteOptions = {}): Promise<StoredVersion | undefined> {
    const current = await this.r.current(type, id);
    checkExpected(type, id, current?.v, options.expectedVersion);
    if (!current || current.del) return undefined;
    const ms = nextTimestampMs(this.deps.now().getTime(), current.ms);
    const doc: VersionDoc = {
      _id: `${current.rk}/${current.v + 1}`, rk: current.rk, type, id, v: current.v + 1, ms, method: 'DELETE', del: true, cur: true, seq: current.seq,
    };
    await this.supersede(current, ms);
    await this.insert(doc);
    return toVersion(doc);
  }

  /** The previous current version stops being current and drops its index values. */
  private async supersede(current: VersionDoc, ms: number): Promise<void> {
    const unset: Record<string, ''> = { cur: '', live: '' };
    for (const f of INDEX_FIELD_NAMES) unset[f] = '';
    const res = await this.coll.updateOne({ _id: current._id, rk: current.rk, cur: true }, { $set: { sup: ms }, $unset: unset }, this.opts);
    if (res.matchedCount === 0) throw new WriteRace(`${current.rk} changed while this unit of work ran`);
  }

  private async insert(doc: VersionDoc): Promise<void> {
    try {
      await this.coll.insertOne(doc, this.opts);
    } catch (err) {
      // Another unit of work wrote this version number first (the _id is Type/id/version).
      if (err instanceof MongoServerError && err.code === 11000) throw new WriteRace(`${doc._id} was written concurrently`);
      throw err;
    }
  }

  /** `current` is the resource's current version as read in this unit of work (undefined: new). */
  private async write(resource: Resource, id: string, method: WriteMethod, current: VersionDoc | undefined): Promise<{ version: LiveVersion; created: boolean }> {
    const type = resource.resourceType;
    const created = !current || current.del;
    const ms = nextTimestampMs(this.deps.now().getTime(), current?.ms);
    const version = (current?.v ?? 0) + 1;
    const lastUpdated = new Date(ms).toISOString();
    const stored = stampMeta(resource, id, version, lastUpdated);
    const json = JSON.stringify(stored);
    const rk = resourceKey(type, id);
    const doc: VersionDoc = {
      _id: `${rk}/${version}`, rk, type, id, v: version, ms, method, del: false, cur: true, live: true,
      seq: current?.seq ?? this.seqs.next(), json, ...indexFields(this.deps.index(stored)),
    };
    if (current) await this.supersede(current, ms);
    await this.insert(doc);
    return { version: { type, id, versionId: version, lastUpdated, deleted: false, method, resource: stored, json }, created };
  }
}
