import { strict as assert } from 'node:assert';
import { api, assertOutcome, FHIR_JSON, patient } from '../helpers/api';

describe('REST: create, read, vread, update, delete (http.html)', () => {
  let t: ReturnType<typeof api>;
  beforeEach(() => { t = api(); });
  afterEach(() => t.close());

  const create = (body: object = patient()) => t.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(body);

  it('create: 201 with a server-assigned id, Location with _history, ETag and Last-Modified (http.html#create)', async () => {
    const res = await create(patient({ id: 'client-chosen' }));
    assert.equal(res.status, 201);
    assert.equal(res.body.id, 'id-1');
    assert.equal(res.body.meta.versionId, '1');
    assert.equal(res.body.meta.lastUpdated, '2026-01-15T10:00:00.000Z');
    assert.match(res.headers.location, /^http:\/\/127\.0\.0\.1:\d+\/fhir\/Patient\/id-1\/_history\/1$/);
    assert.equal(res.headers.etag, 'W/"1"');
    assert.equal(res.headers['last-modified'], 'Thu, 15 Jan 2026 10:00:00 GMT');
    assert.match(res.headers['content-type'], /^application\/fhir\+json; charset=utf-8/);
  });

  it('read: the current version with ETag; unknown id is 404 not-found', async () => {
    await create();
    const res = await t.http.get('/fhir/Patient/id-1');
    assert.equal(res.status, 200);
    assert.equal(res.body.name[0].family, 'Sharma');
    assert.equal(res.headers.etag, 'W/"1"');
    assertOutcome(await t.http.get('/fhir/Patient/nobody'), 404, 'not-found');
  });

  it('an unknown resource type is 404 with an OperationOutcome', async () => {
    assertOutcome(await t.http.get('/fhir/Pateint/1'), 404, 'not-found', /Pateint/);
    assertOutcome(await t.http.post('/fhir/Pateint').set('Content-Type', FHIR_JSON).send({ resourceType: 'Pateint' }), 404, 'not-found');
  });

  it('an id that is not a FHIR id is 400', async () => {
    assertOutcome(await t.http.get(`/fhir/Patient/${'x'.repeat(65)}`), 400, 'invalid');
    assertOutcome(await t.http.put('/fhir/Patient/a_b').set('Content-Type', FHIR_JSON).send(patient({ id: 'a_b' })), 400, 'invalid');
  });

  it('update: next version, old version kept for vread (http.html#update, #vread)', async () => {
    await create();
    const res = await t.http.put('/fhir/Patient/id-1').set('Content-Type', FHIR_JSON).send(patient({ id: 'id-1', gender: 'other' }));
    assert.equal(res.status, 200);
    assert.equal(res.body.meta.versionId, '2');
    assert.equal(res.headers.etag, 'W/"2"');
    assert.match(res.headers.location, /\/Patient\/id-1\/_history\/2$/);
    const v1 = await t.http.get('/fhir/Patient/id-1/_history/1');
    assert.equal(v1.status, 200);
    assert.equal(v1.body.gender, 'female');
    assert.equal(v1.headers.etag, 'W/"1"');
    assertOutcome(await t.http.get('/fhir/Patient/id-1/_history/3'), 404, 'not-found');
    assertOutcome(await t.http.get('/fhir/Patient/id-1/_history/x'), 404, 'not-found');
  });

  it('update as create with a client id is 201', async () => {
    const res = await t.http.put('/fhir/Patient/abha-91').set('Content-Type', FHIR_JSON).send(patient({ id: 'abha-91' }));
    assert.equal(res.status, 201);
    assert.equal(res.body.meta.versionId, '1');
    assert.match(res.headers.location, /\/Patient\/abha-91\/_history\/1$/);
  });

  it('update: the body id must be present and equal the URL id (400)', async () => {
    assertOutcome(await t.http.put('/fhir/Patient/a').set('Content-Type', FHIR_JSON).send(patient({ id: 'b' })), 400, 'invalid');
    assertOutcome(await t.http.put('/fhir/Patient/a').set('Content-Type', FHIR_JSON).send(patient()), 400, 'invalid');
    assertOutcome(await t.http.put('/fhir/Patient/a').set('Content-Type', FHIR_JSON).send({ resourceType: 'Observation', id: 'a' }), 400, 'invalid');
  });

  it('If-Match: the current version succeeds, a stale one is 412, a malformed one 400 (http.html#concurrency)', async () => {
    await create();
    const put = (ifMatch: string) => t.http.put('/fhir/Patient/id-1').set('Content-Type', FHIR_JSON).set('If-Match', ifMatch)
      .send(patient({ id: 'id-1' }));
    assert.equal((await put('W/"1"')).status, 200);
    assertOutcome(await put('W/"1"'), 412, 'conflict');
    assertOutcome(await put('banana'), 400, 'invalid');
    assert.equal((await t.http.get('/fhir/Patient/id-1')).body.meta.versionId, '2');
  });

  it('delete: 204, then read is 410 Gone, old versions stay readable (http.html#delete)', async () => {
    await create();
    const del = await t.http.delete('/fhir/Patient/id-1');
    assert.equal(del.status, 204);
    assert.equal(del.headers.etag, 'W/"2"');
    assertOutcome(await t.http.get('/fhir/Patient/id-1'), 410, 'deleted');
    assertOutcome(await t.http.get('/fhir/Patient/id-1/_history/2'), 410, 'deleted');
    assert.equal((await t.http.get('/fhir/Patient/id-1/_history/1')).status, 200);
    assert.equal((await t.http.delete('/fhir/Patient/id-1')).status, 204);
    assert.equal((await t.http.delete('/fhir/Patient/never-was')).status, 204);
    const revived = await t.http.put('/fhir/Patient/id-1').set('Content-Type', FHIR_JSON).send(patient({ id: 'id-1' }));
    assert.equal(revived.status, 201);
    assert.equal(revived.body.meta.versionId, '3');
  });

  it('delete with a stale If-Match is 412 and deletes nothing', async () => {
    await create();
    assertOutcome(await t.http.delete('/fhir/Patient/id-1').set('If-Match', 'W/"7"'), 412, 'conflict');
    assert.equal((await t.http.get('/fhir/Patient/id-1')).status, 200);
  });

  it('conditional read: If-None-Match and If-Modified-Since give 304 (http.html#cread)', async () => {
    await create();
    const inm = await t.http.get('/fhir/Patient/id-1').set('If-None-Match', 'W/"1"');
    assert.equal(inm.status, 304);
    assert.equal(inm.headers.etag, 'W/"1"');
    assert.equal(inm.text, '');
    assert.equal((await t.http.get('/fhir/Patient/id-1').set('If-None-Match', 'W/"0"')).status, 200);
    assert.equal((await t.http.get('/fhir/Patient/id-1').set('If-Modified-Since', 'Thu, 15 Jan 2026 10:00:00 GMT')).status, 304);
    assert.equal((await t.http.get('/fhir/Patient/id-1').set('If-Modified-Since', 'Thu, 15 Jan 2026 09:59:59 GMT')).status, 200);
    assert.equal((await t.http.get('/fhir/Patient/id-1/_history/1').set('If-None-Match', 'W/"1"')).status, 304);
  });

  it('Prefer: return=minimal, representation and OperationOutcome (http.html#ops)', async () => {
    const minimal = await create().set('Prefer', 'return=minimal');
    assert.equal(minimal.status, 201);
    assert.equal(minimal.text, '');
    assert.match(minimal.headers.location, /\/Patient\/id-1\/_history\/1$/);
    const oo = await create().set('Prefer', 'return=OperationOutcome');
    assertOutcome(oo, 201, 'informational', /Created Patient\/id-2/);
    const rep = await create().set('Prefer', 'return=representation');
    assert.equal(rep.body.resourceType, 'Patient');
    const delOo = await t.http.delete('/fhir/Patient/id-1').set('Prefer', 'return=OperationOutcome');
    assertOutcome(delOo, 200, 'informational', /Deleted Patient\/id-1/);
  });

  it('a write rejected by validation stores nothing', async () => {
    assertOutcome(await create(patient({ gender: null })), 400, 'structure');
    assertOutcome(await create(patient({ colour: 'blue' })), 400, 'structure');
    const history = await t.http.get('/fhir/_history');
    assert.equal(history.body.entry, undefined);
  });
});
