import { FhirError } from '../fhir/errors';
import { parseSearch } from '../search/parse';
import type { SearchParameters } from '../search/parameters';
import type { SearchQuery } from '../search/query';
import { resolveValueSets } from '../search/valuesets';
import type { LiveVersion, ResourceKey, StoreReader } from './store';

/**
 * Conditional create/update/delete/patch (http.html#ccreate, #cond-update, #cdelete), written
 * once over the store contract and decided by real search. Criteria are parsed strictly: an
 * unknown parameter is refused, because ignoring a criterion could change or delete the wrong record.
 */
export function conditionalQuery(params: SearchParameters, type: string, query: URLSearchParams, base: string): SearchQuery {
  const criteria = new URLSearchParams([...query].filter(([name]) => name !== '_format' && name !== '_pretty'));
  const parsed = parseSearch(params, [type], criteria, { strict: true, defaultCount: 2, maxCount: 2, base });
  if (parsed.query.where.length === 0) {
    throw new FhirError('invalid', 'A conditional request needs search criteria, e.g. identifier=system|value');
  }
  return { ...parsed.query, count: 2, offset: 0, total: 'none', sort: [] };
}

/** `If-None-Exist` carries a query string, optionally written as `Type?query` or `?query`. */
export function queryFromHeader(header: string, type: string): URLSearchParams {
  let query = header.trim();
  if (query.startsWith(`${type}?`)) query = query.slice(type.length + 1);
  else if (query.startsWith('?')) query = query.slice(1);
  return new URLSearchParams(query);
}

export type MatchOutcome = { kind: 'none' } | { kind: 'one'; match: LiveVersion } | { kind: 'many' };

/**
 * A match that identifies a record the caller may not see (consent/identity.ts): the record is
 * named by type and id, never shown, and nothing is created beside it.
 */
export type CreateMatch = MatchOutcome | { kind: 'withheld'; match: ResourceKey };

export async function findMatch(reader: StoreReader, query: SearchQuery): Promise<MatchOutcome> {
  const page = await reader.search({ ...query, where: await resolveValueSets(reader, query.where) });
  if (page.versions.length === 0) return { kind: 'none' };
  if (page.versions.length === 1 && !page.hasMore) return { kind: 'one', match: page.versions[0] };
  return { kind: 'many' };
}

export function tooManyMatches(type: string, what: string): FhirError {
  return new FhirError('duplicate', `${what}: more than one ${type} matches the criteria; make them more selective`, { status: 412 });
}
