import type { SearchParameters } from '../search/parameters';
import type { SearchQuery, TokenValue } from '../search/query';
import { findMatch, type CreateMatch } from '../storage/conditional';
import type { LiveVersion, StoreReader } from '../storage/store';
import { nationalIdKind, type NationalIdKind } from '../validation/national-identifiers';

/**
 * Identity matching for callers whose view consent restricts (facilities, doctors, patients).
 *
 * A conditional create (http.html#ccreate) exists to avoid creating a record twice, and it
 * decides by search. Searched within the caller's view, a record someone else wrote (which the
 * caller may not see) looks absent, so the create makes a second copy of the same person; every
 * later conditional create on that identity then meets two matches and fails with 412. Searched
 * over the whole store with any criteria, the answer would tell the caller whether records it
 * may not see exist (`name=…&birthdate=…` as a probe). The rule between the two:
 *
 * - Criteria that name exactly one national identity (nothing else: one `identifier` value with a
 *   system, of the kind the type carries: ABHA number or ABHA address for a Patient, HPR id for a
 *   Practitioner, HFR id for an Organization) are matched over the whole store. The identity is
 *   national: a person has one ABHA number wherever they are treated, and the caller already
 *   holds it. One match the caller may see is answered as usual. One match it may not see is
 *   `withheld`: the answer names it (type and id, so the caller's records can refer to it) and
 *   shows nothing of it, not its content, version or time; nothing is created. Several matches
 *   are a 412, as the spec says.
 * - Any other criteria are matched within the caller's view alone, as every search is. A record
 *   the caller cannot see then does not exist for it, so the answer depends only on what it may
 *   see and probes nothing. The caller always sees what it wrote, so its own retries never
 *   duplicate its own records; a record of the same person written elsewhere is joined by the
 *   national identity, which is why a Patient's conditional create should name it.
 * - A document is identified by its `Bundle.identifier` (bundle.html#document, documents.html),
 *   whoever stored it: posted again it is answered by the stored one, withheld when the caller may
 *   not see it, and never stored twice. Other content under that identifier is a conflict that
 *   names neither the stored document nor anything in it. Only the document path looks this up
 *   (and compares content inside the server); a conditional create on a Bundle's identifier is
 *   like any other criteria.
 *
 * Conditional updates and conditional references follow the national identity rule too: else an
 * update would create the copy a create no longer makes, and a reference would fail where the
 * create found the record. (An update that matches a hidden record is then refused, as any change
 * to one is.)
 *
 * The rule is applied in GuardedReader (guarded-store.ts), the one place that sees past the
 * caller's view; the rest of the server asks through the functions below, which give the plain
 * search's answer for a store that is not restricted.
 */
const NATIONAL_IDENTITIES: Readonly<Record<string, readonly NationalIdKind[]>> = {
  Patient: ['abha-number', 'abha-address'],
  Practitioner: ['hpr-id'],
  Organization: ['hfr-id'],
};

/** The single `identifier=system|value` of a query on `type` that asks for that and nothing else. */
function soleIdentifier(params: SearchParameters, query: SearchQuery, type: string): TokenValue | undefined {
  if (query.types.length !== 1 || query.types[0] !== type || query.where.length !== 1) return undefined;
  const c = query.where[0];
  if (c.kind !== 'token' || c.not || c.values.length !== 1 || c.key !== params.get(type, 'identifier')?.key) return undefined;
  const value = c.values[0];
  return value.system && value.code ? value : undefined;
}

/** Whether the query names exactly one national identity of its type (matched over the whole store). */
export function namesNationalIdentity(params: SearchParameters, query: SearchQuery): boolean {
  const kinds = query.types.length === 1 ? NATIONAL_IDENTITIES[query.types[0]] : undefined;
  const value = kinds && soleIdentifier(params, query, query.types[0]);
  const kind = value ? nationalIdKind({ system: value.system, value: value.code }) : undefined;
  return kind !== undefined && (kinds ?? []).includes(kind);
}

/** Whether the query asks for Bundles by one `identifier=system|value` (a document's identity). */
export function namesDocument(params: SearchParameters, query: SearchQuery): boolean {
  return soleIdentifier(params, query, 'Bundle') !== undefined;
}

/** A stored resource and whether the caller may see it. */
export interface Sighting { version: LiveVersion; visible: boolean }

/** What a restricted store offers beyond search (GuardedReader). */
export interface IdentityLookup {
  /** Conditional create's match, by the rule above. */
  createMatch(query: SearchQuery): Promise<CreateMatch>;
  /** Every resource the document identity query (namesDocument) finds in the whole store, with whether the caller may see it. */
  identifiedDocuments(query: SearchQuery): Promise<Sighting[]>;
}

function restricted(reader: StoreReader): reader is StoreReader & IdentityLookup {
  return typeof (reader as Partial<IdentityLookup>).createMatch === 'function';
}

/** The match of a conditional create, a conditional update or a conditional reference. */
export function createMatch(reader: StoreReader, query: SearchQuery): Promise<CreateMatch> {
  return restricted(reader) ? reader.createMatch(query) : findMatch(reader, query);
}

/** Resources stored under a document's identifier, whoever stored them. */
export async function identifiedDocuments(reader: StoreReader, query: SearchQuery): Promise<Sighting[]> {
  if (restricted(reader)) return reader.identifiedDocuments(query);
  return (await reader.search(query)).versions.map((version) => ({ version, visible: true }));
}
