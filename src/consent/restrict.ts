import type { SearchParameters } from '../search/parameters';
import type { Condition, Ranged } from '../search/query';
import { compartmentParams } from './compartment';
import { coveredCompositionTypes, coversType, isPatientData, usableConsents, type ConsentTerms, type Reach } from './decide';
import { SNOMED } from './facts';
import { CARE_DATE, UNCOMPARTMENTED_PATIENT_DATA } from './tables';
import { WRITER_SYSTEM } from './writer';

/**
 * decide() as search conditions, so the store returns, pages and counts only what the principal
 * may see (a post-filter would leak through Bundle.total and page sizes). Each branch uses the
 * type's own parameter keys (`Observation.subject`), which only that type's rows carry.
 * Undefined: no restriction.
 */
export function restriction(search: SearchParameters, reach: Reach, types: readonly string[]): Condition | undefined {
  if (reach.kind === 'all') return undefined;
  const open: string[] = [];
  const branches: Condition[] = [];
  for (const type of types) {
    if (!isPatientData(type) || reach.kind === 'break-glass') { open.push(type); continue; }
    if (reach.kind === 'consents' && reach.self !== undefined) {
      branches.push({ kind: 'token', key: key(search, type, '_tag'), values: [{ system: WRITER_SYSTEM, code: reach.self }] });
    }
    if (UNCOMPARTMENTED_PATIENT_DATA.has(type)) continue;
    if (reach.kind === 'patient') { branches.push(inCompartment(search, type, [reach.patient])); continue; }
    if (type === 'Consent') {
      const held = reach.consents.filter((c) => c.status === 'active').map((c) => c.id);
      if (held.length > 0) branches.push({ kind: 'and', all: [{ kind: 'type', types: ['Consent'] }, { kind: 'id', values: held }] });
      continue;
    }
    // Consents alike but for their patient (the usual case: one per patient, same terms) share one
    // branch over all their patients: the same records, a far smaller query.
    const alike = new Map<string, ConsentTerms & { all: Set<string> }>();
    for (const consent of usableConsents(reach)) {
      if (consent.patients.length === 0 || !coversType(reach.coverage, consent, type)) continue;
      const terms = `${consent.dataFromMs}|${consent.dataToMs}|${type === 'Composition' ? coveredCompositionTypes(reach.coverage, consent).sort().join(',') : ''}`;
      const group = alike.get(terms);
      if (group) for (const p of consent.patients) group.all.add(p);
      else alike.set(terms, { ...consent, all: new Set(consent.patients) });
    }
    for (const group of alike.values()) {
      const all = [inCompartment(search, type, [...group.all]), ...dataRange(search, type, group), ...documentTypes(search, type, coveredCompositionTypes(reach.coverage, group))];
      branches.push({ kind: 'and', all });
    }
  }
  if (open.length === types.length) return undefined;
  const any: Condition[] = open.length > 0 ? [{ kind: 'type', types: open }, ...branches] : branches;
  if (any.length === 0) return { kind: 'type', types: [] };
  return any.length === 1 ? any[0] : { kind: 'or', any };
}

/**
 * The conditions with every chain's targets and every `_has` source confined too: otherwise
 * `subject:Patient.name=…` or `_has:Observation:…` would probe records the principal cannot see.
 */
export function confine(search: SearchParameters, reach: Reach, conditions: Condition[]): Condition[] {
  if (reach.kind === 'all') return conditions;
  const one = (c: Condition): Condition => {
    switch (c.kind) {
      case 'chain': return { ...c, where: withRestriction(one(c.where), restriction(search, reach, c.targetTypes)) };
      case 'has': return { ...c, where: withRestriction(one(c.where), restriction(search, reach, [c.type])) };
      case 'or': return { kind: 'or', any: c.any.map(one) };
      case 'and': return { kind: 'and', all: c.all.map(one) };
      default: return c;
    }
  };
  return conditions.map(one);
}

const withRestriction = (c: Condition, r: Condition | undefined): Condition => (r ? { kind: 'and', all: [c, r] } : c);

function key(search: SearchParameters, type: string, code: string): string {
  const def = search.get(type, code);
  if (!def) throw new Error(`search parameter ${type}.${code} is not defined`);
  return def.key;
}

/** In the compartment of one of `patients` (R4 Patient CompartmentDefinition). */
export function inCompartment(search: SearchParameters, type: string, patients: string[]): Condition {
  const refs = patients.map((id) => ({ type: 'Patient', id }));
  const any: Condition[] = compartmentParams(type).map((code) => ({ kind: 'reference', key: key(search, type, code), values: refs }));
  if (type === 'Patient') any.push({ kind: 'and', all: [{ kind: 'type', types: ['Patient'] }, { kind: 'id', values: patients }] });
  return any.length === 1 ? any[0] : { kind: 'or', any };
}

const at = (prefix: 'gt' | 'lt', ms: number): Ranged => ({ prefix, lo: ms, hi: ms, value: ms });

function dataRange(search: SearchParameters, type: string, consent: ConsentTerms): Condition[] {
  const code = CARE_DATE[type];
  if (code === undefined || type === 'Patient') return [];
  const k = key(search, type, code);
  // gt compares the value's end, lt its start (search.html#prefix): the same test as decide's inDataRange.
  return [{ kind: 'date', key: k, values: [at('gt', consent.dataFromMs)] }, { kind: 'date', key: k, values: [at('lt', consent.dataToMs)] }];
}

function documentTypes(search: SearchParameters, type: string, codes: string[]): Condition[] {
  if (type !== 'Composition') return [];
  return [{ kind: 'token', key: key(search, 'Composition', 'type'), values: codes.map((code) => ({ system: SNOMED, code })) }];
}
