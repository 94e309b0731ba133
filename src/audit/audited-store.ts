import type { AuditEvent, Resource } from 'fhir/r4';
import type { SearchQuery } from '../search/query';
import type {
  CreateOptions, HistoryPage, HistoryQuery, LiveVersion, ResourceKey, ResourceStore, SearchPage, StoredVersion, UnitOfWork, WriteOptions,
} from '../storage/store';
import type { AuditTrail } from './trail';

/** A write the unit of work made: the version it left behind, and for a delete what was deleted. */
export interface Written { version: StoredVersion; before?: Resource }

/**
 * A request's store whose units of work carry their own audit record: the event describing
 * the writes (made by `eventFor`) is appended inside the same unit of work, so the data and its
 * record commit together or not at all.
 */
export class AuditedStore implements ResourceStore {
  constructor(
    private readonly inner: ResourceStore,
    private readonly trail: AuditTrail,
    private readonly eventFor: (written: Written[]) => AuditEvent,
  ) {}

  transact<T>(work: (uow: UnitOfWork) => Promise<T>): Promise<T> {
    return this.trail.within(async (uow) => {
      const recording = new RecordingUnitOfWork(uow);
      const result = await work(recording);
      return { result, events: recording.written.length > 0 ? [this.eventFor(recording.written)] : [] };
    });
  }

  read(type: string, id: string): Promise<StoredVersion | undefined> { return this.inner.read(type, id); }
  vread(type: string, id: string, versionId: number): Promise<StoredVersion | undefined> { return this.inner.vread(type, id, versionId); }
  search(query: SearchQuery): Promise<SearchPage> { return this.inner.search(query); }
  referencedBy(sources: ResourceKey[], keys: string[], targetType?: string): Promise<LiveVersion[]> { return this.inner.referencedBy(sources, keys, targetType); }
  referencing(targets: ResourceKey[], keys: string[]): Promise<LiveVersion[]> { return this.inner.referencing(targets, keys); }
  history(query: HistoryQuery): Promise<HistoryPage> { return this.inner.history(query); }
  generation(type: string): Promise<string> { return this.inner.generation(type); }
  ping(): Promise<boolean> { return this.inner.ping(); }
  close(): Promise<void> { return this.inner.close(); }
}

class RecordingUnitOfWork implements UnitOfWork {
  readonly written: Written[] = [];

  constructor(private readonly uow: UnitOfWork) {}

  read(type: string, id: string): Promise<StoredVersion | undefined> { return this.uow.read(type, id); }
  vread(type: string, id: string, versionId: number): Promise<StoredVersion | undefined> { return this.uow.vread(type, id, versionId); }
  search(query: SearchQuery): Promise<SearchPage> { return this.uow.search(query); }
  referencedBy(sources: ResourceKey[], keys: string[], targetType?: string): Promise<LiveVersion[]> { return this.uow.referencedBy(sources, keys, targetType); }
  referencing(targets: ResourceKey[], keys: string[]): Promise<LiveVersion[]> { return this.uow.referencing(targets, keys); }

  async create(resource: Resource, options?: CreateOptions): Promise<LiveVersion> {
    const v = await this.uow.create(resource, options);
    this.written.push({ version: v });
    return v;
  }

  async update(resource: Resource & { id: string }, options?: WriteOptions): Promise<{ version: LiveVersion; created: boolean }> {
    const out = await this.uow.update(resource, options);
    this.written.push({ version: out.version });
    return out;
  }

  async delete(type: string, id: string, options?: WriteOptions): Promise<StoredVersion | undefined> {
    const before = await this.uow.read(type, id);
    const v = await this.uow.delete(type, id, options);
    if (v) this.written.push({ version: v, before: before?.resource });
    return v;
  }
}
