import { strict as assert } from 'node:assert';
import type { Bundle, CapabilityStatement, OperationOutcome } from 'fhir/r4';
import { api, assertOutcome, FHIR_JSON, patient } from '../helpers/api';

describe('operation: $validate (validation.html, resource-operation-validate)', () => {
  let t: ReturnType<typeof api>;
  beforeEach(() => { t = api(); });
  afterEach(() => t.close());

  const check = async (url: string, body: unknown): Promise<OperationOutcome> => {
    const res = await t.http.post(url).set('Content-Type', FHIR_JSON).send(body as object);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.resourceType, 'OperationOutcome');
    return res.body as OperationOutcome;
  };
  const summary = (o: OperationOutcome) => o.issue.map((i) => `${i.severity}:${i.code}:${i.expression?.[0] ?? ''}`);

  it('a valid resource gives one informational issue; nothing is stored', async () => {
    assert.deepEqual(summary(await check('/fhir/Patient/$validate', patient())), ['information:informational:']);
    assert.equal((await t.http.get('/fhir/Patient?_summary=count')).body.total, 0);
  });

  it('every problem is listed with severity, code and FHIRPath, as 200 not 400', async () => {
    const o = await check('/fhir/Patient/$validate', patient({ gender: 'unknown-ish', birthDate: '1990-02-30', name: [{ family: '' }] }));
    assert.deepEqual(summary(o).sort(), ['error:code-invalid:Patient.gender', 'error:value:Patient.birthDate', 'error:value:Patient.name[0].family'].sort());
  });

  it('national identifiers are warnings by default, naming the format; IDENTIFIER_CHECKS=error makes a malformed one an error', async () => {
    const ids = { identifier: [
      { system: 'https://healthid.abdm.gov.in', value: '91-7561-4088-8858' },
      { system: 'https://healthid.ndhm.gov.in', value: '91-7561' },
      { system: 'https://healthid.abdm.gov.in/abha-address', value: 'asha.devi@abdm' },
    ] };
    const lenient = await check('/fhir/Patient/$validate', patient(ids));
    assert.deepEqual(summary(lenient), ['warning:value:Patient.identifier[0].value', 'warning:value:Patient.identifier[1].value']);
    assert.match(lenient.issue[1].diagnostics ?? '', /ABHA/);
    const hfr = { resourceType: 'Organization', name: 'PHC', identifier: [{ system: 'https://facility.abdm.gov.in', value: 'IN27' }] };
    assert.deepEqual(summary(await check('/fhir/Organization/$validate', hfr)), ['warning:value:Organization.identifier[0].value']);
    t.close();
    t = api({ config: { identifierChecks: 'error' } });
    const o = await check('/fhir/Patient/$validate', patient({ identifier: [
      { system: 'https://healthid.abdm.gov.in', value: '91-7561-4088-8858' },
      { system: 'https://healthid.ndhm.gov.in', value: '91-7561' },
      { system: 'https://healthid.abdm.gov.in/abha-address', value: 'asha.devi@abdm' },
    ] }));
    assert.deepEqual(summary(o), ['warning:value:Patient.identifier[0].value', 'error:value:Patient.identifier[1].value']);
    const org = await check('/fhir/Organization/$validate', { resourceType: 'Organization', name: 'PHC', identifier: [{ system: 'https://facility.abdm.gov.in', value: 'IN27' }] });
    assert.deepEqual(summary(org), ['error:value:Organization.identifier[0].value']);
  });

  it('a Parameters body with mode and profile; update mode checks the id against the URL', async () => {
    const o = await check('/fhir/Patient/p1/$validate', {
      resourceType: 'Parameters',
      parameter: [{ name: 'resource', resource: patient({ id: 'p2' }) }, { name: 'mode', valueCode: 'update' }, { name: 'profile', valueUri: 'https://nrces.in/ndhm/fhir/r4/StructureDefinition/Patient' }],
    });
    // Base errors no longer hide the profile's issues: everything found is in one outcome.
    assert.deepEqual(summary(o), ['error:invalid:Patient.id', 'information:informational:Patient.meta.profile', 'error:required:Patient.identifier', 'error:required:Patient.name[0].text']);
  });

  it('a profile the server does not know is an error, whether asked for or declared', async () => {
    const asked = await check('/fhir/Patient/$validate?profile=https://example.in/StructureDefinition/Nope', patient());
    assert.deepEqual(summary(asked), ['error:not-supported:Patient.meta.profile']);
    const declared = await check('/fhir/Patient/$validate', patient({ meta: { profile: ['https://example.in/StructureDefinition/Nope'] } }));
    assert.match(declared.issue[0].diagnostics ?? '', /not known to this server/);
  });

  it('writes are checked against their declared profiles: an unknown one warns (UNKNOWN_PROFILES=error refuses it), a violated one is a 422', async () => {
    const nope = patient({ meta: { profile: ['https://example.in/StructureDefinition/Nope'] } });
    const res = await t.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).set('Prefer', 'return=OperationOutcome').send(nope);
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const warning = (res.body as OperationOutcome).issue.find((i) => i.severity === 'warning');
    assert.match(warning?.diagnostics ?? '', /Nope' is not known to this server: the resource was not checked against it/);
    const strict = api({ config: { unknownProfiles: 'error' } });
    try {
      assertOutcome(await strict.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(nope), 422, 'not-supported', /not known/);
    } finally {
      strict.close();
    }
    const core = await t.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(patient({ meta: { profile: ['http://hl7.org/fhir/StructureDefinition/Patient'] } }));
    assert.equal(core.status, 201, JSON.stringify(core.body));
  });

  it('mode=delete asks whether the stored resource exists; a resource of another type is an error', async () => {
    const d = await check('/fhir/Patient/nope/$validate?mode=delete', { resourceType: 'Parameters' });
    assert.deepEqual(summary(d), ['error:not-found:']);
    const wrong = await check('/fhir/Patient/$validate', { resourceType: 'Observation', status: 'final', code: { text: 'x' } });
    assert.equal(wrong.issue[0].severity, 'error');
  });

  it('a request it cannot understand is a 400: no resource, an unknown mode, broken JSON', async () => {
    assertOutcome(await t.http.post('/fhir/Patient/$validate').set('Content-Type', FHIR_JSON).send({ resourceType: 'Parameters' }), 400, 'required');
    assertOutcome(await t.http.post('/fhir/Patient/$validate?mode=destroy').set('Content-Type', FHIR_JSON).send(patient()), 400, 'invalid');
    assertOutcome(await t.http.post('/fhir/Patient/$validate').set('Content-Type', FHIR_JSON).send('{"resourceType":'), 400, 'structure');
    for (const body of ['null', '5', '"x"', '[]']) {
      assertOutcome(await t.http.post('/fhir/Patient/$validate').set('Content-Type', FHIR_JSON).send(body), 400, 'invalid', /JSON object/);
    }
    const inParameters = await t.http.post('/fhir/Patient/$validate').set('Content-Type', FHIR_JSON)
      .send({ resourceType: 'Parameters', parameter: [{ name: 'resource', resource: null }] });
    assert.ok(inParameters.status < 500, JSON.stringify(inParameters.body));
  });

  it('the CapabilityStatement names the operation', async () => {
    const cs = (await t.http.get('/fhir/metadata')).body as CapabilityStatement;
    const p = cs.rest?.[0].resource?.find((r) => r.type === 'Patient');
    assert.deepEqual(p?.operation, [{ name: 'validate', definition: 'http://hl7.org/fhir/OperationDefinition/Resource-validate' }]);
  });
});

describe('writes: profiles the deployment requires for a type (REQUIRED_PROFILES)', () => {
  let dir: string;
  let t: ReturnType<typeof api>;
  const URL = 'https://example.in/StructureDefinition/IdentifiedPatient';
  before(async () => {
    const fs = await import('node:fs');
    const os = await import('node:os');
    const path = await import('node:path');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ig-'));
    fs.writeFileSync(path.join(dir, 'sd.json'), JSON.stringify({
      resourceType: 'StructureDefinition', url: URL, name: 'IdentifiedPatient', status: 'active', kind: 'resource', abstract: false,
      type: 'Patient', derivation: 'constraint', baseDefinition: 'http://hl7.org/fhir/StructureDefinition/Patient',
      differential: { element: [{ id: 'Patient.identifier', path: 'Patient.identifier', min: 1 }] },
    }));
    t = api({ config: { igDirs: [dir], requiredProfiles: { Patient: [URL] } } });
  });
  after(async () => {
    await t.close();
    (await import('node:fs')).rmSync(dir, { recursive: true, force: true });
  });

  it('a resource that conforms to none of its type\'s required profiles is a 422 saying which', async () => {
    const res = await t.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(patient());
    const outcome = assertOutcome(res, 422, 'invariant', /requires Patient to conform to https:\/\/example\.in/);
    assert.deepEqual(outcome.issue[1].expression, ['Patient.identifier']);
    const ok = await t.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(patient({ identifier: [{ system: 'https://hospital.example.in/mrn', value: '1' }] }));
    assert.equal(ok.status, 201);
    assert.equal((await t.http.post('/fhir/Organization').set('Content-Type', FHIR_JSON).send({ resourceType: 'Organization', name: 'PHC' })).status, 201, 'other types are not affected');
  });
});

describe('extensions on $validate and on writes (extensibility.html, UNKNOWN_EXTENSIONS)', () => {
  const BIRTH_PLACE = 'http://hl7.org/fhir/StructureDefinition/patient-birthPlace';
  const UNKNOWN = 'https://example.in/StructureDefinition/nobody-defines-this';
  const summary = (o: OperationOutcome) => o.issue.map((i) => `${i.severity}:${i.code}:${i.expression?.[0] ?? ''}`);
  const post = (t: ReturnType<typeof api>, url: string, body: object) => t.http.post(url).set('Content-Type', FHIR_JSON).send(body);

  it('$validate checks an extension against its definition and reports an unknown one (warning by default)', async () => {
    const t = api();
    try {
      const o = (await post(t, '/fhir/Patient/$validate', patient({
        extension: [{ url: BIRTH_PLACE, valueString: 'Pune' }, { url: UNKNOWN, valueString: 'x' }],
      }))).body as OperationOutcome;
      assert.deepEqual(summary(o), ['error:structure:Patient.extension[0].valueString', 'warning:extension:Patient.extension[1]']);
      assert.match(o.issue[0].diagnostics ?? '', /type String is not allowed here \(Address\)/);
      assert.match(o.issue[1].diagnostics ?? '', /is not known to this server/);
    } finally {
      await t.close();
    }
  });

  it('writes: a known extension that breaks its definition is a 400; an unknown one is accepted by default', async () => {
    const t = api();
    try {
      const bad = await post(t, '/fhir/Patient', patient({ extension: [{ url: BIRTH_PLACE, valueString: 'Pune' }] }));
      const outcome = assertOutcome(bad, 400, 'structure', /not allowed here \(Address\)/);
      assert.deepEqual(outcome.issue[0].expression, ['Patient.extension[0].valueString']);
      assert.equal((await post(t, '/fhir/Patient', patient({ extension: [{ url: BIRTH_PLACE, valueAddress: { city: 'Pune' } }] }))).status, 201);
      assert.equal((await post(t, '/fhir/Patient', patient({ extension: [{ url: UNKNOWN, valueString: 'x' }] }))).status, 201);
    } finally {
      await t.close();
    }
  });

  it('writes: an unknown modifierExtension is always refused with 422 (extensibility.html#modifierExtension)', async () => {
    const t = api({ config: { unknownExtensions: 'ignore' } });
    try {
      const res = await post(t, '/fhir/Patient', patient({ modifierExtension: [{ url: UNKNOWN, valueBoolean: true }] }));
      const outcome = assertOutcome(res, 422, 'extension', /must not be processed/);
      assert.deepEqual(outcome.issue[0].expression, ['Patient.modifierExtension[0]']);
      assert.equal((await t.http.get('/fhir/Patient?_summary=count')).body.total, 0);
    } finally {
      await t.close();
    }
  });

  it('UNKNOWN_EXTENSIONS=error refuses an unknown extension with 422; ignore still shows it in $validate', async () => {
    const strict = api({ config: { unknownExtensions: 'error' } });
    try {
      const res = await post(strict, '/fhir/Patient', patient({ name: [{ family: 'Devi', extension: [{ url: UNKNOWN, valueString: 'x' }] }] }));
      const outcome = assertOutcome(res, 422, 'extension', /is not known to this server/);
      assert.deepEqual(outcome.issue[0].expression, ['Patient.name[0].extension[0]']);
    } finally {
      await strict.close();
    }
    const lenient = api({ config: { unknownExtensions: 'ignore' } });
    try {
      const o = (await post(lenient, '/fhir/Patient/$validate', patient({ extension: [{ url: UNKNOWN, valueString: 'x' }] }))).body as OperationOutcome;
      assert.deepEqual(summary(o), ['information:extension:Patient.extension[0]']);
      assert.equal((await post(lenient, '/fhir/Patient', patient({ extension: [{ url: UNKNOWN, valueString: 'x' }] }))).status, 201);
    } finally {
      await lenient.close();
    }
  });
});

describe('profiles that name other profiles, over HTTP (targetProfile, type profile, profile discriminator)', () => {
  let dir: string;
  let t: ReturnType<typeof api>;
  before(async () => {
    const { writeTestIg } = await import('../unit/validation/fixtures-ig');
    dir = writeTestIg();
    t = api({ config: { igDirs: [dir] } });
  });
  after(async () => {
    await t.close();
    (await import('node:fs')).rmSync(dir, { recursive: true, force: true });
  });

  it('a Bundle declaring a profile: entries sliced by profile, their references checked against the entries they name', async () => {
    const { labBundle } = await import('../unit/validation/fixtures-ig');
    const ok = await t.http.post('/fhir/Bundle/$validate').set('Content-Type', FHIR_JSON).send(labBundle());
    assert.deepEqual((ok.body as OperationOutcome).issue.map((i) => i.code), ['informational']);
    const b = labBundle();
    (b.entry[0].resource.identifier as { system: string }[])[0].system = 'https://example.in/mrn';
    const o = (await t.http.post('/fhir/Bundle/$validate').set('Content-Type', FHIR_JSON).send(b)).body as OperationOutcome;
    const errors = o.issue.filter((i) => i.severity === 'error').map((i) => `${i.code}:${i.expression?.[0]}`).sort();
    // The Patient is no LabPatient: it fits no slice (closed), the patient slice is empty, and the
    // Observation, whose subject must be a LabPatient, fits no slice either. Each entry is also
    // checked against the profile it declares itself, which names the exact faults.
    assert.deepEqual(errors, [
      'required:Bundle.entry', 'required:Bundle.entry', 'structure:Bundle.entry[0]', 'structure:Bundle.entry[1]',
      'structure:Bundle.entry[1].resource.subject', 'value:Bundle.entry[0].resource.identifier[0].system',
    ]);
    const write = await t.http.post('/fhir/Bundle').set('Content-Type', FHIR_JSON).send(b);
    const refused = assertOutcome(write, 422, 'structure', /matches none of the slices and the slicing is closed/);
    assert.equal(refused.issue.length, 6);
  });
});

describe('writes return their warnings (http.html#ops, Prefer: return=OperationOutcome)', () => {
  let t: ReturnType<typeof api>;
  beforeEach(() => { t = api(); });
  afterEach(() => t.close());

  const withAbha = (value: string) => ({
    resourceType: 'Patient', name: [{ family: 'Sharma' }],
    identifier: [{ system: 'https://healthid.abdm.gov.in', value }],
  });

  it('a failed ABHA check digit is accepted, and named as a warning at its FHIRPath', async () => {
    const res = await t.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).set('Prefer', 'return=OperationOutcome').send(withAbha('91-7561-4088-8858'));
    assert.equal(res.status, 201);
    const issues = (res.body as OperationOutcome).issue;
    assert.equal(issues[0].severity, 'information');
    const warning = issues.find((i) => i.severity === 'warning');
    assert.match(warning?.diagnostics ?? '', /Luhn/);
    assert.deepEqual(warning?.expression, ['Patient.identifier[0].value']);
  });

  it('a malformed ABHA number warns on a write and in $validate alike; IDENTIFIER_CHECKS=error refuses it in both', async () => {
    const res = await t.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).set('Prefer', 'return=OperationOutcome').send(withAbha('91-7561-4088'));
    assert.equal(res.status, 201);
    assert.ok((res.body as OperationOutcome).issue.some((i) => i.severity === 'warning' && /ABHA/.test(i.diagnostics ?? '')));
    const validated = await t.http.post('/fhir/Patient/$validate').set('Content-Type', FHIR_JSON).send(withAbha('91-7561-4088'));
    assert.ok((validated.body as OperationOutcome).issue.some((i) => i.severity === 'warning' && /ABHA/.test(i.diagnostics ?? '')));
    const strict = api({ config: { identifierChecks: 'error' } });
    try {
      const refused = await strict.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(withAbha('91-7561-4088'));
      assertOutcome(refused, 422, 'value', /ABHA/);
      const strictValidate = await strict.http.post('/fhir/Patient/$validate').set('Content-Type', FHIR_JSON).send(withAbha('91-7561-4088'));
      assert.ok((strictValidate.body as OperationOutcome).issue.some((i) => i.severity === 'error' && /ABHA/.test(i.diagnostics ?? '')));
    } finally {
      strict.close();
    }
  });

  it('a clean write has only its informational outcome; a transaction entry carries its warnings in response.outcome', async () => {
    const clean = await t.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).set('Prefer', 'return=OperationOutcome').send(withAbha('91-7561-4088-8857'));
    assert.deepEqual((clean.body as OperationOutcome).issue.map((i) => i.severity), ['information']);
    const tx = await t.http.post('/fhir').set('Content-Type', FHIR_JSON).send({
      resourceType: 'Bundle', type: 'transaction',
      entry: [
        { fullUrl: 'urn:uuid:a', resource: withAbha('91-7561-4088-8858'), request: { method: 'POST', url: 'Patient' } },
        { fullUrl: 'urn:uuid:b', resource: withAbha('91-7561-4088-8857'), request: { method: 'POST', url: 'Patient' } },
      ],
    });
    assert.equal(tx.status, 200);
    const [first, second] = (tx.body as Bundle).entry ?? [];
    assert.ok((first.response?.outcome as OperationOutcome).issue.some((i) => i.severity === 'warning'));
    assert.equal(first.resource?.resourceType, 'Patient', 'the representation is still returned');
    assert.equal(second.response?.outcome, undefined);
  });
});

describe('$validate reports an extension fault and the profile\'s issues together', () => {
  let t: ReturnType<typeof api>;
  beforeEach(() => { t = api(); });
  afterEach(() => t.close());

  it('an unknown modifier extension does not hide what the declared profile says', async () => {
    const res = await t.http.post('/fhir/Patient/$validate').set('Content-Type', FHIR_JSON).send({
      resourceType: 'Patient',
      meta: { profile: ['https://abdm-fhir-gateway.github.io/fhir/StructureDefinition/ABDMPatient'] },
      modifierExtension: [{ url: 'https://example.in/fhir/StructureDefinition/unknown-modifier', valueBoolean: true }],
      name: [{ family: 'Sharma' }],
    });
    assert.equal(res.status, 200);
    const errors = (res.body as OperationOutcome).issue.filter((i) => i.severity === 'error');
    assert.ok(errors.some((i) => i.code === 'extension'), JSON.stringify(errors));
    assert.ok(errors.some((i) => (i.expression ?? []).some((e) => e.startsWith('Patient.name[0].text') || e.startsWith('Patient.identifier'))), JSON.stringify(errors));
  });
});
