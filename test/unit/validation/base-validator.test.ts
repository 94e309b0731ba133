import { strict as assert } from 'node:assert';
import type { Issue } from '../../../src/fhir/errors';
import { toFhirPath, warmUp } from '../../../src/validation/base-schema';
import { validateBase } from '../../../src/validation/base-validator';
import fs from 'node:fs';
import path from 'node:path';
import { GENERATED_MODULE } from '../../../src/validation/base-schema';
import { r4ResourceTypes } from '../../../src/fhir/definitions';

const summary = (issues: Issue[]) => issues.map((i) => `${i.code} ${i.expression?.[0]}`);
const patient = (extra: Record<string, unknown> = {}) => ({
  resourceType: 'Patient', name: [{ family: 'Sharma', given: ['Asha'] }], birthDate: '1990-05-14', ...extra,
});

describe('validation: base rules on every write (json.html, R4 JSON schema)', function () {
  before(function () {
    this.timeout(60_000);
    warmUp();
  });

  it('valid resources pass', () => {
    assert.deepEqual(validateBase(patient()), []);
    assert.deepEqual(validateBase({
      resourceType: 'Observation', status: 'final', code: { coding: [{ system: 'http://loinc.org', code: '718-7' }] },
      subject: { reference: 'Patient/1' }, effectiveDateTime: '2026-01-15T15:30:00+05:30',
      valueQuantity: { value: 13.2, unit: 'g/dL', system: 'http://unitsofmeasure.org', code: 'g/dL' },
    }), []);
  });

  it('instancePath becomes a FHIRPath expression', () => {
    assert.equal(toFhirPath('Patient', '/name/0/given/1'), 'Patient.name[0].given[1]');
    assert.equal(toFhirPath('Patient', ''), 'Patient');
  });

  it('unknown elements, wrong JSON types, bad codes', () => {
    assert.deepEqual(summary(validateBase(patient({ colour: 'blue' }))), ['structure Patient.colour']);
    assert.deepEqual(summary(validateBase(patient({ name: [{ given: ['a', 3] }] }))), ['value Patient.name[0].given[1]']);
    assert.deepEqual(summary(validateBase(patient({ name: { family: 'x' } }))), ['structure Patient.name']);
    assert.deepEqual(summary(validateBase(patient({ gender: 'F' }))), ['code-invalid Patient.gender']);
  });

  it('elements the definitions package adds to R4 are unknown here, as in R4', () => {
    assert.deepEqual(summary(validateBase(patient({ meta: { project: 'p1' } }))), ['structure Patient.meta.project']);
    assert.deepEqual(summary(validateBase({ resourceType: 'Binary', contentType: 'text/plain', url: 'https://x.example' })), ['structure Binary.url']);
  });

  it('primitive formats, including real calendar dates and zones on times', () => {
    assert.deepEqual(summary(validateBase(patient({ birthDate: '2023-02-30' }))), ['value Patient.birthDate']);
    assert.deepEqual(summary(validateBase(patient({ birthDate: '14/05/1990' }))), ['value Patient.birthDate']);
    assert.deepEqual(summary(validateBase({ resourceType: 'Observation', status: 'final', code: { text: 'x' }, effectiveDateTime: '2026-01-15T10:00:00' })),
      ['value Observation.effectiveDateTime']);
    assert.deepEqual(summary(validateBase({ resourceType: 'Observation', status: 'final', code: { text: 'x' }, issued: '2026-01-15' })),
      ['value Observation.issued']);
    assert.deepEqual(summary(validateBase(patient({ id: 'has space' }))), ['value Patient.id']);
    assert.deepEqual(summary(validateBase(patient({ implicitRules: 'has space' }))), ['value Patient.implicitRules']);
  });

  it('null, empty and whitespace-only values', () => {
    assert.deepEqual(summary(validateBase(patient({ gender: null }))).slice(0, 1), ['structure Patient.gender']);
    assert.deepEqual(summary(validateBase(patient({ name: [{ given: [''] }] }))), ['value Patient.name[0].given[0]']);
    assert.deepEqual(summary(validateBase(patient({ name: [{ family: '   ' }] }))), ['value Patient.name[0].family']);
    assert.deepEqual(summary(validateBase(patient({ identifier: [] }))), ['structure Patient.identifier']);
    assert.deepEqual(summary(validateBase(patient({ maritalStatus: {} }))), ['structure Patient.maritalStatus']);
  });

  it('null is allowed only as a placeholder paired with a _primitive extension array', () => {
    const ext = { extension: [{ url: 'http://example.org/x', valueString: 'y' }] };
    assert.deepEqual(validateBase(patient({ name: [{ given: ['A', null], _given: [null, ext] }] })), []);
    assert.deepEqual(summary(validateBase(patient({ name: [{ given: ['A', null] }] }))).slice(0, 1), ['structure Patient.name[0].given[1]']);
  });

  it('prototype keys and excessive depth are fatal and stop validation', () => {
    const proto = JSON.parse('{"resourceType":"Patient","name":[{"__proto__":{"x":1}}]}') as unknown;
    const issues = validateBase(proto);
    assert.deepEqual(summary(issues), ['invalid Patient.name[0].__proto__']);
    assert.equal(issues[0].severity, 'fatal');
    let deep: Record<string, unknown> = { url: 'http://x', valueString: 'v' };
    for (let i = 0; i < 40; i++) deep = { url: 'http://x', extension: [deep] };
    const tooDeep = validateBase(patient({ extension: [deep] }), { maxDepth: 32 });
    assert.equal(tooDeep[0].severity, 'fatal');
    assert.match(tooDeep[0].diagnostics, /deeper than the limit of 32/);
  });

  it('identity against the URL: resourceType and id', () => {
    assert.deepEqual(summary(validateBase({ name: [] })), ['required resourceType']);
    assert.deepEqual(summary(validateBase({ resourceType: 'Pateint' })), ['not-supported resourceType']);
    assert.deepEqual(summary(validateBase(patient(), { expectedType: 'Observation' })), ['invalid resourceType']);
    assert.deepEqual(summary(validateBase(patient({ id: 'a' }), { expectedType: 'Patient', expectedId: 'b' })), ['invalid Patient.id']);
    assert.deepEqual(summary(validateBase(patient(), { expectedType: 'Patient', expectedId: 'b' })), ['invalid Patient.id']);
    assert.deepEqual(summary(validateBase([patient()])), ['structure ']);
  });

  it('contained resources are validated by their own type', () => {
    const issues = validateBase(patient({ contained: [{ resourceType: 'Observation', status: 'done', code: { text: 'x' } }, { resourceType: 'Nope' }] }));
    // dom-3 (R4's own invariant): a contained resource nothing refers to has no business there.
    assert.deepEqual(summary(issues), ['code-invalid Patient.contained[0].status', 'structure Patient.contained[1]', 'invariant Patient']);
  });
});

describe('validation: the R4 schema validators generated at build time', () => {
  it('npm run build writes them next to base-schema, and the validator uses them (no 3 s compile at start)', () => {
    const file = path.resolve(__dirname, '../../../src/validation', `${GENERATED_MODULE}.js`);
    assert.ok(fs.existsSync(file), `${file} is written by npm run build`);
    const generated = require(file) as Record<string, unknown>; // eslint-disable-line @typescript-eslint/no-require-imports
    assert.equal(Object.keys(generated).length, r4ResourceTypes().size);
    // The calendar check travels into the generated code by module path.
    assert.deepEqual(validateBase({ resourceType: 'Patient', birthDate: '2023-02-30' }).map((i) => `${i.code} ${i.expression?.[0]}`), ['value Patient.birthDate']);
  });
});
