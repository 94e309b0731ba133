import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ElementDefinition } from 'fhir/r4';

/**
 * A small handwritten implementation guide for the profile-engine tests: profiles that name other
 * profiles (type profiles, target profiles, profile discriminators), bounds, and extension
 * definitions (simple, complex, modifier). Written to a temporary folder, as an IG is loaded.
 */
export const EX = 'https://example.in/StructureDefinition';
const CORE = 'http://hl7.org/fhir/StructureDefinition';

type Element = ElementDefinition & Record<string, unknown>;

function sd(name: string, type: string, kind: 'resource' | 'complex-type', elements: Element[], base = `${CORE}/${type}`): object {
  return {
    resourceType: 'StructureDefinition', url: `${EX}/${name}`, name, status: 'active', kind, abstract: false,
    type, derivation: 'constraint', baseDefinition: base, differential: { element: elements },
  };
}
const el = (id: string, rest: Partial<Element> = {}): Element => ({ id, path: id.split('.').map((s) => s.split(':')[0]).join('.'), ...rest }) as Element;

function extension(name: string, elements: Element[], modifier = false): object {
  return sd(name, 'Extension', 'complex-type', [
    el('Extension', modifier ? { isModifier: true, isModifierReason: 'says the action was not done' } : {}),
    el('Extension.url', { fixedUri: `${EX}/${name}` }),
    ...elements,
  ], `${CORE}/Extension`);
}

const DEFINITIONS: Record<string, object> = {
  'vs-sample-site.json': {
    resourceType: 'ValueSet', url: 'https://example.in/ValueSet/sample-site', status: 'active',
    compose: { include: [{ system: 'http://snomed.info/sct', concept: [{ code: '368208006' }, { code: '368209003' }] }] },
  },
  'lab-accreditation.json': extension('lab-accreditation', [
    el('Extension.extension', { max: '0' }),
    el('Extension.value[x]', { min: 1, type: [{ code: 'string' }], maxLength: 20 }),
  ]),
  'sample-origin.json': extension('sample-origin', [
    el('Extension.extension', { min: 1 }),
    el('Extension.extension:site', { sliceName: 'site', min: 0, max: '1' }),
    el('Extension.extension:site.url', { fixedUri: 'site' }),
    el('Extension.extension:site.value[x]', { min: 1, type: [{ code: 'CodeableConcept' }], binding: { strength: 'required', valueSet: 'https://example.in/ValueSet/sample-site' } }),
    el('Extension.extension:collected', { sliceName: 'collected', min: 1, max: '1' }),
    el('Extension.extension:collected.url', { fixedUri: 'collected' }),
    el('Extension.extension:collected.value[x]', { min: 1, type: [{ code: 'dateTime' }] }),
    el('Extension.value[x]', { max: '0' }),
  ]),
  'not-done.json': extension('not-done', [el('Extension.value[x]', { min: 1, type: [{ code: 'boolean' }] })], true),
  'abha-identifier.json': sd('AbhaIdentifier', 'Identifier', 'complex-type', [
    el('Identifier.system', { min: 1, fixedUri: 'https://healthid.abdm.gov.in' }),
    el('Identifier.value', { min: 1 }),
  ]),
  'positive-quantity.json': sd('PositiveQuantity', 'Quantity', 'complex-type', [
    el('Quantity.value', { min: 1, minValueDecimal: 0 }),
    el('Quantity.system', { fixedUri: 'http://unitsofmeasure.org' }),
  ]),
  'lab-organization.json': sd('LabOrganization', 'Organization', 'resource', [el('Organization.name', { min: 1 })]),
  'lab-patient.json': sd('LabPatient', 'Patient', 'resource', [
    el('Patient.identifier', { min: 1, type: [{ code: 'Identifier', profile: [`${EX}/AbhaIdentifier`] }] }),
    el('Patient.multipleBirth[x]', { type: [{ code: 'integer' }], minValueInteger: 1, maxValueInteger: 9 }),
    el('Patient.managingOrganization', { type: [{ code: 'Reference', targetProfile: [`${EX}/LabOrganization`] }] }),
  ]),
  'lab-observation.json': sd('LabObservation', 'Observation', 'resource', [
    el('Observation.subject', { min: 1, type: [{ code: 'Reference', targetProfile: [`${EX}/LabPatient`] }] }),
    el('Observation.effective[x]', { type: [{ code: 'dateTime' }], minValueDateTime: '2020-01-01' }),
    el('Observation.value[x]', { type: [{ code: 'Quantity', profile: [`${EX}/PositiveQuantity`] }, { code: 'string' }] }),
  ]),
  'lab-bundle.json': sd('LabBundle', 'Bundle', 'resource', [
    el('Bundle.entry', { slicing: { discriminator: [{ type: 'profile', path: 'resource' }], rules: 'closed', ordered: true } }),
    el('Bundle.entry:patient', { sliceName: 'patient', min: 1, max: '1' }),
    el('Bundle.entry:patient.resource', { type: [{ code: 'Patient', profile: [`${EX}/LabPatient`] }] }),
    el('Bundle.entry:observation', { sliceName: 'observation', min: 1 }),
    el('Bundle.entry:observation.resource', { type: [{ code: 'Observation', profile: [`${EX}/LabObservation`] }] }),
  ]),
  'lab-composition.json': sd('LabComposition', 'Composition', 'resource', [
    el('Composition.section.entry', { slicing: { discriminator: [{ type: 'profile', path: 'resolve()' }], rules: 'open' } }),
    el('Composition.section.entry:result', { sliceName: 'result', min: 1, type: [{ code: 'Reference', targetProfile: [`${EX}/LabObservation`] }] }),
  ]),
};

/** Writes the IG to a fresh temporary folder; the caller removes it. */
export function writeTestIg(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ig-engine-'));
  for (const [file, json] of Object.entries(DEFINITIONS)) fs.writeFileSync(path.join(dir, file), JSON.stringify(json));
  return dir;
}

/** Resources that conform to the profiles above. */
export const labPatient = (): Record<string, unknown> => ({
  resourceType: 'Patient', meta: { profile: [`${EX}/LabPatient`] },
  identifier: [{ system: 'https://healthid.abdm.gov.in', value: '91-7561-4088-8857' }], multipleBirthInteger: 2,
});
export const labObservation = (subject = 'urn:uuid:0b7c1f1e-0000-4000-8000-000000000001'): Record<string, unknown> => ({
  resourceType: 'Observation', meta: { profile: [`${EX}/LabObservation`] }, status: 'final', code: { text: 'Haemoglobin' },
  subject: { reference: subject }, effectiveDateTime: '2026-03-14T10:00:00+05:30',
  valueQuantity: { value: 13.2, unit: 'g/dL', system: 'http://unitsofmeasure.org', code: 'g/dL' },
});
export const PATIENT_URL = 'urn:uuid:0b7c1f1e-0000-4000-8000-000000000001';
export const OBSERVATION_URL = 'urn:uuid:0b7c1f1e-0000-4000-8000-000000000002';
export const labBundle = (): Record<string, unknown> & { entry: { fullUrl: string; resource: Record<string, unknown> }[] } => ({
  resourceType: 'Bundle', type: 'collection', meta: { profile: [`${EX}/LabBundle`] },
  entry: [{ fullUrl: PATIENT_URL, resource: labPatient() }, { fullUrl: OBSERVATION_URL, resource: labObservation(PATIENT_URL) }],
});
