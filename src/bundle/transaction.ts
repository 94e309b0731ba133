import type { Resource } from 'fhir/r4';
import type { Operation } from 'fast-json-patch';
import { authorizeSearch } from '../auth/access';
import type { Principal } from '../auth/verifier';
import type { Deps } from '../deps';
import { FhirError, type Issue } from '../fhir/errors';
import { operations, patchOne } from '../interactions/patch';
import type { FhirResult } from '../interactions/types';
import { createMatch } from '../consent/identity';
import { expectedVersion, matchedCriteria, matchedDocument, validResource, withWarnings } from '../interactions/write-support';
import { conditionalQuery, findMatch, queryFromHeader, tooManyMatches, type CreateMatch } from '../storage/conditional';
import type { SearchQuery } from '../search/query';
import type { StoreReader, UnitOfWork } from '../storage/store';
import { checkDocument, isDocument, refuseDocumentChange, storeDocumentEntries, storedDocument } from './document';
import { atEntry, entryPath, patchDocument, type EntryRequest } from './entries';
import { conditionalReferences, rewriteReferences } from './references';

/**
 * A transaction (bundle.html#transaction, http.html#trules): all entries succeed together or
 * nothing is kept. Work is done in the spec's order (DELETE, POST, PUT/PATCH, then GET) after
 * every entry's identity is settled, because entries point at each other by fullUrl before any
 * of them has an id.
 */

type Kind = 'delete' | 'create' | 'update' | 'patch' | 'read';

/** An entry after the checks that need no store: validated body, parsed criteria. */
interface Prepared {
  entry: EntryRequest;
  kind: Kind;
  type: string;
  id?: string;
  criteria?: SearchQuery;
  resource?: Resource;
  ops?: Operation[];
  expected?: number;
  /** Warnings from validating the entry's resource, returned in its response.outcome. */
  warnings?: Issue[];
}

/** Where each entry stands once identities are settled. */
interface Settled extends Prepared {
  /** The resource the entry writes (or, for a matched conditional create, already exists). */
  target?: { type: string; id: string };
  /** Conditional create that matched: nothing is written, the match is the answer (withheld: named, not shown). */
  existing?: Extract<CreateMatch, { kind: 'one' | 'withheld' }>;
  /** Conditional delete without a match: nothing to do. */
  nothing?: boolean;
}

const ORDER: Record<Kind, number> = { delete: 0, create: 1, update: 2, patch: 2, read: 3 };

function kindOf(entry: EntryRequest): Kind {
  switch (entry.method) {
    case 'DELETE': return 'delete';
    case 'POST': return 'create';
    case 'PUT': return 'update';
    case 'PATCH': return 'patch';
    default: return 'read';
  }
}

function guard<T>(entry: EntryRequest, work: () => T): T {
  try {
    return work();
  } catch (err) {
    throw err instanceof FhirError ? atEntry(err, entry.index, entry.method, entry.url) : err;
  }
}

async function guardAsync<T>(entry: EntryRequest, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw err instanceof FhirError ? atEntry(err, entry.index, entry.method, entry.url) : err;
  }
}

/** Everything checkable before the store is touched: a bad entry fails the transaction cheaply. */
export function prepare(deps: Deps, entry: EntryRequest, base: string, principal: Principal): Prepared {
  return guard(entry, () => {
    const kind = kindOf(entry);
    const { type, id } = entry.match.params;
    const p: Prepared = { entry, kind, type, id };
    if (kind === 'read') return p;
    if (entry.match.route.interaction.startsWith('conditional-')) p.criteria = conditionalQuery(deps.search, type, entry.query, base);
    if (kind === 'create' && entry.ifNoneExist !== undefined) {
      p.criteria = conditionalQuery(deps.search, type, queryFromHeader(entry.ifNoneExist, type), base);
    }
    if (p.criteria) authorizeSearch(principal, type, p.criteria.where);
    p.expected = expectedVersion(entry.ifMatch);
    if (kind === 'create' || kind === 'update') {
      p.warnings = [];
      p.resource = validResource(deps, entry.resource, { expectedType: type, expectedId: id, warnings: p.warnings });
      if (isDocument(p.resource)) {
        if (kind === 'update') throw new FhirError('not-supported', 'A document Bundle is stored with POST, not PUT', { status: 405 });
        checkDocument(p.resource);
      }
    } else if (kind === 'patch') {
      p.ops = operations(patchDocument(entry, deps.config.maxJsonDepth));
    }
    return p;
  });
}

async function settle(deps: Deps, uow: UnitOfWork, p: Prepared): Promise<Settled> {
  const s: Settled = { ...p };
  if (p.kind === 'read') return s;
  if (p.criteria) {
    // Creates and updates follow the identity rule (consent/identity.ts), so neither makes a second
    // copy of a national identity the caller cannot see; deletes and patches match within its view.
    const found = p.kind === 'create' || p.kind === 'update' ? await createMatch(uow, p.criteria) : await findMatch(uow, p.criteria);
    if (found.kind === 'many') throw tooManyMatches(p.type, `Conditional ${p.entry.method}`);
    if (found.kind === 'one' || found.kind === 'withheld') {
      if (p.kind === 'create') s.existing = found;
      else s.target = { type: p.type, id: found.match.id };
      if (p.kind === 'update' && p.resource?.id !== undefined && p.resource.id !== found.match.id) {
        throw new FhirError('invalid', `The body's id '${p.resource.id}' differs from the matching ${p.type}/${found.match.id}`,
          { expression: [`${p.type}.id`] });
      }
      return s;
    }
    if (p.kind === 'delete') { s.nothing = true; return s; }
    if (p.kind === 'patch') throw new FhirError('not-found', `No ${p.type} matches the criteria`);
    if (p.kind === 'update') {
      s.target = { type: p.type, id: p.resource?.id ?? deps.ids.newId() };
      return s;
    }
  }
  s.target = { type: p.type, id: p.kind === 'create' ? deps.ids.newId() : (p.id as string) };
  return s;
}

/** Conditional references resolve by search against the state before this transaction. */
async function resolveConditional(reader: StoreReader, deps: Deps, reference: string, base: string, principal: Principal): Promise<string> {
  const q = reference.indexOf('?');
  const type = reference.slice(0, q);
  const criteria = conditionalQuery(deps.search, type, new URLSearchParams(reference.slice(q + 1)), base);
  authorizeSearch(principal, type, criteria.where);
  // By the identity rule (consent/identity.ts): a national identity names its record even when the caller cannot see it.
  const found = await createMatch(reader, criteria);
  if (found.kind === 'one' || found.kind === 'withheld') return `${type}/${found.match.id}`;
  throw new FhirError(found.kind === 'many' ? 'duplicate' : 'not-found',
    `The conditional reference '${reference.slice(0, 200)}' matches ${found.kind === 'many' ? 'more than one' : 'no'} ${type}`,
    { status: 412 });
}

/** Resolves every conditional reference in the given resources; errors name the entry holding it. */
export async function conditionalTargets(
  reader: StoreReader, deps: Deps, base: string, holders: { entry: EntryRequest; resource?: Resource }[], into: Map<string, string>, principal: Principal,
): Promise<void> {
  for (const h of holders) {
    if (!h.resource) continue;
    for (const reference of conditionalReferences(h.resource)) {
      if (into.has(reference)) continue;
      into.set(reference, await guardAsync(h.entry, () => resolveConditional(reader, deps, reference, base, principal)));
    }
  }
}

function rewrite(p: Settled, targets: Map<string, string>): void {
  // A document's references are its own, resolved inside it; it is stored exactly as signed.
  if (!p.resource || isDocument(p.resource)) return;
  guard(p.entry, () => rewriteReferences(p.resource, `${entryPath(p.entry.index)}.resource`, targets));
}

async function write(deps: Deps, uow: UnitOfWork, s: Settled, base: string): Promise<FhirResult> {
  return withWarnings(await written(deps, uow, s, base), s.warnings ?? []);
}

async function written(deps: Deps, uow: UnitOfWork, s: Settled, base: string): Promise<FhirResult> {
  const what = s.target ? `${s.target.type}/${s.target.id}` : s.type;
  switch (s.kind) {
    case 'delete': {
      const tombstone = s.nothing || !s.target ? undefined : await uow.delete(s.target.type, s.target.id, { expectedVersion: s.expected });
      return { status: 204, version: tombstone, message: tombstone ? `Deleted ${what}` : `${what}: nothing to delete` };
    }
    case 'create': {
      if (s.existing) return matchedCriteria(s.existing);
      const stored = isDocument(s.resource) ? await storedDocument(deps, uow, s.resource, base) : undefined;
      if (stored && stored.kind !== 'none') return matchedDocument(stored);
      const version = await uow.create(s.resource as Resource, { id: s.target?.id, method: 'POST' });
      if (isDocument(s.resource)) await storeDocumentEntries(deps, uow, version, base);
      return { status: 201, version, location: true, message: `Created ${what}` };
    }
    case 'update': {
      const resource = { ...(s.resource as Resource), id: s.target?.id as string };
      await refuseDocumentChange(uow, resource.resourceType, resource.id);
      if (s.entry.ifNoneMatch !== undefined) {
        const current = await uow.read(resource.resourceType, resource.id);
        if (s.entry.ifNoneMatch.trim() === '*' && current && !current.deleted) {
          throw new FhirError('duplicate', `${what} already exists (ifNoneMatch: *)`, { status: 412 });
        }
      }
      const { version, created } = await uow.update(resource, { expectedVersion: s.expected });
      return { status: created ? 201 : 200, version, location: true, message: created ? `Created ${what}` : `Updated ${what}` };
    }
    case 'patch':
      return patchOne(deps, uow, s.type, s.target?.id as string, s.ops as Operation[], s.entry.ifMatch);
    default:
      throw new FhirError('exception', 'reads are not written');
  }
}

/**
 * Runs the writes of a transaction inside `uow`, returning each write's result by entry index.
 * GET entries are left to the caller, which answers them once the writes are committed.
 */
export async function runTransaction(
  deps: Deps, uow: UnitOfWork, prepared: Prepared[], base: string, principal: Principal,
): Promise<Map<number, FhirResult>> {
  const settled: Settled[] = [];
  for (const p of prepared) settled.push(await guardAsync(p.entry, () => settle(deps, uow, p)));

  const written = new Map<string, Settled>();
  const targets = new Map<string, string>();
  for (const s of settled) {
    const identity = s.existing ? `${s.type}/${s.existing.match.id}` : s.target ? `${s.target.type}/${s.target.id}` : undefined;
    if (identity && s.target && !s.nothing) {
      const other = written.get(identity);
      if (other) {
        throw atEntry(new FhirError('duplicate', `${identity} is also written by ${entryPath(other.entry.index)}; a transaction may touch a resource once`),
          s.entry.index, s.entry.method, s.entry.url);
      }
      written.set(identity, s);
    }
    if (identity && s.entry.fullUrl) targets.set(s.entry.fullUrl, identity);
  }
  await conditionalTargets(uow, deps, base, settled, targets, principal);
  for (const s of settled) rewrite(s, targets);

  const results = new Map<number, FhirResult>();
  const order = settled.filter((s) => s.kind !== 'read').sort((a, b) => ORDER[a.kind] - ORDER[b.kind] || a.entry.index - b.entry.index);
  for (const s of order) results.set(s.entry.index, await guardAsync(s.entry, () => write(deps, uow, s, base)));
  return results;
}
