import type { Resource } from 'fhir/r4';
import { APPEND_ONLY } from '../auth/access';
import { FhirError } from '../fhir/errors';
import type { SearchParameters } from '../search/parameters';
import type { SearchQuery } from '../search/query';
import { findMatch, type CreateMatch } from '../storage/conditional';
import type {
  CreateOptions, HistoryPage, HistoryQuery, LiveVersion, ResourceKey, ResourceStore, SearchPage, StoredVersion, StoreReader, UnitOfWork, WriteOptions,
} from '../storage/store';
import { decide, mayWrite, type Decision, type Facts, type Reach } from './decide';
import { namesDocument, namesNationalIdentity, type IdentityLookup, type Sighting } from './identity';
import { confine, restriction } from './restrict';
import { stampWriter, WRITER_SYSTEM } from './writer';

/** The request's view of who is asking: their reach (loaded once, on first need) and the facts of a resource. */
export interface Guard {
  reach(): Promise<Reach>;
  facts(resource: Resource): Facts;
  /** The writer tag every write of this request carries (writer.ts): the practitioner's or organisation's reference. */
  writer?: string;
  /** Told of every record shown to the caller, with the decision that let it through (for the audit trail). */
  shown?(version: StoredVersion, decision: Decision): void;
}


/** Versions read from the store at a time while filling a restricted caller's history page. */
const HISTORY_BATCH = 100;

function refuseAppendOnly(type: string): void {
  if (APPEND_ONLY.has(type)) throw new FhirError('forbidden', `${type} is written by the server only and is never changed or deleted`);
}

/**
 * Consent enforcement at the store boundary: every read path (read, vread, search with its
 * chains, `_has`, totals and includes, history, batch and transaction entries, conditional
 * matching) goes through a store, so enforcing here leaves no path around it. Records the
 * principal may not see are absent: a read says 404, as for a record that never existed, and a
 * search neither returns nor counts them. The one look past that view is identity matching
 * (identity.ts): a conditional create on a national identity, and a document posted again, learn
 * that a hidden record exists and its id, never its content.
 */
class GuardedReader implements StoreReader, IdentityLookup {
  constructor(protected readonly inner: StoreReader, protected readonly guard: Guard, protected readonly params: SearchParameters) {}

  protected async visible<T extends StoredVersion>(v: T | undefined): Promise<T | undefined> {
    // The reach first: a refused purpose must be refused whether or not the record exists.
    const reach = await this.guard.reach();
    if (!v) return undefined;
    if (v.deleted || !v.resource) return reach.kind === 'all' || (await this.wroteBeforeDeletion(v, reach)) ? v : undefined;
    const decision = decide(reach, reach.kind === 'all' ? { type: v.type, id: v.id, patients: [], careDates: [], compositionTypes: [] } : this.guard.facts(v.resource));
    if (!decision.permit) return undefined;
    this.guard.shown?.(v, decision);
    return v;
  }

  /**
   * A deleted record is shown as deleted (410 on read, http.html#read) to the practitioner or
   * organisation who wrote its last version: they held it, so its deletion is theirs to know.
   * To anyone else it stays absent (404), as if it never existed.
   */
  private async wroteBeforeDeletion(tombstone: StoredVersion, reach: Reach): Promise<boolean> {
    if (reach.kind !== 'consents' || reach.self === undefined) return false;
    for (let versionId = tombstone.versionId - 1; versionId >= Math.max(1, tombstone.versionId - 3); versionId--) {
      const before = await this.inner.vread(tombstone.type, tombstone.id, versionId);
      if (before?.deleted === false && before.resource) {
        return (before.resource.meta?.tag ?? []).some((t) => t.system === WRITER_SYSTEM && t.code === reach.self);
      }
    }
    return false;
  }

  protected async filter<T extends StoredVersion>(versions: T[]): Promise<T[]> {
    const out: T[] = [];
    for (const v of versions) if (await this.visible(v)) out.push(v);
    return out;
  }

  async read(type: string, id: string): Promise<StoredVersion | undefined> {
    return this.visible(await this.inner.read(type, id));
  }

  async vread(type: string, id: string, versionId: number): Promise<StoredVersion | undefined> {
    return this.visible(await this.inner.vread(type, id, versionId));
  }

  async search(query: SearchQuery): Promise<SearchPage> {
    const reach = await this.guard.reach();
    if (reach.kind === 'all') return this.inner.search(query);
    const where = confine(this.params, reach, query.where);
    const limit = restriction(this.params, reach, query.types);
    const page = await this.inner.search({ ...query, where: limit ? [...where, limit] : where });
    // The store applied the same rules; deciding again costs little and reports each record's basis.
    return { ...page, versions: await this.filter(page.versions) };
  }

  /**
   * identity.ts has the rule: a national identity is matched past the caller's view, and a match
   * it may not see is named, never shown; any other criteria match within its view.
   */
  async createMatch(query: SearchQuery): Promise<CreateMatch> {
    const reach = await this.guard.reach();
    if (reach.kind === 'all' || !namesNationalIdentity(this.params, query)) return findMatch(this, query);
    const found = await findMatch(this.inner, query);
    if (found.kind !== 'one') return found;
    const shown = await this.visible(found.match);
    return shown ? { kind: 'one', match: shown } : { kind: 'withheld', match: { type: found.match.type, id: found.match.id } };
  }

  /** Everything stored under one document identifier, each with whether the caller may see it (identity.ts). */
  async identifiedDocuments(query: SearchQuery): Promise<Sighting[]> {
    if (!namesDocument(this.params, query)) throw new FhirError('exception', 'a document is looked up by its Bundle.identifier alone');
    const out: Sighting[] = [];
    for (const version of (await this.inner.search(query)).versions) out.push({ version, visible: (await this.visible(version)) !== undefined });
    return out;
  }

  async referencedBy(sources: ResourceKey[], keys: string[], targetType?: string): Promise<LiveVersion[]> {
    return this.filter(await this.inner.referencedBy(sources, keys, targetType));
  }

  async referencing(targets: ResourceKey[], keys: string[]): Promise<LiveVersion[]> {
    return this.filter(await this.inner.referencing(targets, keys));
  }
}

class GuardedUnitOfWork extends GuardedReader implements UnitOfWork {
  constructor(private readonly uow: UnitOfWork, guard: Guard, params: SearchParameters) {
    super(uow, guard, params);
  }

  private async mayWrite(resource: Resource): Promise<void> {
    refuseAppendOnly(resource.resourceType);
    const reach = await this.guard.reach();
    if (reach.kind === 'all') return;
    const decision = mayWrite(reach, this.guard.facts(resource));
    if (!decision.permit) throw new FhirError('forbidden', `Not allowed: ${decision.reason}`);
  }

  /** A live record the caller cannot see may not be changed (nor, by update, silently replaced). */
  private async mayChange(type: string, id: string): Promise<boolean> {
    const current = await this.uow.read(type, id);
    if (!current || current.deleted) return true;
    return (await this.visible(current)) !== undefined;
  }

  async create(resource: Resource, options?: CreateOptions): Promise<LiveVersion> {
    await this.mayWrite(resource);
    return this.uow.create(stampWriter(resource, this.guard.writer), options);
  }

  async update(resource: Resource & { id: string }, options?: WriteOptions): Promise<{ version: LiveVersion; created: boolean }> {
    await this.mayWrite(resource);
    if (!(await this.mayChange(resource.resourceType, resource.id))) throw new FhirError('forbidden', `Not allowed to change ${resource.resourceType}/${resource.id}`);
    return this.uow.update(stampWriter(resource, this.guard.writer), options);
  }

  async delete(type: string, id: string, options?: WriteOptions): Promise<StoredVersion | undefined> {
    refuseAppendOnly(type);
    // Deleting what the caller cannot see deletes nothing, exactly as for an absent record.
    if (!(await this.mayChange(type, id))) return undefined;
    const current = await this.uow.read(type, id);
    if (current?.resource) await this.mayWrite(current.resource);
    return this.uow.delete(type, id, options);
  }
}

export class GuardedStore extends GuardedReader implements ResourceStore {
  constructor(private readonly store: ResourceStore, guard: Guard, params: SearchParameters) {
    super(store, guard, params);
  }

  transact<T>(work: (uow: UnitOfWork) => Promise<T>): Promise<T> {
    return this.store.transact((uow) => work(new GuardedUnitOfWork(uow, this.guard, this.params)));
  }

  /**
   * History for a restricted caller (http.html#history, search.html#paging): the store's pages are
   * read on until this page is full or history ends, so a page is never empty while a `next`
   * link follows it; the cursor resumes right after the last version kept.
   */
  async history(query: HistoryQuery): Promise<HistoryPage> {
    const reach = await this.guard.reach();
    const whole = reach.kind === 'all' || query.count === 0;
    const kept: HistoryPage = { versions: [], cursors: [] };
    let cursor = query.cursor;
    let keptBytes = 0;
    for (;;) {
      const page = await this.store.history(whole ? query : { ...query, cursor, count: Math.max(query.count, HISTORY_BATCH) });
      for (let i = 0; i < page.versions.length; i++) {
        if (!(await this.visible(page.versions[i]))) continue;
        const size = page.versions[i].json?.length ?? 0;
        // The page's byte budget holds across the store's pages too: full, resume at this version.
        if (!whole && query.maxBytes !== undefined && kept.versions.length > 0 && keptBytes + size > query.maxBytes) {
          return { ...kept, nextCursor: kept.cursors[kept.cursors.length - 1] };
        }
        keptBytes += size;
        kept.versions.push(page.versions[i]);
        kept.cursors.push(page.cursors[i]);
        const last = i === page.versions.length - 1;
        // Full: resume right after the last version kept.
        if (!whole && kept.versions.length === query.count && (!last || page.nextCursor)) return { ...kept, nextCursor: page.cursors[i] };
      }
      if (whole || !page.nextCursor) return { ...kept, nextCursor: whole ? page.nextCursor : undefined };
      cursor = page.nextCursor;
    }
  }

  generation(type: string): Promise<string> {
    return this.store.generation(type);
  }

  ping(): Promise<boolean> {
    return this.store.ping();
  }

  close(): Promise<void> {
    return this.store.close();
  }
}
