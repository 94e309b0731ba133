import { strict as assert } from 'node:assert';
import fs from 'node:fs';
import path from 'node:path';
import type { Issue } from '../../../src/fhir/errors';
import { PROFILES_DIR } from '../../../src/main';
import { ValidationEngine } from '../../../src/validation/profiles/engine';
import { ProfileRegistry } from '../../../src/validation/profiles/registry';
import { EXAMPLES, NRCES, OURS, VS, SCT } from './national-support';

/**
 * The clinical stand-ins under profiles/ (Encounter, Condition, ServiceRequest, DocumentReference,
 * Binary, Media, ImagingStudy, Medication, MedicationRequest, MedicationStatement,
 * PractitionerRole, Appointment), the value sets they bind to and the BrandName extension, each
 * checked through the NRCeS URL a resource declares, without the official IG.
 */

const PROFILES = ['Encounter', 'Condition', 'ServiceRequest', 'DocumentReference', 'Binary', 'Media', 'ImagingStudy', 'Medication',
  'MedicationRequest', 'MedicationStatement', 'PractitionerRole', 'Appointment'];
const VALUE_SETS = ['diagnosis-use', 'encounter-type', 'medicine-codes', 'route-of-administration', 'practitioner-role', 'specimen-types'];
const BRAND = 'https://nrces.in/ndhm/fhir/r4/StructureDefinition/BrandName';

const errors = (issues: Issue[]) => issues.filter((i) => i.severity === 'error').map((i) => `${i.code} ${i.expression?.[0]}`);
const sct = (code: string, display: string) => ({ coding: [{ system: SCT, code, display }] });
const PATIENT = { reference: 'Patient/asha' };
const DOCTOR = { reference: 'Practitioner/ravi' };

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

/** A small conforming resource per profile, and rules broken one at a time with the error each gives. */
const CASES: Record<string, { valid: () => Json; broken: [string, (r: Json) => void, string[]][] }> = {
  Encounter: {
    valid: () => ({
      resourceType: 'Encounter', status: 'finished', class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB', display: 'ambulatory' },
      type: [sct('171183004', 'Diabetes mellitus screening')], subject: PATIENT, participant: [{ individual: DOCTOR }],
      reasonCode: [sct('44054006', 'Diabetes mellitus type 2')], period: { start: '2026-11-20T10:00:00+05:30' },
      diagnosis: [{ condition: { reference: 'Condition/dm2' }, use: sct('8319008', 'Principal diagnosis') }],
    }),
    broken: [
      ['a reason coded outside SNOMED CT', (r) => { r.reasonCode[0].coding[0].system = 'http://hl7.org/fhir/sid/icd-10'; }, ['value Encounter.reasonCode[0].coding[0].system']],
      ['a type coding without its display', (r) => { delete r.type[0].coding[0].display; }, ['required Encounter.type[0].coding[0].display']],
      ['a diagnosis use without its system', (r) => { delete r.diagnosis[0].use.coding[0].system; }, ['required Encounter.diagnosis[0].use.coding[0].system']],
    ],
  },
  Condition: {
    valid: () => ({
      resourceType: 'Condition', subject: PATIENT,
      code: { coding: [{ system: 'http://hl7.org/fhir/sid/icd-10', code: 'E11', display: 'Type 2 diabetes mellitus' }, { system: SCT, code: '44054006', display: 'Diabetes mellitus type 2' }] },
    }),
    broken: [
      ['no code', (r) => { delete r.code; }, ['required Condition.code']],
      ['a coding from another system (the slicing is closed)', (r) => { r.code.coding[1].system = 'http://example.in/local-codes'; }, ['structure Condition.code.coding[1]']],
      ['an ICD-10 coding without display', (r) => { delete r.code.coding[0].display; }, ['required Condition.code.coding[0].display']],
    ],
  },
  ServiceRequest: {
    valid: () => ({ resourceType: 'ServiceRequest', status: 'active', intent: 'order', code: sct('252275004', 'Haematology test'), subject: PATIENT, requester: DOCTOR }),
    broken: [
      ['no requester', (r) => { delete r.requester; }, ['required ServiceRequest.requester']],
      ['a service coded outside SNOMED CT', (r) => { r.code.coding[0].system = 'http://loinc.org'; }, ['value ServiceRequest.code.coding[0].system']],
    ],
  },
  DocumentReference: {
    valid: () => ({ resourceType: 'DocumentReference', status: 'current', subject: PATIENT, content: [{ attachment: { contentType: 'application/pdf', data: 'JVBERi0xLjQK' } }] }),
    broken: [
      ['an attachment by URL only, without its data', (r) => { delete r.content[0].attachment.data; r.content[0].attachment.url = 'https://hip.example.in/d/1.pdf'; },
        ['required DocumentReference.content[0].attachment.data']],
      ['no content type', (r) => { delete r.content[0].attachment.contentType; }, ['required DocumentReference.content[0].attachment.contentType']],
    ],
  },
  Binary: {
    valid: () => ({ resourceType: 'Binary', contentType: 'application/pdf', data: 'JVBERi0xLjQK' }),
    broken: [['no data', (r) => { delete r.data; }, ['required Binary.data']]],
  },
  Media: {
    valid: () => ({
      resourceType: 'Media', status: 'completed', modality: sct('429858000', 'Computed tomography of head and neck'), subject: PATIENT,
      content: { contentType: 'image/jpeg', data: '/9j/4AAQ' },
    }),
    broken: [
      ['content without its data', (r) => { delete r.content.data; }, ['required Media.content.data']],
      ['a modality coding without code', (r) => { delete r.modality.coding[0].code; }, ['required Media.modality.coding[0].code']],
    ],
  },
  ImagingStudy: {
    valid: () => ({ resourceType: 'ImagingStudy', status: 'available', subject: PATIENT, procedureCode: [sct('241541005', 'High resolution computed tomography of chest')] }),
    broken: [
      ['a procedure coded outside SNOMED CT', (r) => { r.procedureCode[0].coding[0].system = 'http://loinc.org'; }, ['value ImagingStudy.procedureCode[0].coding[0].system']],
    ],
  },
  Medication: {
    valid: () => ({
      resourceType: 'Medication', code: sct('322236009', 'Acetaminophen 500 mg oral tablet'),
      identifier: [{ type: { coding: [{ system: 'https://nrces.in/ndhm/fhir/r4/CodeSystem/ndhm-identifier-type-code', code: 'HSN', display: 'Harmonized System of Nomenclature' }] }, value: '30049099' }],
    }),
    broken: [
      ['no code', (r) => { delete r.code; }, ['required Medication.code']],
      ['two identifiers', (r) => { r.identifier.push(structuredClone(r.identifier[0])); }, ['structure Medication.identifier']],
      ['an identifier that is not an HSN code', (r) => { r.identifier[0].type.coding[0].code = 'OIN'; }, ['value Medication.identifier[0].type.coding[0].code']],
      ['two codings of the medicine', (r) => { r.code.coding.push({ system: SCT, code: '322236009', display: 'Acetaminophen 500 mg oral tablet' }); }, ['structure Medication.code.coding']],
    ],
  },
  MedicationRequest: {
    valid: () => ({
      resourceType: 'MedicationRequest', status: 'active', intent: 'order', subject: PATIENT, requester: DOCTOR, authoredOn: '2026-11-20',
      medicationCodeableConcept: sct('322236009', 'Acetaminophen 500 mg oral tablet'),
      dosageInstruction: [{ text: 'One tablet twice a day', route: sct('26643006', 'Oral route') }],
    }),
    broken: [
      ['no dosage instruction', (r) => { delete r.dosageInstruction; }, ['required MedicationRequest.dosageInstruction']],
      ['no requester', (r) => { delete r.requester; }, ['required MedicationRequest.requester']],
      ['no date authored', (r) => { delete r.authoredOn; }, ['required MedicationRequest.authoredOn']],
      ['the medicine as a reference', (r) => { delete r.medicationCodeableConcept; r.medicationReference = { reference: 'Medication/pcm' }; },
        ['structure MedicationRequest.medicationReference']],
      ['a route coded outside SNOMED CT', (r) => { r.dosageInstruction[0].route.coding[0].system = 'http://example.in/routes'; },
        ['value MedicationRequest.dosageInstruction[0].route.coding[0].system']],
    ],
  },
  MedicationStatement: {
    valid: () => ({ resourceType: 'MedicationStatement', status: 'active', subject: PATIENT, medicationCodeableConcept: sct('322236009', 'Acetaminophen 500 mg oral tablet') }),
    broken: [
      ['the medicine as a reference', (r) => { delete r.medicationCodeableConcept; r.medicationReference = { reference: 'Medication/pcm' }; },
        ['structure MedicationStatement.medicationReference']],
      ['a medicine coding without display', (r) => { delete r.medicationCodeableConcept.coding[0].display; }, ['required MedicationStatement.medicationCodeableConcept.coding[0].display']],
    ],
  },
  PractitionerRole: {
    valid: () => ({
      resourceType: 'PractitionerRole', practitioner: DOCTOR, code: [sct('158965000', 'Medical practitioner')],
      identifier: [{ type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'MD', display: 'Medical License number' }] }, system: 'https://doctor.abdm.gov.in', value: '71-2665-5777-1234' }],
      telecom: [{ system: 'phone', value: '+91-9000000000' }],
    }),
    broken: [
      ['an identifier without type', (r) => { delete r.identifier[0].type; }, ['required PractitionerRole.identifier[0].type']],
      ['a contact without value', (r) => { delete r.telecom[0].value; }, ['required PractitionerRole.telecom[0].value']],
      ['a role coded outside SNOMED CT', (r) => { r.code[0].coding[0].system = 'http://example.in/roles'; }, ['value PractitionerRole.code[0].coding[0].system']],
    ],
  },
  Appointment: {
    valid: () => ({
      resourceType: 'Appointment', status: 'booked', start: '2026-11-27T10:00:00+05:30', end: '2026-11-27T10:15:00+05:30',
      serviceType: [sct('11429006', 'Consultation')], participant: [{ actor: PATIENT, status: 'accepted' }, { actor: DOCTOR, status: 'accepted' }],
    }),
    broken: [
      ['no start', (r) => { delete r.start; }, ['required Appointment.start']],
      ['a service type coded outside SNOMED CT', (r) => { r.serviceType[0].coding[0].system = 'http://example.in/services'; }, ['value Appointment.serviceType[0].coding[0].system']],
    ],
  },
};

describe('profiles/: the clinical stand-ins (Encounter … Appointment), their value sets and the BrandName extension', () => {
  let registry: ProfileRegistry;
  before(function () {
    this.timeout(30_000);
    registry = new ProfileRegistry([PROFILES_DIR]);
  });

  it('each profile compiles and stands in for its NRCeS profile', () => {
    for (const name of PROFILES) {
      assert.deepEqual(registry.resolve(`${NRCES}${name}`), { url: `${OURS}ABDM${name}`, standInFor: `${NRCES}${name}` }, name);
      assert.ok(registry.checker(`${OURS}ABDM${name}`), name);
    }
    assert.deepEqual(Object.keys(CASES).sort(), [...PROFILES].sort());
  });

  for (const name of PROFILES) {
    it(`${name}: a conforming resource passes; each key rule broken alone is the expected error`, () => {
      const check = (r: Json) => {
        const issues = registry.validate(r, `${NRCES}${name}`, 'x');
        assert.equal(issues[0]?.code, 'informational', 'checked by the stand-in');
        return errors(issues);
      };
      const { valid, broken } = CASES[name];
      assert.deepEqual(check(valid()), [], `${name} conforms`);
      for (const [what, mutate, expected] of broken) {
        const r = valid();
        mutate(r);
        assert.deepEqual(check(r), expected, `${name}: ${what}`);
      }
    });
  }

  it('an identifier type outside the ABDM identifier types is a warning for a PractitionerRole (extensible binding), not an error', () => {
    const role = CASES.PractitionerRole.valid();
    role.identifier[0].type = { coding: [{ system: 'https://example.in/id-types', code: 'X', display: 'X' }] };
    const issues = registry.validate(role, `${NRCES}PractitionerRole`, 'x');
    assert.deepEqual(errors(issues), []);
    assert.deepEqual(issues.filter((i) => i.severity === 'warning').map((i) => `${i.code} ${i.expression?.[0]}`), ['code-invalid PractitionerRole.identifier[0].type.coding[0]']);
  });

  it('the value sets load: listed ones expand to their codes, filtered ones expand over the SNOMED CT hierarchy they name', () => {
    const encounterTypes = registry.terminology.expand(`${VS}abdm-encounter-type`);
    assert.ok(encounterTypes?.codes.has(`${SCT}|171183004`));
    assert.equal(encounterTypes?.codes.size, 54);
    const medicines = registry.terminology.expand(`${VS}abdm-medicine-codes`);
    assert.ok(medicines?.codes.has(`${SCT}|322236009`));
    // The other four include SNOMED CT by is-a filters, which expand only where the hierarchy is
    // held: give a separate registry a fragment of it.
    const withSnomed = new ProfileRegistry([PROFILES_DIR]);
    withSnomed.terminology.add({
      resourceType: 'CodeSystem', url: SCT, status: 'active', content: 'fragment',
      concept: [
        { code: '106229004', display: 'Qualifier for type of diagnosis', concept: [{ code: '8319008', display: 'Principal diagnosis' }] },
        { code: '284009009', display: 'Route of administration value', concept: [{ code: '26643006', display: 'Oral route' }] },
        { code: '223366009', display: 'Healthcare professional', concept: [{ code: '158965000', display: 'Medical practitioner' }] },
        { code: '307988006' },
        { code: '123038009', display: 'Specimen', concept: [{ code: '119297000', display: 'Blood specimen' }] },
      ],
    });
    const codes = (x: string) => [...withSnomed.terminology.expand(`${VS}abdm-${x}`)?.codes ?? []].sort();
    assert.deepEqual(codes('diagnosis-use'), [`${SCT}|8319008`]); // the qualifier itself is excluded
    assert.deepEqual(codes('route-of-administration'), [`${SCT}|26643006`]);
    assert.deepEqual(codes('practitioner-role'), [`${SCT}|158965000`, `${SCT}|223366009`, `${SCT}|307988006`]);
    assert.deepEqual(codes('specimen-types'), [`${SCT}|119297000`]);
    for (const x of VALUE_SETS) assert.ok(codes(x).length > 0, x);
  });

  it('the BrandName extension is defined under its NRCeS URL: a string brand name on an Immunization passes, another type does not', function () {
    this.timeout(30_000);
    const engine = new ValidationEngine(registry, [PROFILES_DIR]);
    assert.equal(engine.checker(BRAND)?.type, 'Extension');
    const immunization = (extension: object[]) => ({
      resourceType: 'Immunization', status: 'completed', vaccineCode: { text: 'COVID-19 vaccine' }, patient: PATIENT,
      occurrenceDateTime: '2026-01-10', extension,
    });
    assert.deepEqual(engine.extensions(immunization([{ url: BRAND, valueString: 'Covishield' }])), []);
    assert.deepEqual(errors(engine.extensions(immunization([{ url: BRAND, valueCoding: { code: 'covishield' } }]))), ['structure Immunization.extension[0].valueCoding']);
    const onVaccineCode = { ...immunization([]), vaccineCode: { text: 'COVID-19', extension: [{ url: BRAND, valueString: 'Covishield' }] } };
    assert.deepEqual(errors(engine.extensions(onVaccineCode)), ['structure Immunization.vaccineCode.extension[0]']);
  });

  describe('the official NRCeS 6.5.0 examples of these profiles (read from ../shared when present)', () => {
    before(function () {
      if (!fs.existsSync(EXAMPLES)) {
        console.log(`      (skipped: the NRCeS IG examples are not at ${path.relative(process.cwd(), EXAMPLES)})`);
        this.skip();
      }
    });

    it('every profile of the set has official examples, and each conforms to our stand-in', () => {
      const seen = new Map<string, number>();
      for (const file of fs.readdirSync(EXAMPLES).sort()) {
        const top = JSON.parse(fs.readFileSync(path.join(EXAMPLES, file), 'utf8')) as Json;
        const all: [string, Json][] = [[file, top], ...(top.entry ?? []).map((e: Json, i: number): [string, Json] => [`${file}#${i}`, e.resource])];
        for (const [label, resource] of all) {
          for (const url of resource.meta?.profile ?? []) {
            const name = url.replace(NRCES, '');
            if (!PROFILES.includes(name)) continue;
            seen.set(name, (seen.get(name) ?? 0) + 1);
            assert.deepEqual(errors(registry.validate(resource, url, 'meta.profile')), [], label);
          }
        }
      }
      assert.deepEqual(PROFILES.filter((p) => !seen.has(p)), []);
    });

    it('official examples with one key rule broken give the expected error through the NRCeS URL', () => {
      const read = (file: string) => JSON.parse(fs.readFileSync(path.join(EXAMPLES, file), 'utf8')) as Json;
      const cases: [string, string, (r: Json) => void, string[]][] = [
        ['MedicationRequest', 'MedicationRequest-example-01.json', (r) => { delete r.authoredOn; }, ['required MedicationRequest.authoredOn']],
        ['Condition', 'Condition-example-01.json', (r) => { delete r.code; }, ['required Condition.code']],
        ['Medication', 'Medication-example-01.json', (r) => { delete r.code; }, ['required Medication.code']],
        ['Binary', 'Binary-example-01.json', (r) => { delete r.data; }, ['required Binary.data']],
        ['Appointment', 'Appointment-example-01.json', (r) => { delete r.start; }, ['required Appointment.start']],
      ];
      for (const [name, file, mutate, expected] of cases) {
        const r = read(file);
        assert.deepEqual(errors(registry.validate(r, `${NRCES}${name}`, 'x')), [], `${file} before`);
        mutate(r);
        assert.deepEqual(errors(registry.validate(r, `${NRCES}${name}`, 'x')), expected, file);
      }
    });
  });
});
