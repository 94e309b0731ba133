import type { Resource } from 'fhir/r4';
import type { IndexRows } from '../search/index-rows';
import type { SearchParameters } from '../search/parameters';
import { compartmentParams } from './compartment';
import type { Facts } from './decide';
import { CARE_DATE } from './tables';
import { WRITER_SYSTEM } from './writer';

export const SNOMED = 'http://snomed.info/sct';

const FACT_CODES = new Map<string, ReadonlySet<string>>();

/** The search parameters decide() reads for a type: compartment membership, date of care, document type. */
export function factCodes(type: string): ReadonlySet<string> {
  let codes = FACT_CODES.get(type);
  if (!codes) {
    codes = new Set([...compartmentParams(type), ...(CARE_DATE[type] ? [CARE_DATE[type]] : []), ...(type === 'Composition' ? ['type'] : []), '_tag']);
    FACT_CODES.set(type, codes);
  }
  return codes;
}

/**
 * What decide() looks at, read from the resource's own index rows: the very values search
 * matches on, so a read and a search can never disagree about whose a record is or its date.
 */
export function factsFrom(search: SearchParameters, resource: Resource, rows: IndexRows): Facts {
  const type = resource.resourceType;
  const id = resource.id ?? '';
  const compartmentKeys = new Set(compartmentParams(type).map((code) => search.get(type, code)?.key).filter((k) => k !== undefined));
  const patients = rows.reference.filter((r) => compartmentKeys.has(r.key) && r.type === 'Patient').map((r) => r.id);
  if (type === 'Patient') patients.push(id);
  const dateCode = CARE_DATE[type];
  const dateKey = dateCode === undefined ? undefined : search.get(type, dateCode)?.key;
  const careDates = dateKey === undefined ? [] : rows.date.filter((r) => r.key === dateKey).map((r) => ({ lo: r.lo, hi: r.hi }));
  const typeKey = type === 'Composition' ? search.get('Composition', 'type')?.key : undefined;
  const compositionTypes = typeKey === undefined ? [] : rows.token.filter((r) => r.key === typeKey && r.system === SNOMED).map((r) => r.code);
  const tagKey = search.get(type, '_tag')?.key;
  const writers = tagKey === undefined ? [] : rows.token.filter((r) => r.key === tagKey && r.system === WRITER_SYSTEM).map((r) => r.code);
  return { type, id, patients: [...new Set(patients)], careDates, compositionTypes, writers };
}
