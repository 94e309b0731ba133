import { strict as assert } from 'node:assert';
import { api, assertOutcome, FHIR_JSON, patient } from '../helpers/api';

const JSON_PATCH = 'application/json-patch+json';

describe('REST: patch with JSON Patch (http.html#patch)', () => {
  let t: ReturnType<typeof api>;
  beforeEach(async () => {
    t = api();
    await t.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(patient({ identifier: [{ system: 'urn:mrn', value: 'M1' }] }));
  });
  afterEach(() => t.close());

  const patch = (ops: unknown, url = '/fhir/Patient/id-1') => t.http.patch(url).set('Content-Type', JSON_PATCH).send(JSON.stringify(ops));

  it('applies operations and writes the next version', async () => {
    const res = await patch([{ op: 'replace', path: '/gender', value: 'male' }, { op: 'add', path: '/name/0/given/-', value: 'K' }]);
    assert.equal(res.status, 200);
    assert.equal(res.body.gender, 'male');
    assert.deepEqual(res.body.name[0].given, ['Asha', 'K']);
    assert.equal(res.body.meta.versionId, '2');
    assert.equal(res.headers.etag, 'W/"2"');
    const history = await t.http.get('/fhir/Patient/id-1/_history');
    assert.equal(history.body.entry[0].request.method, 'PATCH');
  });

  it('a failed test operation is 422 and changes nothing', async () => {
    assertOutcome(await patch([{ op: 'test', path: '/gender', value: 'male' }, { op: 'remove', path: '/gender' }]), 422, 'processing');
    assert.equal((await t.http.get('/fhir/Patient/id-1')).body.meta.versionId, '1');
  });

  it('a malformed patch document is 400', async () => {
    assertOutcome(await patch({ op: 'replace' }), 400, 'invalid');
    assertOutcome(await patch([{ op: 'explode', path: '/gender' }]), 400, 'invalid');
  });

  it('a patch whose result is not a valid resource is 400 and stores nothing', async () => {
    assertOutcome(await patch([{ op: 'replace', path: '/birthDate', value: '1990-02-30' }]), 400, 'value');
    assertOutcome(await patch([{ op: 'replace', path: '/gender', value: 42 }]), 400, 'code-invalid');
    assertOutcome(await patch([{ op: 'replace', path: '/id', value: 'other' }]), 400, 'invalid');
    assertOutcome(await patch([{ op: 'add', path: '/__proto__', value: { x: 1 } }]), 400, 'invalid');
    assert.equal((await t.http.get('/fhir/Patient/id-1')).body.meta.versionId, '1');
  });

  it('If-Match, unknown and deleted targets', async () => {
    assertOutcome(await patch([{ op: 'remove', path: '/gender' }]).set('If-Match', 'W/"9"'), 412, 'conflict');
    assert.equal((await patch([{ op: 'remove', path: '/gender' }]).set('If-Match', 'W/"1"')).status, 200);
    assertOutcome(await patch([{ op: 'remove', path: '/gender' }], '/fhir/Patient/nobody'), 404, 'not-found');
    await t.http.delete('/fhir/Patient/id-1');
    assertOutcome(await patch([{ op: 'remove', path: '/active' }]), 410, 'deleted');
  });

  it('conditional patch patches the single match', async () => {
    const res = await patch([{ op: 'replace', path: '/active', value: false }], '/fhir/Patient?identifier=urn:mrn|M1');
    assert.equal(res.status, 200);
    assert.equal(res.body.active, false);
    assertOutcome(await patch([{ op: 'remove', path: '/active' }], '/fhir/Patient?identifier=urn:mrn|none'), 404, 'not-found');
  });
});
