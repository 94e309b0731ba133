import { strict as assert } from 'node:assert';
import type { Bundle } from 'fhir/r4';
import { api, assertOutcome, FHIR_JSON, patient } from '../helpers/api';

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
    void assertOutcome;
  });
});
