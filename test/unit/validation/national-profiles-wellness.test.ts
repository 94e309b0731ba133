import { strict as assert } from 'node:assert';
import fs from 'node:fs';
import path from 'node:path';
import type { CodeSystem, ValueSet } from 'fhir/r4';
import type { Issue } from '../../../src/fhir/errors';
import { PROFILES_DIR } from '../../../src/main';
import { ValidationEngine } from '../../../src/validation/profiles/engine';
import { ProfileRegistry } from '../../../src/validation/profiles/registry';
import { EXAMPLES, IG, NRCES, OURS, VS, SCT, LOINC } from './national-support';

/**
 * The wellness, immunization and clinical-event profiles under profiles/ (written from the NRCeS
 * ABDM IG 6.5.0 rules), checked through the NRCeS URLs they stand in for: a small resource of our
 * own conforms, and each key rule broken alone gives the expected issue at the right FHIRPath.
 */

const PROFILES = [
  'ObservationBodyMeasurement', 'ObservationGeneralAssessment', 'ObservationLifestyle', 'ObservationPhysicalActivity',
  'ObservationVitalSigns', 'ObservationWomenHealth', 'AllergyIntolerance', 'CarePlan', 'Communication', 'CommunicationRequest',
  'FamilyMemberHistory', 'Immunization', 'ImmunizationRecommendation', 'Procedure',
];
const VALUE_SETS = [
  'body-measurement', 'general-assessment', 'lifestyle', 'physical-activity', 'vital-signs', 'women-health', 'vaccine-codes',
  'alcohol-drinking-status', 'diet-type', 'general-well-being', 'mental-status', 'tobacco-chewing-status', 'tobacco-smoking-status',
];

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const errors = (issues: Issue[]) => issues.filter((i) => i.severity === 'error').map((i) => `${i.code} ${i.expression?.[0]}`);
const warnings = (issues: Issue[]) => issues.filter((i) => i.severity === 'warning').map((i) => `${i.code} ${i.expression?.[0]}`);
const sct = (code: string, display: string) => ({ coding: [{ system: SCT, code, display }] });
const loinc = (code: string, display: string) => ({ coding: [{ system: LOINC, code, display }] });
const patient = { reference: 'Patient/asha-devi' };
const doctor = { reference: 'Practitioner/ravi-kumar' };

const observation = (profile: string, code: Json, value: Json): Json => ({
  resourceType: 'Observation', meta: { profile: [`${NRCES}${profile}`] }, status: 'final', code, subject: patient,
  effectiveDateTime: '2026-11-20T10:00:00+05:30', performer: [doctor], ...value,
});
const quantity = (value: number, unit: string, code = unit) => ({ value, unit, system: 'http://unitsofmeasure.org', code });

/** One conforming resource per profile of this set. */
const CONFORMING: Record<string, () => Json> = {
  ObservationBodyMeasurement: () => observation('ObservationBodyMeasurement', loinc('29463-7', 'Body weight'), { valueQuantity: quantity(62, 'kg') }),
  ObservationGeneralAssessment: () => observation('ObservationGeneralAssessment', sct('365275006', 'General well-being finding'),
    { valueCodeableConcept: sct('102499006', 'Fit and well') }),
  ObservationLifestyle: () => observation('ObservationLifestyle', sct('365981007', 'Finding of tobacco smoking behavior'),
    { valueCodeableConcept: sct('8517006', 'Ex-smoker') }),
  ObservationPhysicalActivity: () => observation('ObservationPhysicalActivity', loinc('55423-8', 'Number of steps in unspecified time Pedometer'),
    { valueQuantity: quantity(8200, 'steps', '{steps}') }),
  ObservationVitalSigns: () => observation('ObservationVitalSigns', loinc('8867-4', 'Heart rate'), { valueQuantity: quantity(72, 'beats/minute', '/min') }),
  ObservationWomenHealth: () => observation('ObservationWomenHealth', loinc('8665-2', 'Last menstrual period start date'),
    { valueString: '2026-11-01' }),
  AllergyIntolerance: () => ({
    resourceType: 'AllergyIntolerance', meta: { profile: [`${NRCES}AllergyIntolerance`] },
    clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code: 'active', display: 'Active' }] },
    code: sct('764146007', 'Penicillin'), patient, recorder: doctor,
  }),
  CarePlan: () => ({
    resourceType: 'CarePlan', meta: { profile: [`${NRCES}CarePlan`] }, status: 'active', intent: 'plan',
    category: [sct('736368003', 'Coronary heart disease care plan')], subject: patient, author: doctor,
    addresses: [{ reference: 'Condition/angina' }], activity: [{ reference: { reference: 'ServiceRequest/ecg' } }],
  }),
  Communication: () => ({
    resourceType: 'Communication', meta: { profile: [`${NRCES}Communication`] }, status: 'completed', subject: patient,
    sender: doctor, recipient: [patient], payload: [{ contentString: 'Your test results are ready.' }],
  }),
  CommunicationRequest: () => ({
    resourceType: 'CommunicationRequest', meta: { profile: [`${NRCES}CommunicationRequest`] }, status: 'active', subject: patient,
    requester: doctor, recipient: [patient], payload: [{ contentString: 'Please come for a follow-up visit.' }],
  }),
  FamilyMemberHistory: () => ({
    resourceType: 'FamilyMemberHistory', meta: { profile: [`${NRCES}FamilyMemberHistory`] }, status: 'completed', patient,
    relationship: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-RoleCode', code: 'FTH', display: 'father' }] },
    condition: [{ code: sct('22298006', 'Myocardial infarction') }],
  }),
  Immunization: () => ({
    resourceType: 'Immunization', meta: { profile: [`${NRCES}Immunization`] },
    extension: [{ url: `${NRCES}BrandName`, valueString: 'Covishield' }], status: 'completed',
    vaccineCode: sct('1119305005', 'COVID-19 antigen vaccine'), patient, occurrenceDateTime: '2026-11-20T10:00:00+05:30',
    route: sct('78421000', 'Intramuscular route'), performer: [{ actor: doctor }],
  }),
  ImmunizationRecommendation: () => ({
    resourceType: 'ImmunizationRecommendation', meta: { profile: [`${NRCES}ImmunizationRecommendation`] }, patient, date: '2026-11-20',
    recommendation: [{
      vaccineCode: [sct('1119305005', 'COVID-19 antigen vaccine')],
      forecastStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/immunization-recommendation-status', code: 'due', display: 'Due' }] },
    }],
  }),
  Procedure: () => ({
    resourceType: 'Procedure', meta: { profile: [`${NRCES}Procedure`] }, status: 'completed', code: sct('80146002', 'Appendectomy'),
    subject: patient, performedDateTime: '2026-11-20T10:00:00+05:30', performer: [{ actor: doctor }],
    bodySite: [sct('66754008', 'Appendix structure')],
  }),
};

/** One key rule of each profile, broken alone: [profile, what, mutation, expected errors]. */
const BROKEN: [string, string, (r: Json) => void, string[]][] = [
  ['ObservationBodyMeasurement', 'a coded value (Quantity or string only)', (r) => { delete r.valueQuantity; r.valueCodeableConcept = sct('35425004', 'Normal body mass index'); },
    ['structure Observation.valueCodeableConcept']],
  ['ObservationGeneralAssessment', 'a string value (Quantity or CodeableConcept only)', (r) => { delete r.valueCodeableConcept; r.valueString = 'well'; },
    ['structure Observation.valueString']],
  ['ObservationLifestyle', 'a Quantity value (CodeableConcept only)', (r) => { delete r.valueCodeableConcept; r.valueQuantity = quantity(10, '/d'); },
    ['structure Observation.valueQuantity']],
  ['ObservationPhysicalActivity', 'basedOn a Patient (requests and plans only)', (r) => { r.basedOn = [patient]; }, ['structure Observation.basedOn[0]']],
  ['ObservationVitalSigns', 'a code outside LOINC and SNOMED CT (the Observation base profile)', (r) => { r.code.coding[0].system = 'http://example.in/vitals'; },
    ['structure Observation.code.coding[0]']],
  ['ObservationWomenHealth', 'a boolean value (Quantity or string only)', (r) => { delete r.valueString; r.valueBoolean = true; }, ['structure Observation.valueBoolean']],
  ['AllergyIntolerance', 'no substance code', (r) => { delete r.code; }, ['required AllergyIntolerance.code']],
  ['AllergyIntolerance', 'a substance coded outside SNOMED CT', (r) => { r.code.coding[0].system = 'http://example.in/allergens'; },
    ['value AllergyIntolerance.code.coding[0].system']],
  ['CarePlan', 'a category coding without display', (r) => { delete r.category[0].coding[0].display; }, ['required CarePlan.category[0].coding[0].display']],
  ['CarePlan', 'a subject that is a Practitioner (Patient or Group only)', (r) => { r.subject = doctor; }, ['structure CarePlan.subject']],
  ['Communication', 'a subject that is a Practitioner (Patient or Group only)', (r) => { r.subject = doctor; }, ['structure Communication.subject']],
  ['CommunicationRequest', 'a requester that is a Group', (r) => { r.requester = { reference: 'Group/ward-3' }; }, ['structure CommunicationRequest.requester']],
  ['FamilyMemberHistory', 'no condition', (r) => { delete r.condition; }, ['required FamilyMemberHistory.condition']],
  ['FamilyMemberHistory', 'a relationship coding without system', (r) => { delete r.relationship.coding[0].system; },
    ['required FamilyMemberHistory.relationship.coding[0].system']],
  ['Immunization', 'two brand names', (r) => { r.extension.push({ url: `${NRCES}BrandName`, valueString: 'Covaxin' }); }, ['structure Immunization.extension']],
  ['Immunization', 'an occurrence given as a string (dateTime only)', (r) => { delete r.occurrenceDateTime; r.occurrenceString = 'last week'; },
    ['structure Immunization.occurrenceString']],
  ['Immunization', 'a route coded outside SNOMED CT', (r) => { r.route.coding[0].system = 'http://example.in/routes'; }, ['value Immunization.route.coding[0].system']],
  ['ImmunizationRecommendation', 'a vaccine coding without display', (r) => { delete r.recommendation[0].vaccineCode[0].coding[0].display; },
    ['required ImmunizationRecommendation.recommendation[0].vaccineCode[0].coding[0].display']],
  ['Procedure', 'no procedure code', (r) => { delete r.code; }, ['required Procedure.code']],
  ['Procedure', 'a body site coded outside SNOMED CT', (r) => { r.bodySite[0].coding[0].system = 'http://example.in/sites'; },
    ['value Procedure.bodySite[0].coding[0].system']],
];

describe('profiles/: the wellness, immunization and clinical-event profiles (NRCeS ABDM IG 6.5.0 rules)', () => {
  let registry: ProfileRegistry;
  before(function () {
    this.timeout(30_000);
    registry = new ProfileRegistry([PROFILES_DIR]);
  });
  const check = (r: Json): Issue[] => {
    const issues = registry.validate(r, (r.meta as { profile: string[] }).profile[0], 'x');
    assert.equal(issues[0]?.code, 'informational', 'checked by our stand-in');
    return issues;
  };

  it('every profile of the set compiles and stands in for its NRCeS profile', () => {
    for (const name of PROFILES) {
      assert.ok(registry.checker(`${OURS}ABDM${name}`), name);
      assert.deepEqual(registry.resolve(`${NRCES}${name}`), { url: `${OURS}ABDM${name}`, standInFor: `${NRCES}${name}` });
    }
  });

  it('a conforming resource of each profile has no errors (and, its codes being listed, no warnings)', () => {
    for (const name of PROFILES) {
      const issues = check(CONFORMING[name]());
      assert.deepEqual([...errors(issues), ...warnings(issues)], [], name);
    }
  });

  it('each key rule broken alone gives the expected issue at the right FHIRPath', () => {
    for (const name of PROFILES) assert.ok(BROKEN.some(([p]) => p === name), `${name} has a broken-rule case`);
    for (const [name, what, mutate, expected] of BROKEN) {
      const r = CONFORMING[name]();
      mutate(r);
      assert.deepEqual(errors(check(r)), expected, `${name}: ${what}`);
    }
  });

  it('the observation codes are bound extensibly to our value sets: a code outside them is a warning, not an error', () => {
    const r = CONFORMING.ObservationLifestyle();
    r.code = sct('229819007', 'Tobacco use and exposure');
    const issues = check(r);
    assert.deepEqual(errors(issues), []);
    assert.deepEqual(warnings(issues), ['code-invalid Observation.code.coding[0]']);
    assert.match(issues.find((i) => i.severity === 'warning')?.diagnostics ?? '', new RegExp(`${VS}abdm-lifestyle`));
    // A code the value set lists draws no warning.
    assert.deepEqual(warnings(check(CONFORMING.ObservationVitalSigns())), []);
  });

  it('every value set of the set loads and expands to the codes it lists', function () {
    this.timeout(30_000);
    // Several include SNOMED CT below a parent (is-a), which needs SNOMED CT itself; a fragment
    // holding just the parents lets them expand here, so their listed codes can be checked too.
    const withParents = new ProfileRegistry([PROFILES_DIR]);
    const parents = VALUE_SETS.flatMap((x) => (read(x).compose?.include ?? []).flatMap((inc) => (inc.filter ?? []).map((f) => f.value)));
    const fragment: CodeSystem = { resourceType: 'CodeSystem', url: SCT, status: 'active', content: 'fragment', concept: parents.map((code) => ({ code })) };
    withParents.terminology.add(fragment);
    for (const x of VALUE_SETS) {
      const vs = read(x);
      assert.equal(vs.url, `${VS}abdm-${x}`);
      const listed = (vs.compose?.include ?? []).flatMap((inc) => [...(inc.concept ?? []).map((c) => `${inc.system}|${c.code}`),
        ...(inc.filter ?? []).map((f) => `${inc.system}|${f.value}`)]);
      assert.ok(listed.length > 0, x);
      const expansion = withParents.terminology.expand(`${VS}abdm-${x}`);
      assert.ok(expansion, `${x} expands`);
      for (const code of listed) assert.ok(expansion.codes.has(code), `${x} has ${code}`);
      // Without SNOMED CT, the ones that list every code expand in the registry as shipped.
      if (!(vs.compose?.include ?? []).some((inc) => inc.filter?.length)) assert.ok(registry.terminology.expand(`${VS}abdm-${x}`), `${x} expands as shipped`);
    }
  });

  describe('against the official NRCeS 6.5.0 examples (read from ../shared when present)', () => {
    before(function () {
      if (!fs.existsSync(EXAMPLES)) {
        console.log(`      (skipped: the NRCeS IG examples are not at ${path.relative(process.cwd(), EXAMPLES)})`);
        this.skip();
      }
    });

    it('every example resource declaring a profile of this set conforms to our stand-in', () => {
      const checked = new Set<string>();
      const failures: string[] = [];
      for (const file of fs.readdirSync(EXAMPLES).sort()) {
        const top = JSON.parse(fs.readFileSync(path.join(EXAMPLES, file), 'utf8')) as Json;
        const all: [string, Json][] = [[file, top], ...((top.entry ?? []) as Json[]).map((e, i): [string, Json] => [`${file}#${i}`, e.resource as Json])];
        for (const [label, resource] of all) {
          for (const url of (resource.meta?.profile ?? []) as string[]) {
            const name = url.replace(NRCES, '');
            if (!PROFILES.includes(name)) continue;
            checked.add(name);
            const found = errors(registry.validate(resource, url, 'meta.profile'));
            if (found.length > 0) failures.push(`${label} ${name}: ${found.join('; ')}`);
          }
        }
      }
      assert.deepEqual(failures, []);
      // The IG's examples cover every profile of the set but Communication and CommunicationRequest.
      assert.deepEqual(PROFILES.filter((p) => !checked.has(p)), ['Communication', 'CommunicationRequest']);
    });

    it('the official profiles give the same verdicts on our own resources, conforming and broken, as the server checks them', function () {
      // Through the validation engine, as a write is checked: it resolves the NRCeS profiles the
      // official targetProfiles name (ProfileRegistry.validate alone leaves those unchecked).
      this.timeout(60_000);
      const official = new ValidationEngine(new ProfileRegistry(IG), IG);
      const ours = new ValidationEngine(registry, [PROFILES_DIR]);
      const verdict = (engine: ValidationEngine, r: Json) => errors(engine.validate(r, (r.meta as { profile: string[] }).profile[0], 'x'));
      for (const name of PROFILES) {
        assert.deepEqual(verdict(official, CONFORMING[name]()), [], name);
        assert.deepEqual(verdict(ours, CONFORMING[name]()), [], name);
      }
      for (const [name, what, mutate, expected] of BROKEN) {
        const r = CONFORMING[name]();
        mutate(r);
        assert.deepEqual(verdict(official, r), expected, `official ${name}: ${what}`);
        assert.deepEqual(verdict(ours, r), expected, `ours ${name}: ${what}`);
      }
    });
  });
});

function read(x: string): ValueSet {
  return JSON.parse(fs.readFileSync(path.join(PROFILES_DIR, `ValueSet-abdm-${x}.json`), 'utf8')) as ValueSet;
}
