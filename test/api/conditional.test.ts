import { strict as assert } from 'node:assert';
import { api, assertOutcome, FHIR_JSON, patient } from '../helpers/api';

const ABHA = 'https://healthid.abdm.gov.in';

describe('REST: conditional create, update and delete (http.html#ccreate, #cond-update, #cdelete)', () => {
  let t: ReturnType<typeof api>;
  beforeEach(() => { t = api(); });
  afterEach(() => t.close());

  const withAbha = (abha: string, extra: Record<string, unknown> = {}) => patient({ identifier: [{ system: ABHA, value: abha }], ...extra });
  const post = (body: object, ifNoneExist?: string) => {
    const req = t.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON);
    if (ifNoneExist) req.set('If-None-Exist', ifNoneExist);
    return req.send(body);
  };

  it('If-None-Exist: no match creates (201), one match returns it (200) and creates nothing', async () => {
    const first = await post(withAbha('91-1111-2222-3333'), `identifier=${ABHA}|91-1111-2222-3333`);
    assert.equal(first.status, 201);
    const again = await post(withAbha('91-1111-2222-3333'), `identifier=${ABHA}|91-1111-2222-3333`);
    assert.equal(again.status, 200);
    assert.equal(again.body.id, first.body.id);
    assert.equal(again.headers.etag, 'W/"1"');
    const history = await t.http.get('/fhir/Patient/_history');
    assert.equal(history.body.entry.length, 1);
  });

  it('If-None-Exist: several matches is 412', async () => {
    await post(withAbha('A'));
    await post(withAbha('A'));
    assertOutcome(await post(withAbha('A'), 'identifier=A'), 412, 'duplicate');
  });

  it('criteria are real search: any parameter of the type works (search.html)', async () => {
    assert.equal((await post(patient({ birthDate: '1990-05-14' }))).status, 201);
    const again = await post(patient(), 'family=sharma&birthdate=1990-05-14');
    assert.equal(again.status, 200);
    assert.equal(again.body.id, 'id-1');
    assert.equal((await post(patient(), 'family=sharma&birthdate=1991')).status, 201);
  });

  it('unknown criteria are refused, never ignored, whatever the Prefer header', async () => {
    assertOutcome(await post(patient(), 'colour=blue'), 400, 'not-supported', /colour/);
    assertOutcome(await t.http.delete('/fhir/Patient?colour=blue'), 400, 'not-supported');
    assertOutcome(await post(patient(), 'identifier='), 400, 'invalid');
    assertOutcome(await post(patient(), '_count=1'), 400, 'invalid');
  });

  it('conditional update: no match creates, one match updates it, several is 412', async () => {
    const put = (query: string, body: object) => t.http.put(`/fhir/Patient?${query}`).set('Content-Type', FHIR_JSON).send(body);
    const created = await put(`identifier=${ABHA}|B`, withAbha('B'));
    assert.equal(created.status, 201);
    const updated = await put(`identifier=${ABHA}|B`, withAbha('B', { gender: 'male' }));
    assert.equal(updated.status, 200);
    assert.equal(updated.body.id, created.body.id);
    assert.equal(updated.body.meta.versionId, '2');
    assertOutcome(await put(`identifier=${ABHA}|B`, withAbha('B', { id: 'other' })), 400, 'invalid');
    await post(withAbha('C'));
    await post(withAbha('C'));
    assertOutcome(await put('identifier=C', withAbha('C')), 412, 'duplicate');
  });

  it('conditional update: no match with a body id that exists is 409; with a new id it is update as create', async () => {
    await t.http.put('/fhir/Patient/known').set('Content-Type', FHIR_JSON).send(patient({ id: 'known' }));
    assertOutcome(await t.http.put('/fhir/Patient?identifier=Z').set('Content-Type', FHIR_JSON).send(withAbha('Z', { id: 'known' })), 409, 'conflict');
    const res = await t.http.put('/fhir/Patient?identifier=Z').set('Content-Type', FHIR_JSON).send(withAbha('Z', { id: 'fresh' }));
    assert.equal(res.status, 201);
    assert.equal(res.body.id, 'fresh');
  });

  it('conditional delete: one match is deleted, none is 204, several is 412', async () => {
    await post(withAbha('D'));
    assert.equal((await t.http.delete(`/fhir/Patient?identifier=${ABHA}|D`)).status, 204);
    assertOutcome(await t.http.get('/fhir/Patient/id-1'), 410, 'deleted');
    assert.equal((await t.http.delete(`/fhir/Patient?identifier=${ABHA}|D`)).status, 204);
    await post(withAbha('E'));
    await post(withAbha('E'));
    assertOutcome(await t.http.delete('/fhir/Patient?identifier=E'), 412, 'duplicate');
    assert.equal((await t.http.get('/fhir/Patient/id-2')).status, 200);
  });

  it('_id criteria and escaped separators', async () => {
    await t.http.put('/fhir/Patient/p1').set('Content-Type', FHIR_JSON).send(patient({ id: 'p1', identifier: [{ system: 'urn:x', value: 'a|b,c' }] }));
    assert.equal((await post(patient(), '_id=p1')).status, 200);
    assert.equal((await post(patient(), `identifier=${encodeURIComponent('urn:x|a\\|b\\,c')}`)).status, 200);
  });
});
