import { strict as assert } from 'node:assert';
import fs from 'node:fs';
import path from 'node:path';
import type { Bundle, Composition, ElementDefinition } from 'fhir/r4';
import { CoverageError, deriveCoverage, undatedTypes, type LoadedProfiles } from '../../../src/consent/coverage';
import { CARE_DATE, HI_TYPE_RECORDS, HI_TYPES, type Coverage, type HiType } from '../../../src/consent/tables';
import { PROFILES_DIR } from '../../../src/main';
import { ProfileRegistry } from '../../../src/validation/profiles/registry';
import { EXAMPLES, IG } from '../validation/national-support';

/**
 * What each health-information type covers, derived from the record profiles (coverage.ts),
 * against a table written here by reading those profiles: the section entries' target types,
 * a required Composition.encounter, and one step into the parts the rule follows
 * (DiagnosticReport.result/specimen/imagingStudy/media.link/basedOn,
 * MedicationRequest.reasonReference, CarePlan.activity.reference), patient-compartment record
 * content only.
 */
const DR_PARTS = ['DiagnosticReport', 'Observation', 'Specimen', 'ImagingStudy', 'Media',
  // DiagnosticReport.basedOn: R4 and NRCeS allow five kinds of order.
  'CarePlan', 'ImmunizationRecommendation', 'MedicationRequest', 'NutritionOrder', 'ServiceRequest'];
const EXPECTED: Record<HiType, { types: string[]; compositions: string[] }> = {
  OPConsultation: {
    compositions: ['371530004'],
    types: ['AllergyIntolerance', 'Appointment', 'Condition', 'DocumentReference', 'Encounter', 'FamilyMemberHistory', 'MedicationRequest',
      'MedicationStatement', 'Observation', 'Procedure', 'ServiceRequest'],
  },
  // The Binary entry stays for unrestricted callers only; no DocumentReference section exists.
  Prescription: { compositions: ['440545006'], types: ['Condition', 'MedicationRequest', 'Observation'] },
  DischargeSummary: {
    compositions: ['373942005'],
    types: [...new Set(['AllergyIntolerance', 'CarePlan', 'Condition', 'DiagnosticReport', 'DocumentReference', 'Encounter', 'FamilyMemberHistory',
      'MedicationRequest', 'Observation', 'Procedure', ...DR_PARTS,
      // CarePlan.activity.reference, less Task (workflow, not record content)
      'Appointment', 'CommunicationRequest', 'DeviceRequest', 'RequestGroup', 'VisionPrescription'])].sort(),
  },
  DiagnosticReport: {
    // No fixed type: the codes ABDM's diagnostic-report-type ValueSet lists, and the roots of its is-a filters.
    compositions: ['371528001', '4201000179104', '4241000179101', '4271000179106', '4311000179106', '714335001', '714337009', '720449003',
      '721631001', '721981007', '722143004', '725870000', '770573007', '782659005'],
    types: [...DR_PARTS, 'DocumentReference'].sort(),
  },
  ImmunizationRecord: { compositions: ['41000179103'], types: ['DocumentReference', 'Immunization', 'ImmunizationRecommendation'] },
  HealthDocumentRecord: { compositions: ['419891008'], types: ['DocumentReference'] },
  // OtherObservations allows Condition; the Composition has a text type only.
  WellnessRecord: { compositions: [], types: ['Condition', 'DocumentReference', 'Observation'] },
};

const loaded = (registry: ProfileRegistry): LoadedProfiles => ({ profile: (url) => registry.profile(url), valueSet: (url) => registry.terminology.valueSet(url) });
const plain = (c: Coverage) => Object.fromEntries(HI_TYPES.map((h) => [h, { types: [...c[h].types], compositions: [...c[h].compositions] }]));

describe('consent: what each health-information type covers, derived from the record profiles', () => {
  let registry: ProfileRegistry;
  before(function () {
    this.timeout(30_000);
    registry = new ProfileRegistry([PROFILES_DIR]);
  });

  it('over the shipped profiles/ stand-ins: the table read from those profiles', () => {
    const derived = deriveCoverage(loaded(registry));
    assert.deepEqual(plain(derived.coverage), EXPECTED);
    assert.deepEqual(derived.warnings, []);
    assert.equal(derived.sources.Prescription, 'https://abdm-fhir-gateway.github.io/fhir/StructureDefinition/ABDMPrescriptionRecord');
  });

  it('fixes the hand table\'s two defects: Wellness covers Condition, Prescription does not cover DocumentReference', () => {
    const { coverage } = deriveCoverage(loaded(registry));
    assert.ok(coverage.WellnessRecord.types.includes('Condition'));
    assert.ok(!coverage.Prescription.types.includes('DocumentReference'));
  });

  it('follows no reference that names who or where: no Practitioner, Organization, Encounter of a report, Binary', () => {
    const { coverage } = deriveCoverage(loaded(registry));
    for (const h of HI_TYPES) {
      for (const never of ['Practitioner', 'PractitionerRole', 'Organization', 'Binary', 'Bundle', 'Patient', 'Task', 'CareTeam', 'Composition']) {
        assert.ok(!coverage[h].types.includes(never), `${h} covers ${never}`);
      }
    }
    // Only the records that require their encounter (OP consultation, discharge summary) cover Encounter.
    assert.deepEqual(HI_TYPES.filter((h) => coverage[h].types.includes('Encounter')), ['OPConsultation', 'DischargeSummary']);
  });

  it('every covered type has a date of care (CARE_DATE), so a consent\'s data range limits it', () => {
    const { coverage } = deriveCoverage(loaded(registry));
    for (const h of HI_TYPES) for (const type of coverage[h].types) assert.ok(CARE_DATE[type], `${h} covers ${type}, which has no CARE_DATE`);
    assert.deepEqual(undatedTypes(coverage), []);
    assert.deepEqual(undatedTypes({ ...coverage, WellnessRecord: { types: ['Goal'], compositions: [] } }), ['Goal']);
  });

  it('follows the profiles as loaded: a profile narrowing DiagnosticReport.basedOn narrows the coverage', () => {
    const core = 'http://hl7.org/fhir/StructureDefinition/DiagnosticReport';
    const narrowed: LoadedProfiles = {
      ...loaded(registry),
      profile: (url) => {
        const p = registry.profile(url);
        if (!p || url !== core) return p;
        const elements = p.elements.map((e): ElementDefinition => (e.path === 'DiagnosticReport.basedOn'
          ? { ...e, type: [{ code: 'Reference', targetProfile: ['http://hl7.org/fhir/StructureDefinition/ServiceRequest'] }] } : e));
        return { ...p, elements };
      },
    };
    const { coverage } = deriveCoverage(narrowed);
    assert.deepEqual([...coverage.DiagnosticReport.types], ['DiagnosticReport', 'DocumentReference', 'ImagingStudy', 'Media', 'Observation', 'ServiceRequest', 'Specimen']);
  });

  it('a record profile that is not loaded stops derivation (and so start-up), naming it', () => {
    const missing: LoadedProfiles = { ...loaded(registry), profile: (url) => (url === HI_TYPE_RECORDS.WellnessRecord ? undefined : registry.profile(url)) };
    assert.throws(() => deriveCoverage(missing), (err: Error) => err instanceof CoverageError && /WellnessRecord record profile .*WellnessRecord is not loaded/.test(err.message));
  });

  it('a bound ValueSet that is not loaded leaves those documents uncovered, with a warning', () => {
    const derived = deriveCoverage({ ...loaded(registry), valueSet: () => undefined });
    assert.deepEqual([...derived.coverage.DiagnosticReport.compositions], []);
    assert.equal(derived.warnings.length, 1);
    assert.match(derived.warnings[0], /DiagnosticReportRecord: ValueSet .*abdm-diagnostic-report-type .* is not loaded/);
  });

  it('the table README prints is the derived one', () => {
    const readme = fs.readFileSync(path.resolve(__dirname, '../../../../README.md'), 'utf8');
    const rows = readme.split('\n').filter((line) => (HI_TYPES as readonly string[]).includes(line.split('|')[1]?.trim() ?? ''));
    const list = (cell: string) => (/^\d/.test(cell.trim()) || /^[A-Z]/.test(cell.trim()) ? cell.split(',').map((x) => x.trim()) : []);
    const printed = Object.fromEntries(rows.map((line) => {
      const [, hiType, , codes, types] = line.split('|');
      return [hiType.trim(), { types: list(types), compositions: list(codes) }];
    }));
    assert.deepEqual(printed, plain(deriveCoverage(loaded(registry)).coverage));
  });

  describe('against the official NRCeS 6.5.0 profiles and examples (read from ../shared when present)', () => {
    let official: ProfileRegistry;
    before(function () {
      if (!fs.existsSync(EXAMPLES)) {
        console.log(`      (skipped: the NRCeS IG is not at ${path.relative(process.cwd(), EXAMPLES)})`);
        this.skip();
      }
      this.timeout(30_000);
      official = new ProfileRegistry([PROFILES_DIR, ...IG]);
    });

    it('the official record profiles give the same table as our stand-ins', () => {
      const derived = deriveCoverage(loaded(official));
      for (const h of HI_TYPES) assert.equal(derived.sources[h], HI_TYPE_RECORDS[h], `${h} was not derived from the official profile`);
      assert.deepEqual(plain(derived.coverage), plain(deriveCoverage(loaded(registry)).coverage));
      assert.deepEqual(derived.warnings, []);
    });

    it('every patient record in an official document Bundle is covered by its HI type, and so is its Composition type', () => {
      const { coverage } = deriveCoverage(loaded(official));
      const hiTypeOf = new Map(HI_TYPES.map((h) => [HI_TYPE_RECORDS[h], h]));
      // Not patient records a consent grants: the document itself (by its type code), its subject
      // (covered by every type), the people and organisations in it, and Binary (unrestricted callers only).
      const notRecords = new Set(['Composition', 'Patient', 'Practitioner', 'PractitionerRole', 'Organization', 'Binary']);
      let documents = 0;
      for (const file of fs.readdirSync(EXAMPLES).filter((f) => f.startsWith('Bundle-')).sort()) {
        const bundle = JSON.parse(fs.readFileSync(path.join(EXAMPLES, file), 'utf8')) as Bundle;
        const composition = bundle.entry?.[0]?.resource as Composition;
        const hiType = hiTypeOf.get(composition.meta?.profile?.[0] ?? '');
        if (hiType === undefined) continue; // InvoiceRecord: no ABDM HI type names it
        documents++;
        for (const type of new Set((bundle.entry ?? []).map((e) => e.resource?.resourceType ?? ''))) {
          if (!notRecords.has(type)) assert.ok(coverage[hiType].types.includes(type), `${file}: ${hiType} does not cover its ${type}`);
        }
        const codes = (composition.type.coding ?? []).map((c) => c.code);
        if (hiType === 'WellnessRecord') assert.deepEqual(codes, [], `${file}: the IG's WellnessRecord has no type code`);
        else assert.ok(codes.some((c) => coverage[hiType].compositions.includes(c ?? '')), `${file}: ${hiType} does not cover its Composition (${codes.join(', ')})`);
      }
      assert.equal(documents, 9);
    });
  });
});
