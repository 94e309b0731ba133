import { strict as assert } from 'node:assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { StructureDefinition } from 'fhir/r4';
import { COMPLIES_WITH_PROFILE, ProfileRegistry } from '../../../src/validation/profiles/registry';

/**
 * A profile that declares structuredefinition-compliesWithProfile (FHIR Extensions Pack) for
 * another profile stands in for it while that one is not loaded; once it is, it wins.
 */
const OFFICIAL = 'https://registry.example.in/StructureDefinition/Patient';
const OURS = 'https://ours.example.in/StructureDefinition/NationalPatient';

const profile = (url: string, min: { identifier?: number; name?: number }, complies?: string): StructureDefinition => ({
  resourceType: 'StructureDefinition', url, name: url.split('/').pop() as string, status: 'active', kind: 'resource', abstract: false,
  type: 'Patient', derivation: 'constraint', baseDefinition: 'http://hl7.org/fhir/StructureDefinition/Patient',
  ...(complies ? { extension: [{ url: COMPLIES_WITH_PROFILE, valueCanonical: `${complies}|1.0.0` }] } : {}),
  differential: { element: [
    ...(min.identifier ? [{ id: 'Patient.identifier', path: 'Patient.identifier', min: min.identifier }] : []),
    ...(min.name ? [{ id: 'Patient.name', path: 'Patient.name', min: min.name }] : []),
  ] },
});

const summary = (issues: ReturnType<ProfileRegistry['validate']>) => issues.map((i) => `${i.severity} ${i.code} ${i.expression?.[0]}`);

describe('validation: stand-in profiles (structuredefinition-compliesWithProfile)', () => {
  let ours: string;
  let official: string;
  before(() => {
    ours = fs.mkdtempSync(path.join(os.tmpdir(), 'ours-'));
    official = fs.mkdtempSync(path.join(os.tmpdir(), 'official-'));
    fs.writeFileSync(path.join(ours, 'sd.json'), JSON.stringify(profile(OURS, { identifier: 1 }, OFFICIAL)));
    fs.writeFileSync(path.join(official, 'sd.json'), JSON.stringify(profile(OFFICIAL, { name: 1 })));
  });
  after(() => {
    fs.rmSync(ours, { recursive: true, force: true });
    fs.rmSync(official, { recursive: true, force: true });
  });

  it('without the official profile, a declared URL (with or without version) resolves to the stand-in, and the issue names both', () => {
    const registry = new ProfileRegistry([ours]);
    assert.deepEqual(registry.resolve(`${OFFICIAL}|2.0.0`), { url: OURS, standInFor: OFFICIAL });
    assert.ok(registry.has(OFFICIAL));
    const issues = registry.validate({ resourceType: 'Patient' }, OFFICIAL, 'Patient.meta.profile');
    assert.deepEqual(summary(issues), ['information informational Patient.meta.profile', 'error required Patient.identifier']);
    assert.ok(issues[0].diagnostics.includes(OFFICIAL) && issues[0].diagnostics.includes(OURS), issues[0].diagnostics);
  });

  it('a stand-in used under its own URL needs no note', () => {
    const registry = new ProfileRegistry([ours]);
    assert.deepEqual(registry.resolve(OURS), { url: OURS });
    assert.deepEqual(summary(registry.validate({ resourceType: 'Patient', identifier: [{ value: '1' }] }, OURS, 'x')), []);
  });

  it('once the official profile is loaded it wins, in whichever order the folders come', () => {
    for (const folders of [[ours, official], [official, ours]]) {
      const registry = new ProfileRegistry(folders);
      assert.deepEqual(registry.resolve(OFFICIAL), { url: OFFICIAL });
      // The official profile asks for a name, not an identifier: its rule is the one applied.
      assert.deepEqual(summary(registry.validate({ resourceType: 'Patient' }, OFFICIAL, 'x')), ['error required Patient.name']);
    }
  });

  it('a URL that nothing defines or stands in for stays unknown', () => {
    const registry = new ProfileRegistry([ours]);
    assert.equal(registry.resolve('https://registry.example.in/StructureDefinition/Other'), undefined);
    assert.equal(registry.has('https://registry.example.in/StructureDefinition/Other'), false);
    assert.deepEqual(summary(registry.validate({ resourceType: 'Patient' }, 'https://registry.example.in/StructureDefinition/Other', 'x')), ['error not-supported x']);
  });
});
