import { strict as assert } from 'node:assert';
import fs from 'node:fs';
import path from 'node:path';
import type { ElementDefinition, StructureDefinition } from 'fhir/r4';
import { coreDefinitions, readStructureDefinitions } from '../../../src/validation/profiles/definitions';
import { SnapshotError, SnapshotGenerator } from '../../../src/validation/profiles/snapshot';

const IG = path.resolve(__dirname, '../../../../../shared/abdm-ig/profiles');

function generator(extra: StructureDefinition[]): SnapshotGenerator {
  const byUrl = new Map(coreDefinitions());
  for (const sd of extra) byUrl.set(sd.url, sd);
  return new SnapshotGenerator((url) => byUrl.get(url.split('|')[0]));
}

const shape = (e: ElementDefinition): string => `${e.id} ${e.min}..${e.max} ${(e.type ?? []).map((t) => t.code).sort().join(',')}`;

describe('validation: snapshot generation from differentials (profiling.html#snapshot)', () => {
  const profile: StructureDefinition = {
    resourceType: 'StructureDefinition', url: 'https://example.in/StructureDefinition/AbhaPatient', name: 'AbhaPatient', status: 'active',
    kind: 'resource', abstract: false, type: 'Patient', derivation: 'constraint', baseDefinition: 'http://hl7.org/fhir/StructureDefinition/Patient',
    differential: { element: [
      { id: 'Patient.identifier', path: 'Patient.identifier', min: 1, slicing: { discriminator: [{ type: 'value', path: 'system' }], rules: 'open' } },
      { id: 'Patient.identifier:abha', path: 'Patient.identifier', sliceName: 'abha', min: 1, max: '1' },
      { id: 'Patient.identifier:abha.system', path: 'Patient.identifier.system', min: 1, fixedUri: 'https://healthid.abdm.gov.in' },
      { id: 'Patient.identifier.type.coding.code', path: 'Patient.identifier.type.coding.code', min: 1 },
      { id: 'Patient.deceasedBoolean', path: 'Patient.deceasedBoolean', type: [{ code: 'boolean' }] },
    ] },
  };

  it('slices copy the sliced element and its children; datatypes unfold under the element that needs them', () => {
    const snapshot = generator([profile]).generate(profile);
    const byId = new Map(snapshot.map((e) => [e.id, e]));
    assert.equal(shape(byId.get('Patient.identifier') as ElementDefinition), 'Patient.identifier 1..* Identifier');
    assert.equal(shape(byId.get('Patient.identifier:abha') as ElementDefinition), 'Patient.identifier:abha 1..1 Identifier');
    assert.equal(byId.get('Patient.identifier:abha')?.sliceName, 'abha');
    assert.equal(byId.get('Patient.identifier:abha.system')?.min, 1);
    assert.equal((byId.get('Patient.identifier:abha.system') as { fixedUri?: string }).fixedUri, 'https://healthid.abdm.gov.in');
    assert.equal(byId.get('Patient.identifier.type.coding.code')?.min, 1);
    assert.equal(byId.get('Patient.identifier.type.coding.code')?.path, 'Patient.identifier.type.coding.code');
    assert.equal(shape(byId.get('Patient.deceased[x]') as ElementDefinition), 'Patient.deceased[x] 0..1 boolean');
    const ids = snapshot.map((e) => e.id);
    assert.ok(ids.indexOf('Patient.identifier:abha') > ids.indexOf('Patient.identifier.assigner'), 'a slice follows the sliced element and its children');
    assert.ok(ids.indexOf('Patient.identifier:abha') < ids.indexOf('Patient.active'));
  });

  it('an element that exists nowhere is an error naming it', () => {
    const bad = { ...profile, url: 'https://example.in/bad', differential: { element: [{ id: 'Patient.nickname', path: 'Patient.nickname' }] } };
    assert.throws(() => generator([bad]).generate(bad), (err: unknown) => err instanceof SnapshotError && /Patient\.nickname/.test(err.message));
  });

  it('reproduces every NRCeS 2.0.1 published snapshot: element ids, order, cardinality, types (read from ../shared when present)', function () {
    const dir = path.join(IG, 'ndhm.in-2.0.1');
    if (!fs.existsSync(dir)) this.skip(); // the shared IG is not in this checkout
    const sds = readStructureDefinitions(dir).filter((sd) => sd.kind === 'resource');
    assert.ok(sds.length >= 30);
    const gen = generator(sds);
    for (const sd of sds) {
      const ours = gen.generate(sd).map(shape);
      const published = (sd.snapshot?.element ?? []).map(shape);
      assert.deepEqual(ours, published, sd.name);
    }
  });

  it('expands every NRCeS 6.5.0 differential-only definition (read from ../shared when present)', function () {
    const dir = path.join(IG, 'ndhm.in-6.5.0');
    if (!fs.existsSync(dir)) this.skip(); // the shared IG is not in this checkout
    const sds = readStructureDefinitions(dir);
    const gen = generator(sds);
    for (const sd of sds) assert.ok(gen.snapshot(sd).length > 1, sd.name);
  });
});
