import type { Resource } from 'fhir/r4';
import type { IndexRows } from '../search/index-rows';
import type { SearchQuery } from '../search/query';

/**
 * The one storage contract. Every backend (the embedded SQLite store, MongoDB) implements it and
 * passes the same contract suite (test/storage/contract.ts). Versioning rules live here, in the
 * contract, so that backends cannot disagree about them:
 *
 * - versions of one resource are numbered 1, 2, 3 … with no gaps; a delete writes a tombstone version;
 * - a write after a delete revives the resource with the next number;
 * - `meta.versionId` and `meta.lastUpdated` are set by the store and always equal the row's own values;
 * - a unit of work is atomic: everything in it is kept, or nothing.
 */

/** One stored version of a resource: a live resource, or the tombstone left by a delete. */
export interface StoredVersion {
  type: string;
  id: string;
  versionId: number;
  /** FHIR instant, UTC with milliseconds, e.g. 2026-11-24T10:00:00.000Z. */
  lastUpdated: string;
  deleted: boolean;
  /** The resource with meta.versionId/lastUpdated filled in; absent on a tombstone. */
  resource?: Resource;
  /** The stored JSON text of `resource`, when the backend has it, so a read need not re-serialise. */
  json?: string;
  /** How the version came to be: the HTTP method of the interaction that wrote it. */
  method: WriteMethod;
}

export type WriteMethod = 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface LiveVersion extends StoredVersion {
  deleted: false;
  resource: Resource;
}

export interface HistoryQuery {
  type?: string;
  id?: string;
  /** Only versions written at or after this instant (ms since epoch, inclusive per http.html#history). */
  sinceMs?: number;
  /** Only versions that were current at some point in [atStartMs, atEndMs). */
  at?: { startMs: number; endMs: number };
  count: number;
  /** A page ends early (with a `nextCursor`) once its versions' JSON reaches this many bytes; at least one is returned. */
  maxBytes?: number;
  /** Opaque cursor from a previous page's `nextCursor`. */
  cursor?: string;
}

export interface HistoryPage {
  /** Newest first, as http.html#history asks. */
  versions: StoredVersion[];
  /** Present when more versions follow this page. */
  nextCursor?: string;
  /**
   * The cursor that resumes right after each version (`cursors[i]` follows `versions[i]`), so a
   * caller that keeps only some versions (consent filtering) can end its page anywhere.
   */
  cursors: string[];
}

export interface SearchPage {
  /** The matches of this page, in the query's sort order. */
  versions: LiveVersion[];
  /** True when more matches follow this page (it may hold fewer than asked, when its byte budget ran out). */
  hasMore: boolean;
  /** Number of all matches, when the query asked for an accurate total. */
  total?: number;
}

/** A resource named by type and id (a reference's target). */
export interface ResourceKey {
  type: string;
  id: string;
}

export interface WriteOptions {
  /** The version the client believes is current (If-Match); a mismatch is a 412. */
  expectedVersion?: number;
  method?: WriteMethod;
}

export interface CreateOptions extends WriteOptions {
  /**
   * A fresh id the caller drew from the server's id source beforehand, because other resources
   * in the same unit of work already point at it (a transaction's urn:uuid references). It must
   * not name an existing resource, live or deleted: that is an error, never an overwrite.
   */
  id?: string;
  /**
   * The resource's search index may be written after its commit, in batches (append-only
   * records written on every request: the audit trail). The store still answers every search as
   * if it were written at once: a search that could match such a resource first catches up.
   */
  deferIndex?: boolean;
}

/** Reads that see a consistent, committed state. */
export interface StoreReader {
  /** The current version (live or tombstone), or undefined if the resource never existed. */
  read(type: string, id: string): Promise<StoredVersion | undefined>;
  vread(type: string, id: string, versionId: number): Promise<StoredVersion | undefined>;
  /** Current, live resources matching the query (search.html), one page of them. */
  search(query: SearchQuery): Promise<SearchPage>;
  /** Live targets of the given reference parameters of `sources` (for _include); `targetType` narrows them. */
  referencedBy(sources: ResourceKey[], keys: string[], targetType?: string): Promise<LiveVersion[]>;
  /** Live resources whose given reference parameters point at `targets` (for _revinclude). */
  referencing(targets: ResourceKey[], keys: string[]): Promise<LiveVersion[]>;
}

/** Writes inside one atomic unit of work. Reads inside it see its own writes. */
export interface UnitOfWork extends StoreReader {
  /** Stores a new resource under a fresh server-assigned id (any id in the body is ignored). */
  create(resource: Resource, options?: CreateOptions): Promise<LiveVersion>;
  /** Stores the next version of resource.id, creating it when absent or deleted ("update as create"). */
  update(resource: Resource & { id: string }, options?: WriteOptions): Promise<{ version: LiveVersion; created: boolean }>;
  /** Writes a tombstone; returns undefined (and writes nothing) when there is no live resource. */
  delete(type: string, id: string, options?: WriteOptions): Promise<StoredVersion | undefined>;
  /**
   * Stores whose units run one at a time (serializesUnits) call `undo` when this unit's writes are
   * rolled back, at that moment: state kept beside the database (the audit chain's head) follows.
   */
  onRollback?(undo: () => void): void;
}

export interface ResourceStore extends StoreReader {
  /**
   * True when units of work run one at a time, in the order transact() was called, and commit in
   * that order (SQLite's group commit); their onRollback hooks are then called.
   */
  readonly serializesUnits?: boolean;
  /** Whether a failed unit of work may simply be tried again (a lost connection, a failover), not a fault in it. */
  isTransient?(err: unknown): boolean;
  /** Runs `work` atomically: all its writes are committed together, or none when it throws. */
  transact<T>(work: (uow: UnitOfWork) => Promise<T>): Promise<T>;
  history(query: HistoryQuery): Promise<HistoryPage>;
  /**
   * A token that changes whenever a resource of `type` is written, by this process or another: the
   * cheap check behind caches of what such resources say (a principal's consents). It may also
   * change when nothing of that type was written; it never stays the same when something was.
   */
  generation(type: string): Promise<string>;
  /** Cheap liveness of the backend, for /readyz. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

/** The store's collaborators, injected so tests control time and ids. */
export interface StoreDeps {
  now(): Date;
  newId(): string;
  /** What a resource is findable by; computed inside the write's unit of work, so never stale. */
  index(resource: Resource): IndexRows;
  /** Told of a failure in the store's own background work (deferred indexing), which has no caller to answer. */
  onBackgroundError?(err: unknown): void;
}
