/**
 * The tables consent decisions are made from. Reviewers read the rules in decide.ts and the data
 * they stand on here; what a health-information type covers is derived from the record profiles
 * named here (coverage.ts), once at start-up.
 */

/** ABDM purposes of use (HL7 v3 PurposeOfUse codes; ABDM consent manager, consent.md). */
export const PURPOSES = ['CAREMGT', 'BTG', 'PUBHLTH', 'HPAYMT', 'DSRCH', 'PATRQT'] as const;
export type Purpose = (typeof PURPOSES)[number];

export const isPurpose = (code: string): code is Purpose => (PURPOSES as readonly string[]).includes(code);

/** The purpose a request is taken to serve when it names none: treatment of the patient. */
export const DEFAULT_PURPOSE: Purpose = 'CAREMGT';

export const HI_TYPES = [
  'OPConsultation', 'Prescription', 'DischargeSummary', 'DiagnosticReport', 'ImmunizationRecord', 'HealthDocumentRecord', 'WellnessRecord',
] as const;
export type HiType = (typeof HI_TYPES)[number];

const NRCES = 'https://nrces.in/ndhm/fhir/r4/StructureDefinition/';

/**
 * The NRCeS record (Composition) profile each ABDM health-information type names: a consent for
 * the type is a consent for the records written to that profile. What each type covers is derived
 * from these profiles as loaded (coverage.ts): the official ones when the IG is loaded with --ig,
 * else the stand-ins under profiles/ that comply with them.
 */
export const HI_TYPE_RECORDS: Record<HiType, string> = {
  OPConsultation: `${NRCES}OPConsultRecord`,
  Prescription: `${NRCES}PrescriptionRecord`,
  DischargeSummary: `${NRCES}DischargeSummaryRecord`,
  DiagnosticReport: `${NRCES}DiagnosticReportRecord`,
  ImmunizationRecord: `${NRCES}ImmunizationRecord`,
  HealthDocumentRecord: `${NRCES}HealthDocumentRecord`,
  WellnessRecord: `${NRCES}WellnessRecord`,
};

/** What one health-information type lets a consent holder see (derived at start-up, coverage.ts). */
export interface HiTypeCover {
  /** Resource types covered (besides Patient, which every type covers). */
  types: readonly string[];
  /** SNOMED CT codes of the Composition types covered: the record documents themselves. */
  compositions: readonly string[];
}

export type Coverage = Readonly<Record<HiType, HiTypeCover>>;

/**
 * The date of care of each covered type: the search parameter (R4) whose value must fall in a
 * consent's data range (ABDM permission.dateRange: "which records, by care date"). A record
 * without that date lies in no range. Patient has no date of care and is never range-limited.
 * Every type an HI type covers needs one: derivation refuses a table that has a type without.
 */
export const CARE_DATE: Record<string, string> = {
  Composition: 'date', Encounter: 'date', Condition: 'recorded-date', Observation: 'date', AllergyIntolerance: 'date',
  FamilyMemberHistory: 'date', Procedure: 'date', ServiceRequest: 'authored', MedicationStatement: 'effective',
  MedicationRequest: 'authoredon', Appointment: 'date', DocumentReference: 'date', DiagnosticReport: 'date', CarePlan: 'date',
  Specimen: 'collected', ImagingStudy: 'started', Media: 'created', Immunization: 'date', ImmunizationRecommendation: 'date',
  NutritionOrder: 'datetime', CommunicationRequest: 'authored', DeviceRequest: 'authored-on', RequestGroup: 'authored',
  VisionPrescription: 'datewritten',
};

/**
 * Types that hold patient data but are outside the R4 Patient compartment, so no compartment
 * rule can tell whose they are: only principals with unrestricted access read them. A stored
 * document Bundle is readable entry by entry (its Composition and resources are stored too).
 */
export const UNCOMPARTMENTED_PATIENT_DATA: ReadonlySet<string> = new Set(['Bundle', 'Binary', 'Linkage']);
