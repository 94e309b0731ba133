import { strict as assert } from 'node:assert';
import type { Bundle } from 'fhir/r4';
import { api, assertOutcome, FHIR_JSON, patient } from '../helpers/api';

describe('REST: history for instance, type and system (http.html#history)', () => {
  let t: ReturnType<typeof api>;
  beforeEach(async () => {
    t = api();
    const post = (body: object) => t.http.post(`/fhir/${(body as { resourceType: string }).resourceType}`).set('Content-Type', FHIR_JSON).send(body);
    await post(patient());                                              // 10:00:00 Patient/id-1 v1
    t.deps.clock.advance(60_000);
    await post({ resourceType: 'Observation', status: 'final', code: { text: 'Hb' } }); // 10:01 Observation/id-2
    t.deps.clock.advance(60_000);
    await t.http.put('/fhir/Patient/id-1').set('Content-Type', FHIR_JSON).send(patient({ id: 'id-1', gender: 'male' })); // 10:02 v2
    t.deps.clock.advance(60_000);
    await t.http.delete('/fhir/Patient/id-1');                          // 10:03 v3 tombstone
  });
  afterEach(() => t.close());

  it('instance history: newest first, with request and response per entry, tombstones without a resource', async () => {
    const res = await t.http.get('/fhir/Patient/id-1/_history');
    assert.equal(res.status, 200);
    const b = res.body as Bundle;
    assert.equal(b.type, 'history');
    assert.deepEqual(b.entry?.map((e) => [e.request?.method, e.request?.url, e.response?.etag]),
      [['DELETE', 'Patient/id-1', 'W/"3"'], ['PUT', 'Patient/id-1', 'W/"2"'], ['POST', 'Patient', 'W/"1"']]);
    assert.equal(b.entry?.[0].resource, undefined);
    assert.equal(b.entry?.[1].resource?.meta?.versionId, '2');
    assert.match(b.entry?.[2].fullUrl ?? '', /\/fhir\/Patient\/id-1$/);
    assert.equal(b.entry?.[2].response?.lastModified, '2026-01-15T10:00:00.000Z');
  });

  it('type and system history', async () => {
    const type = (await t.http.get('/fhir/Observation/_history')).body as Bundle;
    assert.deepEqual(type.entry?.map((e) => e.fullUrl?.split('/fhir/')[1]), ['Observation/id-2']);
    const system = (await t.http.get('/fhir/_history')).body as Bundle;
    assert.equal(system.entry?.length, 4);
  });

  it('_count pages with a next link that can be followed to the end', async () => {
    const urls: string[] = [];
    let next: string | undefined = '/fhir/_history?_count=3';
    while (next) {
      const page = (await t.http.get(next)).body as Bundle;
      assert.ok(page.link?.some((l) => l.relation === 'self'));
      urls.push(...(page.entry ?? []).map((e) => `${e.fullUrl?.split('/fhir/')[1]}@${e.response?.etag}`));
      const link = page.link?.find((l) => l.relation === 'next')?.url;
      next = link ? link.slice(link.indexOf('/fhir/')) : undefined;
    }
    assert.deepEqual(urls, ['Patient/id-1@W/"3"', 'Patient/id-1@W/"2"', 'Observation/id-2@W/"1"', 'Patient/id-1@W/"1"']);
  });

  it('_since and _at', async () => {
    const since = (await t.http.get('/fhir/_history?_since=2026-01-15T15:31:30%2B05:30')).body as Bundle;
    assert.deepEqual(since.entry?.map((e) => e.response?.etag), ['W/"3"', 'W/"2"']);
    const at = (await t.http.get('/fhir/Patient/id-1/_history?_at=2026-01-15T10:01:30Z')).body as Bundle;
    assert.deepEqual(at.entry?.map((e) => e.response?.etag), ['W/"1"']);
  });

  it('bad parameters are 400; history of an unknown resource is 404', async () => {
    assertOutcome(await t.http.get('/fhir/_history?_since=yesterday'), 400, 'invalid');
    assertOutcome(await t.http.get('/fhir/_history?_since=2026-01-15'), 400, 'invalid');
    assertOutcome(await t.http.get('/fhir/_history?_count=-1'), 400, 'invalid');
    assertOutcome(await t.http.get('/fhir/_history?_cursor=abc'), 400, 'invalid');
    assertOutcome(await t.http.get('/fhir/Patient/nobody/_history'), 404, 'not-found');
  });
});
