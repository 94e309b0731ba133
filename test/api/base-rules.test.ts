import { strict as assert } from 'node:assert';
import type { Bundle, OperationOutcome } from 'fhir/r4';
import { api, FHIR_JSON } from '../helpers/api';

/**
 * R4's own rules, each broken alone (validation.html: structure, cardinality, invariants,
 * bindings; bundle.html): refused on a write with a 4xx and nothing stored, refused inside a
 * transaction with the whole transaction rolled back, and reported by $validate with the rule's
 * key and a FHIRPath expression. Each case starts from a resource that is valid, so the rule is
 * the only reason for the refusal.
 */
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const obs = (extra: Json = {}): Json => ({ resourceType: 'Observation', status: 'final', code: { text: 'Weight' }, ...extra });
const mg = (value: number) => ({ value, unit: 'mg', system: 'http://unitsofmeasure.org', code: 'mg' });
const kg = { value: 70, unit: 'kg', system: 'http://unitsofmeasure.org', code: 'kg' };
const patient = (extra: Json = {}): Json => ({ resourceType: 'Patient', name: [{ family: 'Devi', given: ['Asha'] }], ...extra });
const NARRATIVE = (div: string) => ({ status: 'generated', div });
const XHTML = 'http://www.w3.org/1999/xhtml';

/** [what, the rule's key as diagnostics show it, valid resource, the same broken, the expression reported]. */
const CASES: [string, string, Json, Json, string][] = [
  ['a required primitive removed', 'Observation.status', obs(), (() => { const o = obs(); delete o.status; return o; })(), 'Observation.status'],
  ['a required primitive left as an empty _element', 'ele-1', obs(), (() => { const o = obs({ _status: { id: 's1' } }); delete o.status; return o; })(), 'Observation.status'],
  ['pat-1: a contact with no details', 'pat-1', patient({ contact: [{ name: { text: 'Ravi' } }] }), patient({ contact: [{ gender: 'male' }] }), 'Patient.contact[0]'],
  ['ras-2: a probability over 100', 'ras-2', { resourceType: 'RiskAssessment', status: 'final', subject: { reference: 'Patient/p1' }, prediction: [{ probabilityDecimal: 40 }] },
    { resourceType: 'RiskAssessment', status: 'final', subject: { reference: 'Patient/p1' }, prediction: [{ probabilityDecimal: 150 }] }, 'RiskAssessment.prediction[0]'],
  ['obs-6: a value and a dataAbsentReason', 'obs-6', obs({ valueQuantity: kg }), obs({ valueQuantity: kg, dataAbsentReason: { text: 'not asked' } }), 'Observation'],
  ['obs-7: a component coded like the observation, with a value', 'obs-7', obs({ code: { coding: [{ system: 'http://loinc.org', code: '85354-9' }] }, component: [{ code: { coding: [{ system: 'http://loinc.org', code: '8480-6' }] }, valueQuantity: kg }] }),
    obs({ code: { coding: [{ system: 'http://loinc.org', code: '85354-9' }] }, valueQuantity: kg, component: [{ code: { coding: [{ system: 'http://loinc.org', code: '85354-9' }] }, valueQuantity: kg }] }), 'Observation'],
  ['obs-3: a reference range with neither low, high nor text', 'obs-3', obs({ referenceRange: [{ text: 'normal' }] }), obs({ referenceRange: [{ type: { text: 'normal' } }] }), 'Observation.referenceRange[0]'],
  ['per-1: a period that ends before it starts', 'per-1', obs({ effectivePeriod: { start: '2026-01-01T10:00:00Z', end: '2026-01-02T10:00:00Z' } }),
    obs({ effectivePeriod: { start: '2026-01-02T10:00:00Z', end: '2026-01-01T10:00:00Z' } }), 'Observation.effectivePeriod'],
  ['qty-3: a Quantity code without its system', 'qty-3', obs({ valueQuantity: kg }), obs({ valueQuantity: { value: 70, code: 'kg' } }), 'Observation.valueQuantity'],
  ['rng-2: a Range whose low is above its high', 'rng-2', obs({ valueRange: { low: mg(1), high: mg(2) } }), obs({ valueRange: { low: mg(3), high: mg(2) } }), 'Observation.valueRange'],
  ['ref-1: a local reference to nothing contained', 'ref-1', obs({ subject: { reference: 'Patient/p1' } }), obs({ subject: { reference: '#nobody' } }), 'Observation.subject'],
  ['cpt-2: a contact point with a value and no system', 'cpt-2', patient({ telecom: [{ system: 'phone', value: '+91-98' }] }), patient({ telecom: [{ value: '+91-98' }] }), 'Patient.telecom[0]'],
  ['att-1: attached data without a content type', 'att-1', patient({ photo: [{ contentType: 'image/png', data: 'iVBORw0KGgo=' }] }), patient({ photo: [{ data: 'iVBORw0KGgo=' }] }), 'Patient.photo[0]'],
  ['dom-2: a contained resource that contains another', 'dom-2', patient({ contained: [{ resourceType: 'Organization', id: 'o', name: 'PHC' }], managingOrganization: { reference: '#o' } }),
    patient({ contained: [{ resourceType: 'Organization', id: 'o', name: 'PHC', contained: [{ resourceType: 'Organization', id: 'x', name: 'X' }] }], managingOrganization: { reference: '#o' } }), 'Patient'],
  ['dom-3: a contained resource nothing refers to', 'dom-3', patient({ contained: [{ resourceType: 'Organization', id: 'o', name: 'PHC' }], managingOrganization: { reference: '#o' } }),
    patient({ contained: [{ resourceType: 'Organization', id: 'o', name: 'PHC' }] }), 'Patient'],
  ['dom-4: a contained resource with a version', 'dom-4', patient({ contained: [{ resourceType: 'Organization', id: 'o', name: 'PHC' }], managingOrganization: { reference: '#o' } }),
    patient({ contained: [{ resourceType: 'Organization', id: 'o', name: 'PHC', meta: { versionId: '2' } }], managingOrganization: { reference: '#o' } }), 'Patient'],
  ['dom-5: a contained resource with security labels', 'dom-5', patient({ contained: [{ resourceType: 'Organization', id: 'o', name: 'PHC' }], managingOrganization: { reference: '#o' } }),
    patient({ contained: [{ resourceType: 'Organization', id: 'o', name: 'PHC', meta: { security: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality', code: 'R' }] } }], managingOrganization: { reference: '#o' } }), 'Patient'],
  ['ext-1: an extension with both a value and extensions', 'ext-1', patient({ extension: [{ url: 'http://example.in/x', valueString: 'a' }] }),
    patient({ extension: [{ url: 'http://example.in/x', valueString: 'a', extension: [{ url: 'y', valueString: 'b' }] }] }), 'Patient.extension[0]'],
  ['tim-1: a duration without its unit', 'tim-1', { resourceType: 'MedicationRequest', status: 'active', intent: 'order', medicationCodeableConcept: { text: 'Paracetamol' }, subject: { reference: 'Patient/p1' }, dosageInstruction: [{ timing: { repeat: { duration: 5, durationUnit: 'min' } } }] },
    { resourceType: 'MedicationRequest', status: 'active', intent: 'order', medicationCodeableConcept: { text: 'Paracetamol' }, subject: { reference: 'Patient/p1' }, dosageInstruction: [{ timing: { repeat: { duration: 5 } } }] }, 'MedicationRequest.dosageInstruction[0].timing.repeat'],
  ['tim-10: a time of day and a "when" together', 'tim-10', { resourceType: 'MedicationRequest', status: 'active', intent: 'order', medicationCodeableConcept: { text: 'Paracetamol' }, subject: { reference: 'Patient/p1' }, dosageInstruction: [{ timing: { repeat: { timeOfDay: ['08:00:00'] } } }] },
    { resourceType: 'MedicationRequest', status: 'active', intent: 'order', medicationCodeableConcept: { text: 'Paracetamol' }, subject: { reference: 'Patient/p1' }, dosageInstruction: [{ timing: { repeat: { timeOfDay: ['08:00:00'], when: ['MORN'] } } }] }, 'MedicationRequest.dosageInstruction[0].timing.repeat'],
  ['con-4: an abated condition that is still active', 'con-4', { resourceType: 'Condition', subject: { reference: 'Patient/p1' }, clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'resolved' }] }, abatementDateTime: '2026-01-01' },
    { resourceType: 'Condition', subject: { reference: 'Patient/p1' }, clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] }, abatementDateTime: '2026-01-01' }, 'Condition'],
  ['con-5: a clinical status on an entered-in-error condition', 'con-5', { resourceType: 'Condition', subject: { reference: 'Patient/p1' }, verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'entered-in-error' }] } },
    { resourceType: 'Condition', subject: { reference: 'Patient/p1' }, clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] }, verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'entered-in-error' }] } }, 'Condition'],
  ['ait-2: an entered-in-error allergy with a clinical status', 'ait-2', { resourceType: 'AllergyIntolerance', patient: { reference: 'Patient/p1' }, verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-verification', code: 'entered-in-error' }] } },
    { resourceType: 'AllergyIntolerance', patient: { reference: 'Patient/p1' }, clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code: 'active' }] }, verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-verification', code: 'entered-in-error' }] } }, 'AllergyIntolerance'],
  ['txt-1: a script in the narrative', 'txt-1', patient({ text: NARRATIVE(`<div xmlns="${XHTML}"><p>Asha Devi</p></div>`) }),
    patient({ text: NARRATIVE(`<div xmlns="${XHTML}"><p>Asha</p><script>alert(1)</script></div>`) }), 'Patient.text.div'],
  ['txt-1: an event attribute in the narrative', 'txt-1', patient({ text: NARRATIVE(`<div xmlns="${XHTML}"><p>Asha Devi</p></div>`) }),
    patient({ text: NARRATIVE(`<div xmlns="${XHTML}"><p onclick="steal()">Asha</p></div>`) }), 'Patient.text.div'],
  ['txt-2: a narrative with no text', 'txt-2', patient({ text: NARRATIVE(`<div xmlns="${XHTML}"><p>Asha Devi</p></div>`) }), patient({ text: NARRATIVE(`<div xmlns="${XHTML}"><p> </p></div>`) }), 'Patient.text.div'],
  ['a required binding violated (Condition.clinicalStatus)', 'condition-clinical', { resourceType: 'Condition', subject: { reference: 'Patient/p1' }, clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] } },
    { resourceType: 'Condition', subject: { reference: 'Patient/p1' }, clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'smouldering' }] } }, 'Condition.clinicalStatus.coding[0]'],
  ['Attachment.size that is not the size of the data', 'Attachment.size', patient({ photo: [{ contentType: 'image/png', data: 'iVBORw0KGgo=', size: 8 }] }),
    patient({ photo: [{ contentType: 'image/png', data: 'iVBORw0KGgo=', size: 9 }] }), 'Patient.photo[0].size'],
];

const collection = (entries: Json[]): Json => ({ resourceType: 'Bundle', type: 'collection', entry: entries });
const BUNDLE_CASES: [string, string, Json, Json, string][] = [
  ['a resource twice in a Bundle (same fullUrl and id)', 'already in this Bundle',
    collection([{ fullUrl: 'urn:uuid:0a6c0c41-0000-4000-8000-000000000001', resource: patient({ id: 'a' }) }, { fullUrl: 'urn:uuid:0a6c0c41-0000-4000-8000-000000000002', resource: patient({ id: 'a' }) }]),
    collection([{ fullUrl: 'urn:uuid:0a6c0c41-0000-4000-8000-000000000001', resource: patient({ id: 'a' }) }, { fullUrl: 'urn:uuid:0a6c0c41-0000-4000-8000-000000000001', resource: patient({ id: 'a' }) }]),
    'Bundle.entry[1].resource.id'],
  ['a document without a Composition (bdl-11)', 'bdl-11',
    { resourceType: 'Bundle', type: 'document', identifier: { system: 'urn:ietf:rfc:3986', value: 'urn:uuid:0a6c0c41-0000-4000-8000-00000000000d' }, timestamp: '2026-11-20T10:00:00+05:30', entry: [
      { fullUrl: 'urn:uuid:0a6c0c41-0000-4000-8000-000000000010', resource: { resourceType: 'Composition', status: 'final', type: { text: 'Note' }, date: '2026-11-20', title: 'Note', author: [{ display: 'Dr Ravi' }], subject: { reference: 'urn:uuid:0a6c0c41-0000-4000-8000-000000000011' } } },
      { fullUrl: 'urn:uuid:0a6c0c41-0000-4000-8000-000000000011', resource: patient() }] },
    { resourceType: 'Bundle', type: 'document', identifier: { system: 'urn:ietf:rfc:3986', value: 'urn:uuid:0a6c0c41-0000-4000-8000-00000000000d' }, timestamp: '2026-11-20T10:00:00+05:30', entry: [
      { fullUrl: 'urn:uuid:0a6c0c41-0000-4000-8000-000000000011', resource: patient() }] },
    'Bundle'],
  ['bdl-1: a total on a collection', 'bdl-1', collection([{ fullUrl: 'urn:uuid:0a6c0c41-0000-4000-8000-000000000021', resource: patient() }]),
    { ...collection([{ fullUrl: 'urn:uuid:0a6c0c41-0000-4000-8000-000000000021', resource: patient() }]), total: 1 }, 'Bundle'],
];

describe('R4 base rules: each broken alone is refused on write and reported by $validate (validation.html)', function () {
  this.timeout(60_000);
  let t: ReturnType<typeof api>;
  beforeEach(() => { t = api(); });
  afterEach(() => t.close());

  const count = async (type: string): Promise<number> => ((await t.http.get(`/fhir/${type}?_summary=count`)).body as Bundle).total ?? -1;
  const validate = async (r: Json): Promise<OperationOutcome> => {
    const res = await t.http.post(`/fhir/${r.resourceType}/$validate`).set('Content-Type', FHIR_JSON).send(r);
    assert.equal(res.status, 200);
    return res.body as OperationOutcome;
  };
  const errorsOf = (o: OperationOutcome) => o.issue.filter((i) => i.severity === 'error' || i.severity === 'fatal');

  for (const [what, key, valid, broken, at] of [...CASES, ...BUNDLE_CASES]) {
    it(`${what}`, async () => {
      assert.deepEqual(errorsOf(await validate(valid)), [], `the valid ${valid.resourceType} has no errors`);
      const reported = errorsOf(await validate(broken));
      const named = reported.find((i) => (i.diagnostics ?? '').includes(key));
      assert.ok(named, `$validate names ${key}: ${JSON.stringify(reported)}`);
      assert.deepEqual(named.expression, [at]);

      const before = await count(broken.resourceType);
      const write = await t.http.post(`/fhir/${broken.resourceType}`).set('Content-Type', FHIR_JSON).send(broken);
      assert.ok(write.status >= 400 && write.status < 500, `${write.status} ${JSON.stringify(write.body).slice(0, 300)}`);
      assert.ok((write.body as OperationOutcome).issue.some((i) => (i.diagnostics ?? '').includes(key)), JSON.stringify(write.body).slice(0, 500));
      assert.equal(await count(broken.resourceType), before, 'nothing is stored');
    });
  }

  it('a transaction holding one broken entry is refused whole: the valid entries are not stored either', async () => {
    for (const [what, key, , broken] of CASES) {
      const tx = { resourceType: 'Bundle', type: 'transaction', entry: [
        { fullUrl: 'urn:uuid:0a6c0c41-0000-4000-8000-0000000000aa', resource: { resourceType: 'Organization', name: 'PHC Wardha' }, request: { method: 'POST', url: 'Organization' } },
        { fullUrl: 'urn:uuid:0a6c0c41-0000-4000-8000-0000000000bb', resource: broken, request: { method: 'POST', url: broken.resourceType } },
      ] };
      const res = await t.http.post('/fhir').set('Content-Type', FHIR_JSON).send(tx);
      assert.ok(res.status >= 400 && res.status < 500, `${what}: ${res.status}`);
      assert.ok((res.body as OperationOutcome).issue.some((i) => (i.diagnostics ?? '').includes(key)), `${what}: ${JSON.stringify(res.body).slice(0, 400)}`);
      assert.equal(await count('Organization'), 0, `${what}: the transaction rolled back whole`);
    }
  });

  it('a primitive carried only by its _element with an extension satisfies the cardinality (data absent)', async () => {
    const absent = obs({ _status: { extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/data-absent-reason', valueCode: 'unknown' }] } });
    delete absent.status;
    assert.deepEqual(errorsOf(await validate(absent)).filter((i) => i.code === 'required'), []);
  });

  it('an external image in the narrative is allowed, with a warning', async () => {
    const o = await validate(patient({ text: NARRATIVE(`<div xmlns="${XHTML}"><img src="https://example.in/x.png"/>Asha</div>`) }));
    assert.deepEqual(errorsOf(o), []);
    assert.ok(o.issue.some((i) => i.severity === 'warning' && /points outside the resource/.test(i.diagnostics ?? '')));
  });
});
