import type { ClientSession, Collection, Document } from 'mongodb';
import type { SearchQuery } from '../../search/query';
import type { LiveVersion, ResourceKey, SearchPage, StoredVersion, StoreReader } from '../store';
import type { VersionDoc } from './documents';
import { readPage } from './page';
import { MongoPlanner, type MongoFilter } from './plan';
import { storedVersion } from '../versioning';

/** What a read needs of a version document: never its index values. */
export const VERSION_PROJECTION = { rk: 1, type: 1, id: 1, v: 1, ms: 1, method: 1, del: 1, json: 1 } as const;

/** A version document as a StoredVersion. */
export function toVersion(doc: Pick<VersionDoc, 'type' | 'id' | 'v' | 'ms' | 'method' | 'del' | 'json'>): StoredVersion {
  return storedVersion({ type: doc.type, id: doc.id, versionId: doc.v, writtenMs: doc.ms, deleted: doc.del, method: doc.method, json: doc.json });
}

export const resourceKey = (type: string, id: string): string => `${type}/${id}`;

/** Reads, optionally inside a session's transaction (then they see its own writes). */
export class MongoReader implements StoreReader {
  private readonly planner: MongoPlanner;

  constructor(private readonly coll: Collection<VersionDoc>, nowMs: () => number, private readonly session?: ClientSession) {
    this.planner = new MongoPlanner(nowMs, (types, filter, projection) => this.live(types, filter, projection));
  }

  private get opts(): { session?: ClientSession } {
    return this.session ? { session: this.session } : {};
  }

  private live(types: string[], filter: MongoFilter, projection: Document): Promise<VersionDoc[]> {
    const base: MongoFilter = { live: true, type: types.length === 1 ? types[0] : { $in: types } };
    return this.coll.find({ ...base, $and: [filter] }, { ...this.opts, projection }).toArray();
  }

  /** The current version document (live or tombstone). */
  async current(type: string, id: string): Promise<VersionDoc | undefined> {
    const doc = await this.coll.findOne({ rk: resourceKey(type, id), cur: true }, { ...this.opts, projection: { ...VERSION_PROJECTION, seq: 1 } });
    return doc ?? undefined;
  }

  async read(type: string, id: string): Promise<StoredVersion | undefined> {
    const doc = await this.current(type, id);
    return doc && toVersion(doc);
  }

  async vread(type: string, id: string, versionId: number): Promise<StoredVersion | undefined> {
    // With rk (the shard key) in the filter, mongos asks one shard instead of all of them.
    const rk = resourceKey(type, id);
    const doc = await this.coll.findOne({ _id: `${rk}/${versionId}`, rk }, { ...this.opts, projection: VERSION_PROJECTION });
    return doc ? toVersion(doc) : undefined;
  }

  async search(query: SearchQuery): Promise<SearchPage> {
    const filter = await this.planner.filter(query);
    // One more than asked, to know whether a next page exists (with _count=0: whether any match).
    const cursor = this.coll.find(filter, {
      ...this.opts, projection: VERSION_PROJECTION, sort: this.planner.sort(query.sort), skip: query.offset, limit: query.count + 1,
    });
    const { docs, more: hasMore } = await readPage(cursor, query.count, query.maxBytes);
    const versions = docs.map((d) => toVersion(d) as LiveVersion);
    let total: number | undefined;
    if (query.total === 'accurate') total = await this.coll.countDocuments(filter, this.opts);
    else if (!hasMore && (versions.length > 0 || query.offset === 0)) total = query.offset + versions.length;
    return { versions, hasMore, total };
  }

  async referencedBy(sources: ResourceKey[], keys: string[], targetType?: string): Promise<LiveVersion[]> {
    if (sources.length === 0 || keys.length === 0) return [];
    const docs = await this.coll.find({ live: true, rk: { $in: sources.map((s) => resourceKey(s.type, s.id)) } }, { ...this.opts, projection: { ref: 1 } }).toArray();
    const wanted = new Set(keys);
    const targets = new Set<string>();
    for (const d of docs) {
      for (const r of d.ref ?? []) if (wanted.has(r.k) && r.t !== '' && (!targetType || r.t === targetType)) targets.add(resourceKey(r.t, r.i));
    }
    if (targets.size === 0) return [];
    const found = await this.coll.find({ live: true, rk: { $in: [...targets] } }, { ...this.opts, projection: VERSION_PROJECTION, sort: { seq: 1, _id: 1 } }).toArray();
    return found.map((d) => toVersion(d) as LiveVersion);
  }

  async referencing(targets: ResourceKey[], keys: string[]): Promise<LiveVersion[]> {
    if (targets.length === 0 || keys.length === 0) return [];
    const byType = new Map<string, string[]>();
    for (const t of targets) byType.set(t.type, [...(byType.get(t.type) ?? []), t.id]);
    const filter: MongoFilter = {
      live: true,
      ref: { $elemMatch: { k: { $in: keys }, $or: [...byType].map(([t, ids]) => ({ t, i: { $in: ids } })) } },
    };
    const found = await this.coll.find(filter, { ...this.opts, projection: VERSION_PROJECTION, sort: { seq: 1, _id: 1 } }).toArray();
    return found.map((d) => toVersion(d) as LiveVersion);
  }
}

