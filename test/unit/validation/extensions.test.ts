import { strict as assert } from 'node:assert';
import fs from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../../../src/config';
import type { Issue } from '../../../src/fhir/errors';
import { ValidationEngine } from '../../../src/validation/profiles/engine';
import { ProfileRegistry } from '../../../src/validation/profiles/registry';
import { EX, writeTestIg } from './fixtures-ig';

const SHARED = path.resolve(__dirname, '../../../../../shared/abdm-ig');
const all = (issues: Issue[]) => issues.map((i) => `${i.severity} ${i.code} ${i.expression?.[0]}`);

describe('validation: extensions against their definitions (extensibility.html)', () => {
  let dir: string;
  let registry: ProfileRegistry;
  let engine: ValidationEngine;
  before(function () {
    this.timeout(20_000);
    dir = writeTestIg();
    registry = new ProfileRegistry([dir]);
    engine = new ValidationEngine(registry, [dir]);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const patient = (extra: Record<string, unknown>) => ({ resourceType: 'Patient', name: [{ family: 'Devi' }], ...extra });
  const accreditation = (value: Record<string, unknown>) => ({ url: `${EX}/lab-accreditation`, ...value });
  const origin = (parts: object[], value: Record<string, unknown> = {}) => ({ url: `${EX}/sample-origin`, extension: parts, ...value });
  const site = (code: string) => ({ url: 'site', valueCodeableConcept: { coding: [{ system: 'http://snomed.info/sct', code }] } });
  const collected = { url: 'collected', valueDateTime: '2026-03-14T09:30:00+05:30' };

  it('a conforming simple and complex extension have no issues', () => {
    assert.deepEqual(engine.extensions(patient({ extension: [accreditation({ valueString: 'NABL MC-1234' }), origin([site('368208006'), collected])] })), []);
  });

  it('a simple extension: value type, value cardinality and the definition\'s own rules', () => {
    const cases: [string, Record<string, unknown>, string[], RegExp][] = [
      ['a value type the definition does not allow', { valueInteger: 7 }, ['error structure Patient.extension[0].valueInteger'], /type Integer is not allowed here \(String\)/],
      ['no value at all', {}, ['error required Patient.extension[0].value'], /Extension\.value\[x\]: minimum 1, found 0/],
      ['longer than its maxLength', { valueString: 'x'.repeat(21) }, ['error too-long Patient.extension[0].valueString'], /longer than 20/],
      ['a nested extension where the definition allows none', { valueString: 'NABL', extension: [{ url: 'part', valueString: 'x' }] }, ['error structure Patient.extension[0].extension'], /maximum 0, found 1/],
    ];
    for (const [name, value, expected, message] of cases) {
      const issues = engine.extensions(patient({ extension: [accreditation(value)] }));
      assert.deepEqual(all(issues), expected, name);
      assert.match(issues[0].diagnostics, message, name);
    }
  });

  it('a complex extension: its parts by url, their bindings, and no value of its own', () => {
    const missing = engine.extensions(patient({ extension: [origin([site('368208006')])] }));
    assert.deepEqual(all(missing), ['error required Patient.extension[0].extension']);
    assert.match(missing[0].diagnostics, /slice 'collected' needs at least 1, found 0/);
    const badCode = engine.extensions(patient({ extension: [origin([site('12345678'), collected])] }));
    assert.deepEqual(all(badCode), ['error code-invalid Patient.extension[0].extension[0].valueCodeableConcept.coding[0]']);
    assert.match(badCode[0].diagnostics, /not in the required ValueSet https:\/\/example\.in\/ValueSet\/sample-site/);
    assert.deepEqual(all(engine.extensions(patient({ extension: [origin([collected], { valueString: 'x' })] }))), ['error structure Patient.extension[0].valueString']);
  });

  it('at any depth: on a primitive (_birthDate), inside a data type, in a contained resource', () => {
    const issues = engine.extensions(patient({
      birthDate: '1984-03-09', _birthDate: { extension: [accreditation({ valueBoolean: true })] },
      name: [{ family: 'Devi', _given: [null, { extension: [accreditation({})] }], given: ['Asha', 'K'] }],
      contained: [{ resourceType: 'Organization', id: 'o', extension: [origin([])] }],
    }));
    assert.deepEqual(all(issues).sort(), [
      'error required Patient.contained[0].extension[0].extension',
      'error required Patient.name[0].given[1].extension[0].value',
      'error structure Patient.birthDate.extension[0].valueBoolean',
    ]);
  });

  it('R4\'s own extensions are known (patient-birthPlace is an Address)', () => {
    const url = 'http://hl7.org/fhir/StructureDefinition/patient-birthPlace';
    assert.deepEqual(engine.extensions(patient({ extension: [{ url, valueAddress: { city: 'Pune', country: 'IN' } }] })), []);
    assert.deepEqual(all(engine.extensions(patient({ extension: [{ url, valueString: 'Pune' }] }))), ['error structure Patient.extension[0].valueString']);
  });

  it('an extension is used only where its definition allows (StructureDefinition.context)', () => {
    const birthPlace = { url: 'http://hl7.org/fhir/StructureDefinition/patient-birthPlace', valueAddress: { city: 'Pune' } };
    const misplaced = engine.extensions(patient({ name: [{ family: 'Devi', extension: [birthPlace] }] }));
    assert.deepEqual(all(misplaced), ['error structure Patient.name[0].extension[0]']);
    assert.equal(misplaced[0].diagnostics, 'Extension http://hl7.org/fhir/StructureDefinition/patient-birthPlace may not be used on Patient.name (its contexts: Patient)');
    assert.deepEqual(all(engine.extensions({ resourceType: 'Organization', name: 'PHC', extension: [birthPlace] })), ['error structure Organization.extension[0]']);
    // A contained Patient is a Patient; a context that names a data type is not judged here.
    assert.deepEqual(engine.extensions({ resourceType: 'Observation', status: 'final', code: { text: 'x' }, contained: [{ resourceType: 'Patient', id: 'p', extension: [birthPlace] }] }), []);
    const ownPrefix = { url: 'http://hl7.org/fhir/StructureDefinition/humanname-own-prefix', valueString: 'van' };
    assert.deepEqual(engine.extensions(patient({ name: [{ family: 'Devi', _family: { extension: [ownPrefix] } }] })), []);
  });

  it('an unknown extension is reported per policy: warning, error, or information only (ignore)', () => {
    const unknown = patient({ extension: [{ url: 'https://example.in/StructureDefinition/nobody-defines-this', valueString: 'x' }] });
    for (const [policy, severity] of [['warning', 'warning'], ['error', 'error'], ['ignore', 'information']] as const) {
      const issues = new ValidationEngine(registry, [dir], policy).extensions(unknown);
      assert.deepEqual(all(issues), [`${severity} extension Patient.extension[0]`], policy);
      assert.equal(issues[0].diagnostics, 'Extension https://example.in/StructureDefinition/nobody-defines-this is not known to this server; its content was not checked');
    }
  });

  it('an unknown modifierExtension is always an error (extensibility.html#modifierExtension)', () => {
    const issues = new ValidationEngine(registry, [dir], 'ignore').extensions(patient({ modifierExtension: [{ url: 'https://example.in/StructureDefinition/unknown-modifier', valueBoolean: true }] }));
    assert.deepEqual(all(issues), ['error extension Patient.modifierExtension[0]']);
    assert.match(issues[0].diagnostics, /must not be processed \(extensibility\.html#modifierExtension\)/);
  });

  it('a modifier extension belongs in modifierExtension, and only there', () => {
    const notDone = { url: `${EX}/not-done`, valueBoolean: true };
    assert.deepEqual(engine.extensions(patient({ modifierExtension: [notDone] })), []);
    const misplaced = engine.extensions(patient({ extension: [notDone] }));
    assert.deepEqual(all(misplaced), ['error structure Patient.extension[0]']);
    assert.match(misplaced[0].diagnostics, /is a modifier extension and belongs in modifierExtension/);
    assert.deepEqual(all(engine.extensions(patient({ modifierExtension: [accreditation({ valueString: 'x' })] }))), ['error structure Patient.modifierExtension[0]']);
  });

  it('a URL that names a profile of something else is not an extension', () => {
    assert.deepEqual(all(engine.extensions(patient({ extension: [{ url: `${EX}/LabPatient`, valueString: 'x' }] }))), ['error structure Patient.extension[0]']);
  });

  it('UNKNOWN_EXTENSIONS: warning by default, error or ignore, anything else refused at start-up', () => {
    assert.equal(loadConfig({}, []).unknownExtensions, 'warning');
    assert.equal(loadConfig({ UNKNOWN_EXTENSIONS: 'error' }, []).unknownExtensions, 'error');
    assert.equal(loadConfig({}, ['--unknown-extensions', 'IGNORE']).unknownExtensions, 'ignore');
    assert.throws(() => loadConfig({ UNKNOWN_EXTENSIONS: 'reject' }, []), /UNKNOWN_EXTENSIONS must be one of warning, error, ignore/);
  });

  describe('the NRCeS 6.5.0 BrandName extension on the official Immunization example (../shared when present)', () => {
    let nrces: ValidationEngine;
    const example = path.join(SHARED, 'examples/ndhm.in-6.5.0/Immunization-example-01.json');
    before(function () {
      if (!fs.existsSync(example)) this.skip(); // the shared IG is not in this checkout
      this.timeout(30_000);
      const folders = [path.join(SHARED, 'profiles/ndhm.in-6.5.0'), path.join(SHARED, 'terminology/ndhm.in-6.5.0')];
      nrces = new ValidationEngine(new ProfileRegistry(folders), folders);
    });
    const immunization = (extension: object[]) => ({ ...JSON.parse(fs.readFileSync(example, 'utf8')) as object, extension });
    const BRAND = 'https://nrces.in/ndhm/fhir/r4/StructureDefinition/BrandName';

    it('the example with a brand name conforms; a brand name that is not a string does not', () => {
      assert.deepEqual(nrces.extensions(immunization([{ url: BRAND, valueString: 'Covishield' }])), []);
      assert.deepEqual(nrces.validate(immunization([{ url: BRAND, valueString: 'Covishield' }]), 'https://nrces.in/ndhm/fhir/r4/StructureDefinition/Immunization', 'x')
        .filter((i) => i.severity === 'error'), []);
      const issues = nrces.extensions(immunization([{ url: BRAND, valueCoding: { code: 'covishield' } }]));
      assert.deepEqual(all(issues), ['error structure Immunization.extension[0].valueCoding']);
      assert.match(issues[0].diagnostics, /type Coding is not allowed here \(String\)/);
      // Its context is `{Immunization profile}#Immunization`: the resource, not its parts.
      const onVaccineCode = { ...immunization([]), vaccineCode: { text: 'COVID-19', extension: [{ url: BRAND, valueString: 'Covishield' }] } };
      assert.deepEqual(all(nrces.extensions(onVaccineCode)), ['error structure Immunization.vaccineCode.extension[0]']);
    });
  });
});
