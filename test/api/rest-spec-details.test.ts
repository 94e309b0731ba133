import { strict as assert } from 'node:assert';
import type { Bundle, BundleEntry } from 'fhir/r4';
import { bearerAccess } from '../../src/auth/access';
import { TokenVerifier } from '../../src/auth/verifier';
import { api, assertOutcome, FHIR_JSON, patient } from '../helpers/api';
import { AUDIENCE, ISSUER, testIssuer } from '../helpers/tokens';

describe('REST details exactly as R4 says', () => {
  let t: ReturnType<typeof api>;
  beforeEach(() => { t = api(); });
  afterEach(() => t.close());

  const post = (body: object) => t.http.post(`/fhir/${(body as { resourceType: string }).resourceType}`).set('Content-Type', FHIR_JSON).send(body);

  it('_since is inclusive: a version written at exactly that instant is listed (http.html#history)', async () => {
    await post(patient());                                   // 10:00:00.000Z
    t.deps.clock.advance(60_000);
    const obs = await post({ resourceType: 'Observation', status: 'final', code: { text: 'Hb' } });
    const at = obs.body.meta.lastUpdated as string;
    const since = (await t.http.get(`/fhir/_history?_since=${encodeURIComponent(at)}`)).body as Bundle;
    assert.deepEqual(since.entry?.map((e) => e.fullUrl?.split('/fhir/')[1]), [`Observation/${obs.body.id}`]);
    const typeSince = (await t.http.get(`/fhir/Observation/_history?_since=${encodeURIComponent(at)}`)).body as Bundle;
    assert.equal(typeSince.entry?.length, 1);
    const later = (await t.http.get(`/fhir/_history?_since=${encodeURIComponent(new Date(Date.parse(at) + 1).toISOString())}`)).body as Bundle;
    assert.equal(later.entry, undefined);
  });
});

describe('_summary and _elements on read and vread (search.html#summary, search.html#elements)', () => {
  let t: ReturnType<typeof api>;
  beforeEach(() => { t = api(); });
  afterEach(() => t.close());
  const SUBSETTED = { system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue', code: 'SUBSETTED' };
  const text = { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">Hb 13</div>' };

  it('_summary=text keeps text, id, meta and the mandatory elements, tagged SUBSETTED', async () => {
    const obs = await t.http.post('/fhir/Observation').set('Content-Type', FHIR_JSON)
      .send({ resourceType: 'Observation', text, status: 'final', code: { text: 'Hb' }, valueQuantity: { value: 13 }, note: [{ text: 'fasting' }] });
    assert.equal(obs.status, 201);
    const res = await t.http.get(`/fhir/Observation/${obs.body.id}?_summary=text`);
    assert.equal(res.status, 200);
    assert.deepEqual(Object.keys(res.body).sort(), ['code', 'id', 'meta', 'resourceType', 'status', 'text']);
    assert.deepEqual(res.body.meta.tag, [SUBSETTED]);
    assert.equal(res.headers.etag, 'W/"1"');
  });

  it('_summary=true and _elements apply on read and vread; _summary=false and no parameter return the whole resource', async () => {
    const p = await t.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(patient({ text }));
    const id = p.body.id as string;
    const summary = (await t.http.get(`/fhir/Patient/${id}?_summary=true`)).body;
    assert.equal(summary.text, undefined);
    assert.deepEqual(summary.name, [{ family: 'Sharma', given: ['Asha'] }]);
    assert.deepEqual(summary.meta.tag, [SUBSETTED]);
    const elements = (await t.http.get(`/fhir/Patient/${id}/_history/1?_elements=gender`)).body;
    assert.deepEqual(Object.keys(elements).sort(), ['gender', 'id', 'meta', 'resourceType']);
    assert.deepEqual(elements.meta.tag, [SUBSETTED]);
    for (const url of [`/fhir/Patient/${id}?_summary=false`, `/fhir/Patient/${id}`]) {
      const whole = (await t.http.get(url)).body;
      assert.ok(whole.text && whole.name && whole.birthDate, url);
      assert.equal(whole.meta.tag, undefined, url);
    }
  });

  it('a _summary a read cannot honour is a 400', async () => {
    const p = await t.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(patient());
    assertOutcome(await t.http.get(`/fhir/Patient/${p.body.id}?_summary=count`), 400, 'invalid');
    assertOutcome(await t.http.get(`/fhir/Patient/${p.body.id}?_summary=bogus`), 400, 'invalid');
  });
});

describe('Searching across types takes only parameters common to them all (search.html#searchsystem)', () => {
  let t: ReturnType<typeof api>;
  beforeEach(() => { t = api(); });
  afterEach(() => t.close());

  it('a parameter some of the _type types lack is a 400 naming it; shared and all-resource ones work', async () => {
    await t.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(patient());
    await t.http.post('/fhir/Observation').set('Content-Type', FHIR_JSON).send({ resourceType: 'Observation', status: 'final', code: { text: 'Hb' } });
    assertOutcome(await t.http.get('/fhir?_type=Patient,Observation&gender=female'), 400, 'invalid', /'gender' is not defined for Observation/);
    assertOutcome(await t.http.get('/fhir?_type=Patient,Observation&code:text=Hb'), 400, 'invalid', /'code' is not defined for Patient/);
    assertOutcome(await t.http.get('/fhir?gender=female'), 400, 'invalid', /'gender' is not defined for /);
    const shared = await t.http.get('/fhir?_type=Patient,Practitioner&gender=female');
    assert.equal(shared.status, 200);
    assert.equal(shared.body.entry?.length, 1);
    const common = await t.http.get('/fhir?_type=Patient,Observation&_lastUpdated=ge2020-01-01&_id=id-1,id-2');
    assert.equal(common.status, 200);
    assert.equal(common.body.entry?.length, 2);
  });
});

describe('Operations the server lacks, and methods a URL does not take (http.html#operations, http.html)', () => {
  let t: ReturnType<typeof api>;
  beforeEach(() => { t = api(); });
  afterEach(() => t.close());

  it('an operation not implemented, at system, type or instance level, is not-supported and named (operations.html)', async () => {
    const p = await t.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(patient());
    const cases = [
      t.http.get(`/fhir/Patient/${p.body.id}/$everything`),
      t.http.post(`/fhir/Patient/${p.body.id}/$everything`).set('Content-Type', FHIR_JSON).send({ resourceType: 'Parameters' }),
      t.http.get('/fhir/Patient/$everything'),
      t.http.get('/fhir/$export'),
      t.http.post('/fhir/$convert').set('Content-Type', FHIR_JSON).send({ resourceType: 'Parameters' }),
      t.http.post('/fhir/Patient/$match').set('Content-Type', FHIR_JSON).send({ resourceType: 'Parameters' }),
    ];
    for (const res of await Promise.all(cases)) {
      const outcome = assertOutcome(res, 400, 'not-supported', /^Operation '\$(everything|export|convert|match)' is not supported here/);
      assert.doesNotMatch(outcome.issue[0].diagnostics ?? '', /resource type|valid FHIR id/);
    }
    // Known elsewhere: the answer says where.
    assertOutcome(await t.http.post('/fhir/$validate').set('Content-Type', FHIR_JSON).send(patient()), 400, 'not-supported', /POST \[base\]\/\[type\]\/\$validate/);
  });

  it('a 405 carries Allow with the methods the URL does take (RFC 9110 §15.5.6)', async () => {
    const res = await t.http.post('/fhir/Patient/1').set('Content-Type', FHIR_JSON).send(patient());
    assertOutcome(res, 405, 'not-supported');
    assert.equal(res.headers.allow, 'GET, HEAD, PUT, PATCH, DELETE');
    const history = await t.http.delete('/fhir/Patient/1/_history');
    assertOutcome(history, 405, 'not-supported');
    assert.equal(history.headers.allow, 'GET, HEAD');
    const metadata = await t.http.put('/fhir/metadata').set('Content-Type', FHIR_JSON).send({});
    assertOutcome(metadata, 405, 'not-supported');
    assert.equal(metadata.headers.allow, 'GET, HEAD');
    // An operation asked for by the wrong method is a 405 as well.
    const validate = await t.http.get('/fhir/Patient/$validate');
    assertOutcome(validate, 405, 'not-supported');
    assert.equal(validate.headers.allow, 'POST');
  });
});

describe('If-None-Match: * on PUT creates only if absent (http.html#concurrency, http.html#cond-update)', () => {
  let t: ReturnType<typeof api>;
  beforeEach(() => { t = api(); });
  afterEach(() => t.close());
  const put = (url: string, body: object) => t.http.put(url).set('Content-Type', FHIR_JSON).set('If-None-Match', '*').send(body);

  it('creates a new resource, and refuses with 412 to overwrite an existing one', async () => {
    const first = await put('/fhir/Patient/pt-1', patient({ id: 'pt-1' }));
    assert.equal(first.status, 201);
    assertOutcome(await put('/fhir/Patient/pt-1', patient({ id: 'pt-1', gender: 'male' })), 412, 'duplicate', /already exists/);
    const now = await t.http.get('/fhir/Patient/pt-1');
    assert.equal(now.body.meta.versionId, '1');
    assert.equal(now.body.gender, 'female');
    // Conditional update: a match exists, so the precondition fails too.
    assertOutcome(await put('/fhir/Patient?_id=pt-1', patient({ gender: 'male' })), 412, 'duplicate');
    // A deleted resource is absent: the PUT recreates it.
    await t.http.delete('/fhir/Patient/pt-1');
    assert.equal((await put('/fhir/Patient/pt-1', patient({ id: 'pt-1' }))).status, 201);
  });
});

describe('CapabilityStatement searchRevInclude (capabilitystatement.html)', () => {
  it("lists the reference parameters that can point at the type, not the type's own", async () => {
    const t = api();
    try {
      const cs = (await t.http.get('/fhir/metadata')).body as { rest: { resource: { type: string; searchRevInclude?: string[]; searchInclude?: string[] }[] }[] };
      const of = (type: string) => cs.rest[0].resource.find((r) => r.type === type);
      const patientRev = of('Patient')?.searchRevInclude ?? [];
      for (const ref of ['Observation:subject', 'Observation:patient', 'Encounter:patient', 'Condition:subject']) assert.ok(patientRev.includes(ref), ref);
      assert.ok(!patientRev.includes('Patient:general-practitioner'), 'a Patient parameter that cannot point at a Patient');
      // Each listed parameter really can target the type.
      assert.ok((of('Organization')?.searchRevInclude ?? []).includes('Patient:organization'));
      assert.ok(!(of('Organization')?.searchRevInclude ?? []).includes('Organization:endpoint'));
      // searchInclude stays the type's own.
      assert.ok(of('Patient')?.searchInclude?.includes('Patient:general-practitioner'));
    } finally {
      await t.close();
    }
  });
});

/** A small document: Composition first, its subject and one Observation inside (bundle.html#document). */
function document(value = 'doc-9', hb = 13.2): Bundle {
  const u = (n: number) => `urn:uuid:00000000-0000-4000-8000-00000000010${n}`;
  return {
    resourceType: 'Bundle', type: 'document', timestamp: '2026-03-14T10:00:00+05:30',
    identifier: { system: 'http://hip.example.in', value },
    entry: [
      { fullUrl: u(1), resource: { resourceType: 'Composition', status: 'final', type: { text: 'Lab report' }, subject: { reference: u(2) }, date: '2026-03-14T10:00:00+05:30', author: [{ display: 'Lab' }], title: 'Lab', section: [{ entry: [{ reference: u(3) }] }] } },
      { fullUrl: u(2), resource: { resourceType: 'Patient', name: [{ family: 'Iyer' }] } },
      { fullUrl: u(3), resource: { resourceType: 'Observation', status: 'final', code: { text: 'Hb' }, subject: { reference: u(2) }, valueQuantity: { value: hb } } },
    ] as unknown as BundleEntry[],
  };
}

describe('Documents posted again (bundle.html#document, documents.html)', () => {
  let t: ReturnType<typeof api>;
  beforeEach(() => { t = api(); });
  afterEach(() => t.close());
  const postDoc = (doc: object) => t.http.post('/fhir/Bundle').set('Content-Type', FHIR_JSON).send(doc);
  const count = async (query: string) => ((await t.http.get(`/fhir/${query}`)).body as Bundle).entry?.length ?? 0;

  it('the same document again returns the stored one (200, same id) and stores nothing twice; other content under its identifier is a 409', async () => {
    const first = await postDoc(document());
    assert.equal(first.status, 201, JSON.stringify(first.body));
    // Same content, keys in another order: the same document.
    const reordered = Object.fromEntries(Object.entries(document()).reverse());
    const again = await postDoc(reordered);
    assert.equal(again.status, 200, JSON.stringify(again.body));
    assert.equal(again.body.id, first.body.id);
    assert.equal(await count('Bundle'), 1);
    assert.equal(await count('Observation'), 1);
    assert.equal(await count('Patient'), 1);
    const changed = await postDoc(document('doc-9', 9.1));
    assertOutcome(changed, 409, 'conflict', /already stored under the identifier/);
    assert.equal(await count('Observation'), 1);
    // In a transaction too.
    const tx = await t.http.post('/fhir').set('Content-Type', FHIR_JSON).send({
      resourceType: 'Bundle', type: 'transaction', entry: [{ resource: document(), request: { method: 'POST', url: 'Bundle' } }],
    });
    assert.equal(tx.status, 200, JSON.stringify(tx.body));
    assert.equal(tx.body.entry[0].response.status.slice(0, 3), '200');
    assert.equal(await count('Bundle'), 1);
    // Another identifier is another document.
    assert.equal((await postDoc(document('doc-10'))).status, 201);
    assert.equal(await count('Bundle'), 2);
  });
});

describe("A document's entries name it relative to the server (bundle.html#document, search.html#all _source)", () => {
  let t: ReturnType<typeof api>;
  beforeEach(() => { t = api(); });
  afterEach(() => t.close());

  it('meta.source is Bundle/{id}, not built from the Host header, and _source finds it by any host name', async () => {
    const posted = await t.http.post('/fhir/Bundle').set('Host', 'hip-internal.example:8080').set('Content-Type', FHIR_JSON).send(document());
    assert.equal(posted.status, 201, JSON.stringify(posted.body));
    const id = posted.body.id as string;
    const obs = ((await t.http.get('/fhir/Observation')).body as Bundle).entry?.[0].resource;
    assert.equal(obs?.meta?.source, `Bundle/${id}`);
    for (const value of [`Bundle/${id}`, `http://gateway.example.in/fhir/Bundle/${id}`, `http://hip-internal.example:8080/fhir/Bundle/${id}`]) {
      const host = value.startsWith('http://') ? new URL(value).host : 'other.example';
      const found = (await t.http.get(`/fhir/Observation?_source=${encodeURIComponent(value)}`).set('Host', host)).body as Bundle;
      assert.equal(found.entry?.length, 1, value);
    }
    // An absolute URL under some other server's base is another source.
    const elsewhere = (await t.http.get(`/fhir/Observation?_source=${encodeURIComponent(`http://elsewhere.example/fhir/Bundle/${id}`)}`).set('Host', 'gateway.example.in')).body as Bundle;
    assert.equal(elsewhere.entry, undefined);
  });
});

describe('A deleted record reads 410 for its writer and 404 for everyone else who may not see it (http.html#read)', () => {
  let issuer: Awaited<ReturnType<typeof testIssuer>>;
  let t: ReturnType<typeof api>;
  before(async () => { issuer = await testIssuer(); });
  after(() => issuer.cleanup());
  afterEach(() => t.close());

  it('the practitioner who wrote it gets 410 Gone; another practitioner gets 404 as if it never existed', async () => {
    const verifier = new TokenVerifier({ kind: 'file', path: issuer.jwksFile }, { issuer: ISSUER, audience: AUDIENCE, now: () => new Date() });
    await verifier.load();
    t = api({ auth: bearerAccess(verifier) });
    const bearer = async (claims: Record<string, unknown>) => `Bearer ${await issuer.mint(claims)}`;
    const system = await bearer({ scope: 'system/*.cruds' });
    const writer = await bearer({ scope: 'user/*.cruds', fhirUser: 'Practitioner/dr-1' });
    const stranger = await bearer({ scope: 'user/*.cruds', fhirUser: 'Practitioner/dr-2' });
    const pt = await t.http.post('/fhir/Patient').set('Authorization', system).set('Content-Type', FHIR_JSON).send(patient());
    const obs = await t.http.post('/fhir/Observation').set('Authorization', writer).set('Content-Type', FHIR_JSON)
      .send({ resourceType: 'Observation', status: 'final', code: { text: 'Hb' }, subject: { reference: `Patient/${pt.body.id}` }, effectiveDateTime: '2026-01-10' });
    assert.equal(obs.status, 201, JSON.stringify(obs.body));
    const url = `/fhir/Observation/${obs.body.id}`;
    assert.equal((await t.http.get(url).set('Authorization', writer)).status, 200);
    assertOutcome(await t.http.get(url).set('Authorization', stranger), 404, 'not-found');
    assert.ok([200, 204].includes((await t.http.delete(url).set('Authorization', writer)).status));
    assertOutcome(await t.http.get(url).set('Authorization', writer), 410, 'deleted');
    assertOutcome(await t.http.get(`${url}/_history/2`).set('Authorization', writer), 410, 'deleted');
    assertOutcome(await t.http.get(url).set('Authorization', system), 410, 'deleted');
    assertOutcome(await t.http.get(url).set('Authorization', stranger), 404, 'not-found');
    assertOutcome(await t.http.get(`${url}/_history/2`).set('Authorization', stranger), 404, 'not-found');
  });
});
