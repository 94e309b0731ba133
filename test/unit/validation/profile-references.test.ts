import { strict as assert } from 'node:assert';
import fs from 'node:fs';
import path from 'node:path';
import type { Issue } from '../../../src/fhir/errors';
import { ValidationEngine } from '../../../src/validation/profiles/engine';
import { bundleScope } from '../../../src/validation/profiles/references';
import { ProfileRegistry } from '../../../src/validation/profiles/registry';
import { EX, labBundle, labObservation, labPatient, OBSERVATION_URL, PATIENT_URL, writeTestIg } from './fixtures-ig';

const SHARED = path.resolve(__dirname, '../../../../../shared/abdm-ig');
const NRCES = 'https://nrces.in/ndhm/fhir/r4/StructureDefinition';
const errors = (issues: Issue[]) => issues.filter((i) => i.severity === 'error').map((i) => `${i.code} ${i.expression?.[0]}`);

describe('validation: profiles that name other profiles (profiling.html, elementdefinition.html#ElementDefinition.type)', () => {
  let dir: string;
  let engine: ValidationEngine;
  before(function () {
    this.timeout(20_000);
    dir = writeTestIg();
    engine = new ValidationEngine(new ProfileRegistry([dir]), [dir]);
    engine.compileAll();
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const check = (r: object, profile: string) => engine.validate(r, `${EX}/${profile}`, 'x');

  it('conforming resources have no issues', () => {
    assert.deepEqual(check(labPatient(), 'LabPatient'), []);
    assert.deepEqual(check(labBundle(), 'LabBundle'), []);
  });

  it('type.profile on a data type: the value conforms to the listed profile, issues where they are', () => {
    const p = labPatient() as { identifier: { system?: string; value?: string }[] };
    p.identifier[0].system = 'https://example.in/mrn';
    const issues = check(p, 'LabPatient');
    assert.deepEqual(errors(issues), ['value Patient.identifier[0].system']);
    assert.match(issues[0].diagnostics, /Identifier\.system must be exactly "https:\/\/healthid\.abdm\.gov\.in"/);
  });

  it('a choice type with a profile on one of its types: only that type is held to it', () => {
    const negative = labObservation('Patient/p1') as { valueQuantity: { value: number } };
    negative.valueQuantity.value = -1;
    const issues = check(negative, 'LabObservation');
    assert.deepEqual(errors(issues), ['value Observation.valueQuantity.value']);
    assert.match(issues[0].diagnostics, /-1 is below the minimum 0/);
    const text = labObservation('Patient/p1');
    delete text.valueQuantity;
    text.valueString = 'within normal limits';
    assert.deepEqual(check(text, 'LabObservation'), []);
    const wrongType = labObservation('Patient/p1');
    delete wrongType.valueQuantity;
    wrongType.valueBoolean = true;
    assert.deepEqual(errors(check(wrongType, 'LabObservation')), ['structure Observation.valueBoolean']);
  });

  it('minValue/maxValue on integers and dateTimes (ElementDefinition.minValue[x])', () => {
    const twelve = { ...labPatient(), multipleBirthInteger: 12 };
    const issues = check(twelve, 'LabPatient');
    assert.deepEqual(errors(issues), ['value Patient.multipleBirthInteger']);
    assert.equal(issues[0].diagnostics, 'Patient.multipleBirth[x]: 12 is above the maximum 9');
    assert.deepEqual(errors(check({ ...labPatient(), multipleBirthInteger: 0 }, 'LabPatient')), ['value Patient.multipleBirthInteger']);
    assert.deepEqual(errors(check({ ...labObservation('Patient/p1'), effectiveDateTime: '2019-12-31' }, 'LabObservation')), ['value Observation.effectiveDateTime']);
    // 2020 at year precision overlaps the bound: not provably below it.
    assert.deepEqual(errors(check({ ...labObservation('Patient/p1'), effectiveDateTime: '2020' }, 'LabObservation')), []);
  });

  it('targetProfile: a reference to a type none of the target profiles is for is an error', () => {
    const issues = check(labObservation('Group/g1'), 'LabObservation');
    assert.deepEqual(errors(issues), ['structure Observation.subject']);
    assert.equal(issues[0].diagnostics, 'Observation.subject: a reference to Group is not allowed here (Patient)');
    // The type may also come from Reference.type when the reference is a logical one.
    const logical = { ...labObservation(), subject: { type: 'Device', identifier: { value: 'x' } } };
    assert.deepEqual(errors(check(logical, 'LabObservation')), ['structure Observation.subject']);
    // A reference whose target type cannot be known (an unresolved urn:uuid) is not judged.
    assert.deepEqual(errors(check(labObservation(), 'LabObservation')), []);
  });

  it('targetProfile: a contained target is checked against the target profile (references.html#contained)', () => {
    const withContained = (patient: object) => ({ ...labObservation('#p'), contained: [{ ...patient, id: 'p' }] });
    assert.deepEqual(check(withContained(labPatient()), 'LabObservation'), []);
    const noIdentifier = labPatient();
    delete noIdentifier.identifier;
    const issues = check(withContained(noIdentifier), 'LabObservation');
    assert.deepEqual(errors(issues), ['structure Observation.subject']);
    assert.match(issues[0].diagnostics, /the Patient at Observation\.contained\[0\] conforms to none of https:\/\/example\.in\/StructureDefinition\/LabPatient \(Observation\.contained\[0\]\.identifier: Patient\.identifier: minimum 1/);
  });

  it('targetProfile: another entry of the same Bundle, by fullUrl, is checked against it', () => {
    const b = labBundle();
    const entryIssues = (bundle: typeof b) => engine.validate(bundle.entry[1].resource, `${EX}/LabObservation`, 'x', { at: 'Bundle.entry[1].resource', scope: { bundle: bundleScope(bundle, 'Bundle') } });
    assert.deepEqual(entryIssues(b), []);
    delete (b.entry[0].resource.identifier as { value?: string }[])[0].value;
    assert.deepEqual(errors(entryIssues(b)), ['structure Bundle.entry[1].resource.subject']);
    // A relative reference finds the entry by type and id too (bundle.html#references).
    b.entry[0].resource.id = 'p1';
    b.entry[1].resource.subject = { reference: 'Patient/p1' };
    assert.deepEqual(errors(entryIssues(b)), ['structure Bundle.entry[1].resource.subject']);
  });

  it('the profile discriminator: an entry belongs to the slice whose profile it conforms to', () => {
    const b = labBundle();
    delete b.entry[0].resource.identifier; // no longer a LabPatient: matches no slice
    b.entry[1].resource.subject = { reference: 'Patient/elsewhere' };
    const issues = check(b, 'LabBundle');
    assert.deepEqual(errors(issues).sort(), ['required Bundle.entry', 'structure Bundle.entry[0]']);
    assert.match(issues.find((i) => i.expression?.[0] === 'Bundle.entry')?.diagnostics ?? '', /slice 'patient' needs at least 1, found 0/);
    assert.match(issues.find((i) => i.expression?.[0] === 'Bundle.entry[0]')?.diagnostics ?? '', /matches none of the slices and the slicing is closed/);
  });

  it('ordered slicing: a slice may not come after a later one (ElementDefinition.slicing.ordered)', () => {
    const b = labBundle();
    b.entry.reverse();
    const issues = check(b, 'LabBundle');
    assert.deepEqual(errors(issues), ['structure Bundle.entry[1]']);
    assert.match(issues[0].diagnostics, /slice patient is out of order/);
  });

  it('the profile discriminator through resolve(): section entries are sliced by what they reference', () => {
    const composition = {
      resourceType: 'Composition', status: 'final', type: { text: 'Lab report' }, date: '2026-03-14', author: [{ display: 'Lab' }], title: 'Report',
      section: [{ title: 'Results', entry: [{ reference: OBSERVATION_URL }] }],
    };
    const bundle = { ...labBundle(), type: 'document', entry: [{ fullUrl: 'urn:uuid:0b7c1f1e-0000-4000-8000-000000000003', resource: composition }, ...labBundle().entry] };
    const inBundle = () => engine.validate(composition, `${EX}/LabComposition`, 'x', { at: 'Bundle.entry[0].resource', scope: { bundle: bundleScope(bundle, 'Bundle') } });
    assert.deepEqual(inBundle(), []);
    composition.section[0].entry = [{ reference: PATIENT_URL }];
    const issues = inBundle();
    assert.deepEqual(errors(issues), ['required Bundle.entry[0].resource.section[0].entry']);
    assert.match(issues[0].diagnostics, /slice 'result' needs at least 1, found 0/);
    // Alone, the reference cannot be resolved, so the slice cannot be recognised either.
    assert.deepEqual(errors(check(composition, 'LabComposition')), ['required Composition.section[0].entry']);
  });

  describe('the NRCeS 6.5.0 document Bundles (read from ../shared when present)', () => {
    let nrces: ValidationEngine;
    const examples = path.join(SHARED, 'examples/ndhm.in-6.5.0');
    before(function () {
      if (!fs.existsSync(examples)) this.skip(); // the shared IG is not in this checkout
      this.timeout(30_000);
      const folders = [path.join(SHARED, 'profiles/ndhm.in-6.5.0'), path.join(SHARED, 'terminology/ndhm.in-6.5.0')];
      nrces = new ValidationEngine(new ProfileRegistry(folders), folders);
    });
    type Entry = { fullUrl: string; resource: Record<string, unknown> & { meta?: { profile?: string[] } } };
    const read = (file: string) => JSON.parse(fs.readFileSync(path.join(examples, file), 'utf8')) as { entry: Entry[] };
    const composition = (b: { entry: Entry[] }) =>
      nrces.validate(b.entry[0].resource, `${NRCES}/DiagnosticReportRecord`, 'x', { at: 'Bundle.entry[0].resource', scope: { bundle: bundleScope(b, 'Bundle') } });

    it('the lab report Composition, checked with its Bundle, conforms, targets included', () => {
      assert.deepEqual(errors(composition(read('Bundle-DiagnosticReport-Lab-example-03.json'))), []);
    });

    it('a mutated entry is reported at the reference that requires its profile', () => {
      const b = read('Bundle-DiagnosticReport-Lab-example-03.json');
      const patient = b.entry.findIndex((e) => e.resource.resourceType === 'Patient');
      delete (b.entry[patient].resource.identifier as { value?: string }[])[0].value;
      const issues = composition(b);
      assert.deepEqual(errors(issues), ['structure Bundle.entry[0].resource.subject']);
      assert.match(issues[0].diagnostics, new RegExp(`the Patient at Bundle\\.entry\\[${patient}\\]\\.resource conforms to none of ${NRCES}/Patient`));
      // The subject now pointing at the practitioner: the type is wrong, whatever the entry holds.
      const practitioner = b.entry.find((e) => e.resource.resourceType === 'Practitioner') as Entry;
      (b.entry[0].resource.subject as { reference: string }).reference = practitioner.fullUrl;
      const wrongType = composition(b);
      assert.deepEqual(errors(wrongType), ['structure Bundle.entry[0].resource.subject']);
      assert.match(wrongType[0].diagnostics, /a reference to Practitioner is not allowed here \(Patient\)/);
    });
  });
});
