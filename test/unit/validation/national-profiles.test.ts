import { strict as assert } from 'node:assert';
import fs from 'node:fs';
import path from 'node:path';
import type { ElementDefinition, Patient, StructureDefinition } from 'fhir/r4';
import { NATIONAL_PROFILES } from '../../../src/config';
import type { Issue } from '../../../src/fhir/errors';
import { baseValidator, PROFILES_DIR } from '../../../src/main';
import { coreDefinitions, readStructureDefinitions } from '../../../src/validation/profiles/definitions';
import { compliesWith, ProfileRegistry } from '../../../src/validation/profiles/registry';
import { SnapshotGenerator } from '../../../src/validation/profiles/snapshot';
import { ValidationEngine } from '../../../src/validation/profiles/engine';
import { testConfig } from '../../helpers/deps';
import { EXAMPLES, IG, NRCES, OURS, leaves, edit } from './national-support';

/**
 * The national profiles under profiles/, written from the NRCeS ABDM IG's rules, each standing in
 * for the NRCeS profile it was written from (structuredefinition-compliesWithProfile) until the
 * official IG is loaded with --ig.
 */

/**
 * NRCeS profile name → ours, read from profiles/ itself: every profile we ship that declares
 * compliance with an NRCeS profile stands in for it (adding a profile needs no edit here).
 */
const STAND_INS: Record<string, string> = Object.fromEntries(readStructureDefinitions(PROFILES_DIR)
  .flatMap((sd) => compliesWith(sd).filter((url) => url.startsWith(NRCES)).map((url) => [url.slice(NRCES.length), sd.id as string])));

const errors = (issues: Issue[]) => issues.filter((i) => i.severity === 'error').map((i) => `${i.code} ${i.expression?.[0]}`);

/** One snapshot element as a line: `id min..max`, its fixed or pattern value, binding and slicing. */
function shape(e: ElementDefinition): string {
  const value = Object.entries(e).filter(([k]) => /^(fixed|pattern)[A-Z]/.test(k)).map(([, v]) => ` = ${JSON.stringify(v)}`).join('');
  const binding = e.binding && e.binding.strength !== 'example' ? ` ${e.binding.strength} ${e.binding.valueSet?.split('/').pop()}` : '';
  const slicing = e.slicing ? ` sliced ${(e.slicing.discriminator ?? []).map((d) => `${d.type}:${d.path}`).join(',')} ${e.slicing.rules}` : '';
  return `${e.id} ${e.min}..${e.max}${value}${binding}${slicing}`;
}

/** The key rules of each profile, as snapshot lines (a few each; the mutation tests check behaviour). */
const KEY_RULES: Record<string, string[]> = {
  ABDMPatient: [
    'Patient.identifier 1..*', 'Patient.identifier.type 1..1 extensible abdm-identifier-type', 'Patient.identifier.type.coding.code 1..1',
    'Patient.identifier.value 1..1', 'Patient.name.text 1..1', 'Patient.telecom.value 1..1',
  ],
  ABDMPractitioner: [
    'Practitioner.identifier 1..*', 'Practitioner.identifier.type 1..1 extensible abdm-identifier-type', 'Practitioner.identifier.value 1..1',
    'Practitioner.name.text 1..1', 'Practitioner.photo.data 1..1', 'Practitioner.qualification.code.coding.display 1..1',
  ],
  ABDMOrganization: [
    'Organization.identifier 1..*', 'Organization.identifier.system 1..1', 'Organization.identifier.value 1..1', 'Organization.name 1..1',
    'Organization.type.coding.system 1..1 = "http://terminology.hl7.org/CodeSystem/organization-type"',
  ],
  ABDMDiagnosticReportLab: [
    'DiagnosticReport.category.coding.system 1..1 = "http://snomed.info/sct"', 'DiagnosticReport.code.coding.system 1..1 = "http://loinc.org"',
    'DiagnosticReport.resultsInterpreter 1..*', 'DiagnosticReport.result 1..*', 'DiagnosticReport.conclusion 1..1',
  ],
  ABDMDiagnosticReportImaging: [
    'DiagnosticReport.code.coding.system 1..1 = "http://loinc.org"', 'DiagnosticReport.media 1..*', 'DiagnosticReport.result 0..*',
    'DiagnosticReport.conclusion 1..1', 'DiagnosticReport.conclusionCode.coding.system 1..1 = "http://snomed.info/sct"',
  ],
  ABDMObservation: [
    'Observation.code.coding 0..* sliced value:system closed', 'Observation.code.coding:LOINC.system 1..1 = "http://loinc.org"',
    'Observation.code.coding:SNOMEDCT.system 1..1 = "http://snomed.info/sct"', 'Observation.code.coding:SNOMEDCT.display 1..1',
  ],
  ABDMSpecimen: [
    'Specimen.type.coding.system 1..1 = "http://snomed.info/sct"', 'Specimen.receivedTime 1..1', 'Specimen.collection.collected[x] 1..1',
  ],
  ABDMDocumentBundle: [
    'Bundle.meta.versionId 1..1', 'Bundle.identifier.system 1..1', 'Bundle.identifier.value 1..1', 'Bundle.type 1..1 = "document" required bundle-type|4.0.1',
    'Bundle.timestamp 1..1', 'Bundle.entry 2..* sliced type:resource open', 'Bundle.entry:Composition 1..1', 'Bundle.entry:Patient 1..*',
  ],
  ABDMOPConsultRecord: [
    'Composition.type.coding.code 1..1 = "371530004"', 'Composition.encounter 1..1', 'Composition.author.reference 1..1',
    'Composition.section 1..* sliced value:code.coding.code openAtEnd', 'Composition.section:FollowUp 0..1',
    'Composition.section:FollowUp.code.coding.code 1..1 = "390906007"', 'Composition.section:Referral.entry.reference 1..1',
  ],
  ABDMPrescriptionRecord: [
    'Composition.type.coding.system 0..1 = "http://snomed.info/sct"', 'Composition.type.coding.code 1..1 = "440545006"', 'Composition.section 1..1',
    'Composition.section.entry 1..* sliced value:type closed', 'Composition.section.entry:Binary 0..1', 'Composition.section.entry:MedicationRequest.type 1..1 = "MedicationRequest" extensible resource-types',
  ],
  ABDMDischargeSummaryRecord: [
    'Composition.type.coding.code 1..1 = "373942005"', 'Composition.encounter 1..1', 'Composition.section 1..* sliced value:code.coding.code openAtEnd',
    'Composition.section:Investigations.code.coding.code 1..1 = "721981007"', 'Composition.section:CarePlan.code.coding.display 1..1 = "Care plan"',
  ],
  ABDMDiagnosticReportRecord: [
    'Composition.type 1..1 preferred abdm-diagnostic-report-type', 'Composition.type.coding 1..1', 'Composition.type.coding.system 1..1 = "http://snomed.info/sct"',
    'Composition.section 1..1', 'Composition.section.entry 1..2 sliced value:type closed', 'Composition.section.entry:DiagnosticReport 0..1',
  ],
  ABDMImmunizationRecord: [
    'Composition.type.coding.code 1..1 = "41000179103"', 'Composition.section.code.coding.code 1..1 = "41000179103"',
    'Composition.section.entry 1..* sliced value:type closed', 'Composition.section.entry:ImmunizationRecommendation 0..1',
  ],
  ABDMHealthDocumentRecord: [
    'Composition.type.coding.code 1..1 = "419891008"', 'Composition.section 1..1', 'Composition.section.entry 1..*', 'Composition.section.entry.reference 1..1',
  ],
  ABDMWellnessRecord: [
    'Composition.type.text 0..1 = "Wellness Record"', 'Composition.subject 1..1', 'Composition.section 1..* sliced value:title openAtEnd',
    'Composition.section:VitalSigns.title 1..1 = "Vital Signs"', 'Composition.section:OtherObservations.entry.reference 1..1',
  ],
};

describe('profiles/: the national profiles we ship (written from the NRCeS ABDM IG rules)', () => {
  let registry: ProfileRegistry;
  let definitions: StructureDefinition[];
  before(function () {
    this.timeout(30_000);
    registry = new ProfileRegistry([PROFILES_DIR]);
    definitions = readStructureDefinitions(PROFILES_DIR);
  });

  it('every profile under profiles/ expands to a snapshot from its differential and compiles', () => {
    const engine = new ValidationEngine(registry, [PROFILES_DIR]);
    const byUrl = new Map(coreDefinitions());
    for (const sd of definitions) byUrl.set(sd.url, sd);
    const generator = new SnapshotGenerator((url) => byUrl.get(url.split('|')[0]));
    for (const sd of definitions) {
      assert.equal(sd.snapshot, undefined, `${sd.url} is shipped as a differential`);
      assert.ok(generator.generate(sd).length > (sd.differential?.element.length ?? 0), sd.url);
      // Resource profiles compile in the registry; extension definitions in the engine that resolves them.
      assert.ok(sd.kind === 'resource' ? registry.checker(sd.url) : engine.checker(sd.url), sd.url);
    }
    registry.compileAll();
    engine.compileAll();
  });

  it('each profile carries its key rules (cardinality, fixed codes, bindings, slicing)', () => {
    const byUrl = new Map(coreDefinitions());
    for (const sd of definitions) byUrl.set(sd.url, sd);
    const generator = new SnapshotGenerator((url) => byUrl.get(url.split('|')[0]));
    for (const [id, rules] of Object.entries(KEY_RULES)) {
      const sd = definitions.find((d) => d.url === `${OURS}${id}`);
      assert.ok(sd, `profiles/ has ${id}`);
      const lines = generator.generate(sd).map(shape);
      for (const rule of rules) assert.ok(lines.includes(rule), `${id}: ${rule}\nhas: ${lines.filter((l) => l.startsWith(rule.split(' ')[0])).join(' | ')}`);
    }
  });

  it('each declares the NRCeS profile it stands in for; NRCeS URLs resolve to them when the IG is not loaded', () => {
    for (const [nrces, ours] of Object.entries(STAND_INS)) {
      const sd = definitions.find((d) => d.url === `${OURS}${ours}`) as StructureDefinition;
      assert.deepEqual(compliesWith(sd), [`${NRCES}${nrces}`], ours);
      assert.ok(sd.description?.includes(`${NRCES}${nrces}`), `${ours} says which profile it was written from`);
      assert.deepEqual(registry.resolve(`${NRCES}${nrces}`), { url: `${OURS}${ours}`, standInFor: `${NRCES}${nrces}` });
    }
    // REQUIRED_PROFILES=national works out of the box (main.ts refuses to start on an unknown URL).
    for (const url of Object.values(NATIONAL_PROFILES).flat()) assert.ok(registry.resolve(url)?.standInFor, url);
  });

  it('a write declaring an NRCeS profile is checked against our stand-in, with a note naming both', () => {
    const validator = baseValidator(testConfig());
    const patient: Patient = {
      resourceType: 'Patient', meta: { profile: [`${NRCES}Patient`] }, name: [{ text: 'Asha Devi' }],
      identifier: [{ type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'MR', display: 'Medical record number' }] }, system: 'https://healthid.abdm.gov.in', value: '91-7561-4088-8857' }],
    };
    const issues = validator.validateProfiles(patient);
    assert.deepEqual(issues.map((i) => `${i.severity} ${i.code}`), ['information informational']);
    assert.match(issues[0].diagnostics, new RegExp(`${NRCES}Patient.*${OURS}ABDMPatient`));
    const identifier = (patient.identifier ?? [])[0];
    assert.deepEqual(errors(validator.validateProfiles({ ...patient, identifier: [{ ...identifier, value: undefined }] } as Patient)), ['required Patient.identifier[0].value']);
    // An identifier type outside the extensible ABDM identifier types is a warning, not an error.
    const odd: Patient = { ...patient, identifier: [{ ...identifier, type: { coding: [{ system: 'https://example.in/id-types', code: 'X', display: 'X' }] } }] };
    assert.deepEqual(validator.validateProfiles(odd).filter((i) => i.severity === 'warning').map((i) => `${i.code} ${i.expression?.[0]}`), ['code-invalid Patient.identifier[0].type.coding[0]']);
  });

  it('a prescription document of our own: the document and record rules, each broken alone', () => {
    const SCT = 'http://snomed.info/sct';
    const rx = { system: SCT, code: '440545006', display: 'Prescription record' };
    const typed = (code: string) => ({ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code, display: code }] });
    const composition = () => ({
      resourceType: 'Composition', meta: { profile: [`${NRCES}PrescriptionRecord`] }, status: 'final', type: { coding: [{ ...rx }] },
      subject: { reference: 'urn:uuid:0d7c5c0e-0001-4000-8000-000000000001' }, date: '2026-11-20T10:00:00+05:30',
      author: [{ reference: 'urn:uuid:0d7c5c0e-0002-4000-8000-000000000002' }], title: 'Prescription',
      section: [{ title: 'Prescription', code: { coding: [{ ...rx }] }, entry: [{ reference: 'urn:uuid:0d7c5c0e-0003-4000-8000-000000000003', type: 'MedicationRequest' }] }],
    });
    const document = () => ({
      resourceType: 'Bundle', meta: { versionId: '1', profile: [`${NRCES}DocumentBundle`] }, type: 'document', timestamp: '2026-11-20T10:05:00+05:30',
      identifier: { system: 'https://hip.example.in/documents', value: 'rx-2026-0001' },
      entry: [
        { fullUrl: 'urn:uuid:0d7c5c0e-0000-4000-8000-000000000000', resource: composition() },
        { fullUrl: 'urn:uuid:0d7c5c0e-0001-4000-8000-000000000001', resource: { resourceType: 'Patient', name: [{ text: 'Asha Devi' }], identifier: [{ type: typed('MR'), system: 'https://healthid.abdm.gov.in', value: '91-7561-4088-8857' }] } },
        { fullUrl: 'urn:uuid:0d7c5c0e-0002-4000-8000-000000000002', resource: { resourceType: 'Practitioner', name: [{ text: 'Dr Ravi Kumar' }], identifier: [{ type: typed('MD'), system: 'https://doctor.abdm.gov.in', value: '71-2665-5777-1234' }] } },
        { fullUrl: 'urn:uuid:0d7c5c0e-0003-4000-8000-000000000003', resource: { resourceType: 'MedicationRequest', status: 'active', intent: 'order', medicationCodeableConcept: { text: 'Paracetamol 500 mg' }, subject: { reference: 'urn:uuid:0d7c5c0e-0001-4000-8000-000000000001' } } },
      ],
    });
    type Doc = ReturnType<typeof document>;
    type Comp = ReturnType<typeof composition>;
    const check = (r: { meta: { profile: string[] } }) => {
      const issues = registry.validate(r, r.meta.profile[0], 'x');
      assert.equal(issues[0]?.code, 'informational', 'checked by the stand-in');
      return errors(issues);
    };
    assert.deepEqual(check(document()), []);
    assert.deepEqual(check(composition()), []);
    const onDocument: [string, (d: Doc) => void, string[]][] = [
      ['the patient is not in the document (abdm-doc-1)', (d) => { d.entry[0].resource.subject = { reference: 'Patient/elsewhere' }; }, ['invariant Bundle']],
      ['no Patient entry', (d) => { d.entry.splice(1, 1); }, ['invariant Bundle', 'required Bundle.entry']],
      ['two Compositions', (d) => { d.entry.push({ ...d.entry[0], fullUrl: 'urn:uuid:0d7c5c0e-0004-4000-8000-000000000004' }); }, ['structure Bundle.entry']],
      ['not a document', (d) => { d.type = 'collection'; }, ['value Bundle.type']],
      ['no version id', (d) => { d.meta = { profile: d.meta.profile } as Doc['meta']; }, ['required Bundle.meta.versionId']],
    ];
    const onComposition: [string, (c: Comp) => void, string[]][] = [
      ['another record type', (c) => { c.type.coding[0].code = '373942005'; }, ['value Composition.type.coding[0].code']],
      ['a section entry that does not say what it points to (closed slicing)', (c) => { delete (c.section[0].entry[0] as { type?: string }).type; }, ['structure Composition.section[0].entry[0]']],
      ['no subject', (c) => { delete (c as { subject?: unknown }).subject; }, ['required Composition.subject']],
      ['a second section', (c) => { c.section.push(structuredClone(c.section[0])); }, ['structure Composition.section']],
    ];
    for (const [what, mutate, expected] of onDocument) {
      const d = document();
      mutate(d);
      assert.deepEqual(check(d), expected, what);
    }
    for (const [what, mutate, expected] of onComposition) {
      const c = composition();
      mutate(c);
      assert.deepEqual(check(c), expected, what);
    }
  });

  describe('against the official NRCeS 6.5.0 examples (read from ../shared when present)', () => {
    type Json = Record<string, unknown> & { meta?: { profile?: string[] }; entry?: { fullUrl?: string; resource: Json }[] };
    const read = (file: string) => JSON.parse(fs.readFileSync(path.join(EXAMPLES, file), 'utf8')) as Json;
    before(function () {
      if (!fs.existsSync(EXAMPLES)) {
        console.log(`      (skipped: the NRCeS IG examples are not at ${path.relative(process.cwd(), EXAMPLES)})`);
        this.skip();
      }
    });

    /** Examples the IG itself gets wrong, with the errors our stand-ins (like the official profiles) report. */
    const KNOWN_WRONG: Record<string, { errors: string[]; why: string }> = {
      'Bundle-OPConsultNote-example-05.json#0': {
        errors: ['structure Composition.section[7]'],
        why: 'its follow-up section (section[6]) is coded 736271009 where the FollowUp slice fixes 390906007, so it matches no slice, and the DocumentReference slice after it breaks the openAtEnd rule',
      },
    };
    /** Profiles the WellnessRecord example declares that neither the IG nor we define. */
    const UNDEFINED = ['ObservationBMI', 'ObservationBP', 'ObservationBodyHeight', 'ObservationBodyTemp', 'ObservationBodyWeight', 'ObservationHeartRate', 'ObservationOxygensat', 'ObservationVitalsPanel'];

    it('every example whose declared profile we stand in for conforms to our profile, except those the IG gets wrong', () => {
      let checked = 0;
      const failures: string[] = [];
      const unresolved = new Map<string, Set<string>>();
      for (const file of fs.readdirSync(EXAMPLES).sort()) {
        const top = read(file);
        const all: [string, Json][] = [[file, top], ...(top.entry ?? []).map((e, i): [string, Json] => [`${file}#${i}`, e.resource])];
        for (const [label, resource] of all) {
          for (const url of resource.meta?.profile ?? []) {
            const resolved = registry.resolve(url);
            if (!resolved) {
              const name = url.replace(NRCES, '');
              unresolved.set(name, (unresolved.get(name) ?? new Set()).add(file));
              continue;
            }
            checked++;
            const found = errors(registry.validate(resource, url, 'meta.profile'));
            const known = KNOWN_WRONG[label];
            if (known) assert.deepEqual(found, known.errors, `${label}: ${known.why}`);
            else if (found.length > 0) failures.push(`${label} ${url}: ${found.join('; ')}`);
          }
        }
      }
      assert.deepEqual(failures, []);
      assert.ok(checked >= 90, `checked ${checked}`);
      // What we do not stand in for: profiles the IG defines that we do not ship yet, and the
      // WellnessRecord example's 8 profiles that no one defines.
      for (const [name, files] of unresolved) {
        if (UNDEFINED.includes(name)) {
          assert.deepEqual([...files], ['Bundle-WellnessRecord-example-01.json'], name);
          assert.equal(fs.existsSync(path.join(IG[0], `StructureDefinition-${name}.json`)), false, `${name} is not in the IG`);
        } else {
          assert.ok(fs.existsSync(path.join(IG[0], `StructureDefinition-${name}.json`)), `${name} is an IG profile we do not ship`);
          assert.equal(STAND_INS[name], undefined, name);
        }
      }
      assert.deepEqual(UNDEFINED.filter((n) => !unresolved.has(n)), []);
    });

    it('mutated examples yield the expected issue at the right FHIRPath, through the NRCeS URL', () => {
      const entry = (file: string, type: string) => (read(file).entry ?? []).find((e) => e.resource.resourceType === type)?.resource as Json;
      // The OPConsultNote example without the section it miscodes (see KNOWN_WRONG).
      const withoutMiscodedSection = (c: Json): Json => ({ ...c, section: (c.section as Json[]).filter((_, i) => i !== 6) });
      type Case = [string, string, () => Json, (r: any) => void, string[]]; // eslint-disable-line @typescript-eslint/no-explicit-any
      const cases: Case[] = [
        ['required element removed', 'Patient', () => read('Patient-example-01.json'), (r) => { delete r.identifier[0].value; }, ['required Patient.identifier[0].value']],
        ['required element removed', 'DiagnosticReportLab', () => read('DiagnosticReport-Lab-example-01.json'), (r) => { delete r.conclusion; }, ['required DiagnosticReport.conclusion']],
        ['required element removed', 'Specimen', () => read('Specimen-example-01.json'), (r) => { delete r.receivedTime; }, ['required Specimen.receivedTime']],
        ['required element removed', 'DocumentBundle', () => read('Bundle-Prescription-example-06.json'), (r) => { delete r.timestamp; }, ['required Bundle.timestamp']],
        ['fixed code changed', 'OPConsultRecord', () => withoutMiscodedSection(entry('Bundle-OPConsultNote-example-05.json', 'Composition')),
          (r) => { r.type.coding[0].code = '371531000'; }, ['value Composition.type.coding[0].code']],
        ['fixed code changed', 'DocumentBundle', () => read('Bundle-Prescription-example-06.json'), (r) => { r.type = 'collection'; }, ['value Bundle.type']],
        ['fixed display changed', 'ImmunizationRecord', () => entry('Bundle-ImmunizationRecord-example-07.json', 'Composition'),
          (r) => { r.section[0].code.coding[0].display = 'Vaccination record'; }, ['value Composition.section[0].code.coding[0].display']],
        ['wrong code system', 'DiagnosticReportLab', () => read('DiagnosticReport-Lab-example-01.json'),
          (r) => { r.code.coding[0].system = 'http://snomed.info/sct'; }, ['value DiagnosticReport.code.coding[0].system']],
        ['wrong code system (closed slicing)', 'Observation', () => read('Observation-lab-example-01.json'),
          (r) => { r.code.coding[0].system = 'http://example.in/lab-codes'; }, ['structure Observation.code.coding[0]']],
        ['wrong code system in a section', 'DischargeSummaryRecord', () => entry('Bundle-DischargeSummary-example-04.json', 'Composition'),
          (r) => { r.section[0].code.coding[0].system = 'http://example.in/sections'; }, ['value Composition.section[0].code.coding[0].system']],
        ['a slice missing', 'DocumentBundle', () => read('Bundle-Prescription-example-06.json'),
          (r) => { r.entry = r.entry.filter((e: { resource: Json }) => e.resource.resourceType !== 'Composition'); }, ['required Bundle.entry']],
        ['a slice missing (closed slicing leaves no other home)', 'PrescriptionRecord', () => entry('Bundle-Prescription-example-06.json', 'Composition'),
          (r) => { delete r.section[0].entry[0].type; }, ['structure Composition.section[0].entry[0]']],
        ['cardinality overflow', 'PrescriptionRecord', () => entry('Bundle-Prescription-example-06.json', 'Composition'),
          (r) => { r.section.push(structuredClone(r.section[0])); }, ['structure Composition.section']],
        ['slice over its maximum', 'PrescriptionRecord', () => entry('Bundle-Prescription-example-06.json', 'Composition'),
          (r) => { r.section[0].entry.push({ reference: 'urn:uuid:00000000-0000-4000-8000-000000000001', type: 'Binary' }); }, ['structure Composition.section[0].entry']],
        ['cardinality overflow', 'DiagnosticReportRecord', () => entry('Bundle-DiagnosticReport-Lab-example-03.json', 'Composition'),
          (r) => { r.section[0].entry.push({ reference: 'urn:uuid:00000000-0000-4000-8000-000000000002', type: 'DocumentReference' }); },
          ['structure Composition.section[0].entry', 'structure Composition.section[0].entry']],
        ['a section out of place (openAtEnd)', 'WellnessRecord', () => entry('Bundle-WellnessRecord-example-01.json', 'Composition'),
          (r) => { r.section.unshift({ title: 'Sleep', entry: [{ reference: 'urn:uuid:00000000-0000-4000-8000-000000000003' }] }); },
          [1, 2, 3, 4, 5, 6].map((i) => `structure Composition.section[${i}]`)], // every known section now follows an unknown one
        ['broken invariant: the patient is not in the document', 'DocumentBundle', () => read('Bundle-HealthDocumentRecord-example-01.json'),
          (r) => { r.entry[0].resource.subject.reference = 'urn:uuid:00000000-0000-4000-8000-000000000004'; }, ['invariant Bundle']],
      ];
      for (const [what, profile, load, mutate, expected] of cases) {
        const resource = load();
        assert.deepEqual(errors(registry.validate(resource, `${NRCES}${profile}`, 'x')), [], `${profile} example before: ${what}`);
        const mutated = structuredClone(resource);
        mutate(mutated);
        assert.deepEqual(errors(registry.validate(mutated, `${NRCES}${profile}`, 'x')), expected, `${profile}: ${what}`);
      }
    });

    it('our stand-ins and the official profiles agree on every single-element removal or change of the examples', function () {
      // The claim compliesWithProfile makes, tested where it can be: each example resource (not
      // whole Bundles, whose extra document rules are ours) with one element removed, or one
      // string changed, is an error for our stand-in exactly when it is for the official profile.
      this.timeout(600_000);
      const official = new ProfileRegistry(IG);
      const hasError = (reg: ProfileRegistry, r: unknown, url: string) => reg.validate(r, url, 'x').some((i) => i.severity === 'error');
      let compared = 0;
      const disagreements: string[] = [];
      for (const file of fs.readdirSync(EXAMPLES).sort()) {
        const top = read(file);
        const resources: [string, Json][] = [...(top.resourceType === 'Bundle' ? [] : [[file, top] as [string, Json]]),
          ...(top.entry ?? []).map((e, i): [string, Json] => [`${file}#${i}`, e.resource])];
        for (const [label, resource] of resources) {
          for (const url of resource.meta?.profile ?? []) {
            if (!registry.resolve(url)?.standInFor || KNOWN_WRONG[label]) continue;
            for (const at of leaves(resource, ['resourceType', 'meta', 'text'])) {
              for (const how of ['remove', 'change'] as const) {
                const edited = edit(resource, at, how);
                compared++;
                const ours = hasError(registry, edited, url);
                if (ours !== hasError(official, edited, url)) disagreements.push(`${label} ${how} ${at.join('.')}: ours ${ours ? 'rejects' : 'accepts'}`);
              }
            }
          }
        }
      }
      assert.ok(compared > 4000, `compared ${compared}`);
      assert.deepEqual(disagreements, []);
    });

    it('with the official IG loaded (--ig) the official definitions win over our stand-ins', function () {
      this.timeout(30_000);
      const withIg = new ProfileRegistry([PROFILES_DIR, ...IG]);
      for (const nrces of Object.keys(STAND_INS)) assert.deepEqual(withIg.resolve(`${NRCES}${nrces}`), { url: `${NRCES}${nrces}` });
      // The official DocumentBundle does not ask for the patient's entry; ours does.
      const bundle = read('Bundle-HealthDocumentRecord-example-01.json');
      const noPatient = { ...bundle, entry: (bundle.entry as { resource: Json }[]).filter((e) => e.resource.resourceType !== 'Patient') };
      const official = withIg.validate(noPatient, `${NRCES}DocumentBundle`, 'x');
      assert.deepEqual(official.map((i) => `${i.severity} ${i.code}`), []);
      assert.deepEqual(errors(withIg.validate(noPatient, `${OURS}ABDMDocumentBundle`, 'x')), ['invariant Bundle', 'required Bundle.entry']);
    });
  });
});
