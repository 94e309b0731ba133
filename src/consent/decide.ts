import { inPatientCompartment } from './compartment';
import { CARE_DATE, UNCOMPARTMENTED_PATIENT_DATA, type Coverage, type HiType, type Purpose } from './tables';

/**
 * Who may see what: the whole rule set, pure. A reviewer reads it here and in tables.ts, and what
 * each health-information type covers in coverage.ts (derived from the record profiles at start-up).
 *
 * - Unrestricted principals (system integrations, administrators, the loopback developer) see all.
 * - Data that is about no patient (Practitioner, Organization, Medication, terminology …) is
 *   visible to every authenticated principal whose scopes allow the type.
 * - Patient data outside the R4 Patient compartment (stored document Bundles, Binary) has no
 *   owner a rule could name: only unrestricted principals see it.
 * - A patient sees their own compartment, and nothing of anyone else's.
 * - A practitioner or organisation sees a patient's data only through a consent that is active
 *   now, names them, serves the purpose of the request, covers the record's type (its
 *   health-information types) and whose data range holds the record's date of care; and they
 *   see the active consents that name them, and every record they wrote themselves.
 * - Break-the-glass (purpose BTG, where the deployment allows it) sees all patient data and is
 *   flagged in the audit trail.
 * Search applies the same rules inside the query (restrict.ts), so totals and pages never count
 * what cannot be seen; the randomised test checks both against an independent oracle.
 */

/** A consent as the decision needs it, parsed from a Consent resource (terms.ts). */
export interface ConsentTerms {
  /** The Consent resource's id. */
  id: string;
  status: string;
  /** Ids of the Patient resources it is about. */
  patients: string[];
  purposes: Purpose[];
  hiTypes: HiType[];
  /** The records covered, by date of care: [fromMs, toMs), toMs exclusive. */
  dataFromMs: number;
  dataToMs: number;
  /** When the consent may be used: [validFromMs, validToMs). */
  validFromMs: number;
  validToMs: number;
}

export type Reach =
  | { kind: 'all' }
  | { kind: 'patient'; patient: string }
  /**
   * `self`: the principal's own reference (`Organization/…`), for the records they wrote;
   * `coverage`: what each health-information type covers (derived at start-up, coverage.ts).
   */
  | { kind: 'consents'; purpose: Purpose; consents: ConsentTerms[]; nowMs: number; self?: string; coverage: Coverage }
  | { kind: 'break-glass'; reason: string };

/** What the decision looks at in a resource (facts.ts reads it from the resource's index rows). */
export interface Facts {
  type: string;
  id: string;
  /** Ids of the patients whose compartment holds the resource. */
  patients: string[];
  /** Values of the type's date of care, each a range [lo, hi). */
  careDates: { lo: number; hi: number }[];
  /** SNOMED CT codes of a Composition's type. */
  compositionTypes: string[];
  /** Who wrote the current version, when a practitioner or organisation did (writer.ts). */
  writers?: string[];
}

export type Basis = 'unrestricted' | 'not-patient-data' | 'own-record' | 'own-writes' | 'consent' | 'break-glass' | 'scopes';
export type Decision = { permit: true; basis: Basis; consent?: string } | { permit: false; reason: string };

/** Whether a type holds data about patients (and so needs more than a scope to be seen). */
export function isPatientData(type: string): boolean {
  return inPatientCompartment(type) || UNCOMPARTMENTED_PATIENT_DATA.has(type);
}

/** Consents that may be used by this request at all, whatever the record. */
export function usableConsents(reach: Extract<Reach, { kind: 'consents' }>): ConsentTerms[] {
  return reach.consents.filter((c) => c.status === 'active' && c.purposes.includes(reach.purpose)
    && c.validFromMs <= reach.nowMs && reach.nowMs < c.validToMs);
}

/** The Composition type codes a consent's HI types cover. */
export function coveredCompositionTypes(coverage: Coverage, consent: ConsentTerms): string[] {
  return [...new Set(consent.hiTypes.flatMap((t) => coverage[t].compositions))];
}

/** Whether a consent's HI types cover resources of `type` (Composition: some of its document types). */
export function coversType(coverage: Coverage, consent: ConsentTerms, type: string): boolean {
  if (type === 'Patient') return true;
  if (type === 'Composition') return coveredCompositionTypes(coverage, consent).length > 0;
  return consent.hiTypes.some((t) => coverage[t].types.includes(type));
}

/**
 * Whether a record's date of care lies in the consent's data range: some value ends after the
 * range starts, and some value starts before it ends (for the usual single date, an overlap).
 */
function inDataRange(consent: ConsentTerms, facts: Facts): boolean {
  if (CARE_DATE[facts.type] === undefined) return true;
  return facts.careDates.some((d) => d.hi > consent.dataFromMs) && facts.careDates.some((d) => d.lo < consent.dataToMs);
}

function consentAllows(coverage: Coverage, consent: ConsentTerms, facts: Facts): boolean {
  if (!facts.patients.some((p) => consent.patients.includes(p))) return false;
  if (!coversType(coverage, consent, facts.type)) return false;
  if (facts.type === 'Composition' && !facts.compositionTypes.some((c) => coveredCompositionTypes(coverage, consent).includes(c))) return false;
  return facts.type === 'Patient' || inDataRange(consent, facts);
}

/** May the principal with this reach see this resource? */
export function decide(reach: Reach, facts: Facts): Decision {
  if (reach.kind === 'all') return { permit: true, basis: 'unrestricted' };
  if (!isPatientData(facts.type)) return { permit: true, basis: 'not-patient-data' };
  if (reach.kind === 'break-glass') return { permit: true, basis: 'break-glass' };
  // What a facility or doctor wrote themselves is data they already hold.
  if (reach.kind === 'consents' && reach.self !== undefined && (facts.writers ?? []).includes(reach.self)) return { permit: true, basis: 'own-writes' };
  if (UNCOMPARTMENTED_PATIENT_DATA.has(facts.type)) return { permit: false, reason: `${facts.type} is readable with unrestricted access only` };
  switch (reach.kind) {
    case 'patient':
      return facts.patients.includes(reach.patient)
        ? { permit: true, basis: 'own-record' }
        : { permit: false, reason: 'not in the patient\'s own compartment' };
    case 'consents': {
      // The holder of a consent may read the consent itself (whatever the request's purpose).
      if (facts.type === 'Consent') {
        return reach.consents.some((c) => c.id === facts.id && c.status === 'active')
          ? { permit: true, basis: 'consent', consent: facts.id } : { permit: false, reason: 'not a consent they hold' };
      }
      const consent = usableConsents(reach).find((c) => consentAllows(reach.coverage, c, facts));
      return consent ? { permit: true, basis: 'consent', consent: consent.id } : { permit: false, reason: 'no active consent covers it' };
    }
    default: {
      const never: never = reach;
      return never;
    }
  }
}

/** Writes: a patient writes only into their own compartment; others as their scopes allow. */
export function mayWrite(reach: Reach, facts: Facts): Decision {
  if (reach.kind !== 'patient') return { permit: true, basis: reach.kind === 'all' ? 'unrestricted' : 'scopes' };
  return facts.patients.includes(reach.patient)
    ? { permit: true, basis: 'own-record' }
    : { permit: false, reason: 'a patient may only write records in their own compartment' };
}
