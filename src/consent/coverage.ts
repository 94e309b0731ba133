import type { ElementDefinition, ValueSet } from 'fhir/r4';
import { pathOfId } from '../validation/profiles/snapshot';
import { inPatientCompartment } from './compartment';
import { CARE_DATE, HI_TYPE_RECORDS, HI_TYPES, type Coverage, type HiType, type HiTypeCover } from './tables';

/**
 * What each ABDM health-information type lets a consent holder see, derived from the record
 * (Composition) profile it names (HI_TYPE_RECORDS) as loaded: the official NRCeS definition when
 * the IG is loaded with --ig, else our stand-in that complies with it. Pure: profiles in, table out;
 * computed once at start-up, so the table cannot drift from the profiles that validate the records.
 *
 * The rule. An HI type covers the resource types a record of its profile can carry:
 * 1. Section entries: every type `Composition.section.entry` may reference (its targetProfiles),
 *    over all sections, section slices, entry slices and nested sections. An entry the profile
 *    leaves open (Reference(Any), no targetProfile) names no type and adds none.
 * 2. The record's encounter, when the profile requires one (`Composition.encounter` min 1:
 *    OPConsultRecord, DischargeSummaryRecord): such a document is the account of that encounter.
 *    An optional encounter is context; covering it would let every HI type show every visit.
 * 3. Parts of the entries, one step: for each entry profile (as loaded, so a profile narrowing
 *    its targets narrows the coverage), the types allowed at the elements of RECORD_PARTS, which
 *    NRCeS's own document examples use to carry a report's results, specimens, images and order,
 *    a prescription's reason and a discharge care plan's follow-up. Not followed: who and where
 *    (subject, performer, requester, resultsInterpreter …), an entry's own encounter, and the
 *    parts of parts (a DiagnosticReport brings its results, not what its order was based on).
 * 4. Only record content: types in the R4 Patient compartment, less the people, workflow and
 *    finance types of NOT_RECORD_CONTENT. Binary (a PrescriptionRecord's scan) and Bundle lie
 *    outside the compartment and stay readable with unrestricted access only (decide.ts), so no
 *    HI type lists them. Patient is covered by every type (decide.ts); Composition by its codes:
 * 5. Composition types: the SNOMED CT codes the profile fixes for `Composition.type`; where it
 *    fixes none, the codes listed by the ValueSet it binds to `Composition.type` (its concepts and
 *    the roots of its is-a filters: descendants need SNOMED CT itself, so a document typed with
 *    one is refused, never leaked). WellnessRecord has neither, so its documents are covered by
 *    no consent (its entries are).
 */

/** What the derivation reads from the loaded profiles (the ProfileRegistry provides it). */
export interface LoadedProfiles {
  /** The definition a canonical URL resolves to (its own, or a stand-in), with its full element list. */
  profile(url: string): { url: string; type: string; elements: readonly ElementDefinition[] } | undefined;
  valueSet(url: string): ValueSet | undefined;
}

/** The elements of an entry that hold parts of the record (rule 3), and why each does. */
export const RECORD_PARTS: Readonly<Record<string, string>> = {
  'DiagnosticReport.result': 'the results the report states',
  'DiagnosticReport.specimen': 'the specimens they were found in',
  'DiagnosticReport.imagingStudy': 'the imaging study the report reads',
  'DiagnosticReport.media.link': 'the key images of the report',
  'DiagnosticReport.basedOn': 'the order the report answers',
  'MedicationRequest.reasonReference': 'why the medicine was prescribed',
  // R4's activity.outcomeReference (which the NRCeS example uses) is Reference(Any): it names no type.
  'CarePlan.activity.reference': 'the planned activities: follow-up appointments and orders',
};

/**
 * Patient-compartment types that are not clinical record content (rule 4): people and groups,
 * workflow and bookkeeping, finance, research and quality reporting. Composition is covered by
 * its codes instead (rule 5).
 */
export const NOT_RECORD_CONTENT: ReadonlySet<string> = new Set([
  'Patient', 'Person', 'RelatedPerson', 'Group', 'CareTeam',
  'Task', 'Provenance', 'AuditEvent', 'Consent', 'Basic', 'List', 'Schedule', 'AppointmentResponse', 'DocumentManifest', 'Composition',
  'Account', 'ChargeItem', 'Claim', 'ClaimResponse', 'Coverage', 'CoverageEligibilityRequest', 'CoverageEligibilityResponse',
  'EnrollmentRequest', 'ExplanationOfBenefit', 'Invoice', 'ResearchSubject', 'MeasureReport',
]);

/** The loaded profiles cannot say what an HI type covers: start-up stops (main.ts). */
export class CoverageError extends Error {}

const SNOMED = 'http://snomed.info/sct';
const CORE_COMPOSITION = 'http://hl7.org/fhir/StructureDefinition/Composition';
const ENTRY = /^Composition\.section(\.section)*\.entry$/;

type Profile = NonNullable<ReturnType<LoadedProfiles['profile']>>;

const pathOf = (e: ElementDefinition): string => pathOfId(e.id ?? e.path);
const at = (profile: Profile, path: string): ElementDefinition[] => profile.elements.filter((e) => pathOf(e) === path);
const targetsOf = (e: ElementDefinition): string[] => (e.type ?? []).filter((t) => t.code === 'Reference').flatMap((t) => t.targetProfile ?? []);
const isRecordContent = (type: string): boolean => inPatientCompartment(type) && !NOT_RECORD_CONTENT.has(type);

function resolve(profiles: LoadedProfiles, url: string, from: string): Profile {
  const profile = profiles.profile(url);
  if (!profile) throw new CoverageError(`${from} references profile ${url}, which is not loaded`);
  return profile;
}

/** The profiles a set of Reference elements may point at, each resolved once. */
function targets(profiles: LoadedProfiles, elements: ElementDefinition[], from: string): Profile[] {
  const urls = [...new Set(elements.flatMap(targetsOf).map((u) => u.split('|')[0]))];
  return urls.map((url) => resolve(profiles, url, from));
}

/** Rules 1-4 over one record profile. */
function coveredTypes(profiles: LoadedProfiles, record: Profile): string[] {
  const types = new Set<string>();
  const entries = targets(profiles, record.elements.filter((e) => ENTRY.test(pathOf(e))), record.url);
  for (const entry of entries) {
    types.add(entry.type);
    for (const part of Object.keys(RECORD_PARTS).filter((p) => p.startsWith(`${entry.type}.`))) {
      for (const t of targets(profiles, at(entry, part), entry.url)) types.add(t.type);
    }
  }
  const encounter = record.elements.find((e) => e.id === 'Composition.encounter');
  if ((encounter?.min ?? 0) >= 1) for (const t of targets(profiles, [encounter as ElementDefinition], record.url)) types.add(t.type);
  return [...types].filter(isRecordContent).sort();
}

/** The SNOMED CT codes fixed (or patterned) for Composition.type, in any of the three places a profile can fix them. */
function fixedCodes(record: Profile): string[] {
  const codes: string[] = [];
  const fromCodings = (codings: { system?: string; code?: string }[] | undefined) => {
    for (const c of codings ?? []) if (c.system === SNOMED && c.code) codes.push(c.code);
  };
  for (const e of at(record, 'Composition.type')) fromCodings((e.fixedCodeableConcept ?? e.patternCodeableConcept)?.coding);
  for (const e of at(record, 'Composition.type.coding')) fromCodings([e.fixedCoding ?? e.patternCoding ?? {}]);
  for (const e of at(record, 'Composition.type.coding.code')) {
    const code = e.fixedCode ?? e.patternCode;
    // The code's system is fixed on the sibling element of the same coding (slice).
    const coding = (e.id ?? '').replace(/\.code$/, '');
    const system = record.elements.find((s) => s.id === `${coding}.system`);
    if (code && (system?.fixedUri ?? system?.patternUri) === SNOMED) codes.push(code);
  }
  return codes;
}

/** The SNOMED CT codes a ValueSet lists: its concepts and the roots of its is-a and = filters. */
function listedCodes(profiles: LoadedProfiles, vs: ValueSet, depth = 0): string[] {
  const codes = new Set<string>();
  for (const inc of vs.compose?.include ?? []) {
    for (const nested of depth < 8 ? inc.valueSet ?? [] : []) {
      const inner = profiles.valueSet(nested);
      if (inner) for (const c of listedCodes(profiles, inner, depth + 1)) codes.add(c);
    }
    if (inc.system !== SNOMED) continue;
    for (const c of inc.concept ?? []) codes.add(c.code);
    for (const f of inc.filter ?? []) if (f.property === 'concept' && (f.op === 'is-a' || f.op === '=')) codes.add(f.value);
  }
  for (const exc of vs.compose?.exclude ?? []) if (exc.system === SNOMED) for (const c of exc.concept ?? []) codes.delete(c.code);
  return [...codes];
}

const typeBinding = (p: Profile | undefined) => p?.elements.find((e) => e.id === 'Composition.type')?.binding;

/**
 * Rule 5 over one record profile; a warning when the bound ValueSet is not loaded. Only a binding
 * the profile sets counts: R4's own (LOINC document types), which every profile inherits, says
 * nothing about this kind of record.
 */
function compositionCodes(profiles: LoadedProfiles, record: Profile): { codes: string[]; warning?: string } {
  const fixed = fixedCodes(record);
  if (fixed.length > 0) return { codes: [...new Set(fixed)].sort() };
  const binding = typeBinding(record);
  const inherited = typeBinding(profiles.profile(CORE_COMPOSITION))?.valueSet;
  if (!binding?.valueSet || binding.strength === 'example' || binding.valueSet === inherited) return { codes: [] };
  const vs = profiles.valueSet(binding.valueSet);
  if (!vs) return { codes: [], warning: `${record.url}: ValueSet ${binding.valueSet} (Composition.type) is not loaded, so no consent covers these documents themselves; load the IG's terminology too` };
  return { codes: listedCodes(profiles, vs).sort() };
}

/**
 * Covered types without a date of care (CARE_DATE): a consent's data range could not limit them,
 * so decide() would show them whatever their date. Derivation refuses such a table.
 */
export function undatedTypes(coverage: Coverage): string[] {
  return [...new Set(HI_TYPES.flatMap((h) => coverage[h].types))].filter((type) => CARE_DATE[type] === undefined).sort();
}

export interface Derived {
  coverage: Coverage;
  /** The profile each HI type was derived from (an official one or a stand-in), for the start-up log. */
  sources: Readonly<Record<HiType, string>>;
  warnings: string[];
}

/**
 * The coverage of every HI type. Throws CoverageError when a record or entry profile is not
 * loaded, or when a covered type has no date of care (add it to CARE_DATE).
 */
export function deriveCoverage(profiles: LoadedProfiles): Derived {
  const coverage = {} as Record<HiType, HiTypeCover>;
  const sources = {} as Record<HiType, string>;
  const warnings: string[] = [];
  for (const hiType of HI_TYPES) {
    const url = HI_TYPE_RECORDS[hiType];
    const record = profiles.profile(url);
    if (!record) throw new CoverageError(`the ${hiType} record profile ${url} is not loaded (neither the NRCeS definition nor a stand-in under profiles/)`);
    if (record.type !== 'Composition') throw new CoverageError(`the ${hiType} record profile ${url} resolves to ${record.url}, a ${record.type} profile, not a Composition one`);
    const { codes, warning } = compositionCodes(profiles, record);
    if (warning) warnings.push(warning);
    coverage[hiType] = { types: coveredTypes(profiles, record), compositions: codes };
    sources[hiType] = record.url;
  }
  const undated = undatedTypes(coverage);
  if (undated.length > 0) throw new CoverageError(`covered types without a date of care in CARE_DATE (tables.ts): ${undated.join(', ')}`);
  return { coverage, sources, warnings };
}
