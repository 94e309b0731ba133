import { strict as assert } from 'node:assert';
import { api, assertOutcome, FHIR_JSON, patient } from '../helpers/api';

describe('REST: content negotiation, limits and hygiene (http.html#mime-type)', () => {
  let t: ReturnType<typeof api>;
  beforeEach(() => { t = api({ config: { maxBodyBytes: 4096, maxJsonDepth: 16 } }); });
  afterEach(() => t.close());

  const create = () => t.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(patient());

  it('accepts application/fhir+json and application/json bodies', async () => {
    assert.equal((await create()).status, 201);
    assert.equal((await t.http.post('/fhir/Patient').set('Content-Type', 'application/json; charset=utf-8').send(patient())).status, 201);
  });

  it('415 for a body type we do not take, naming XML as not yet supported', async () => {
    assertOutcome(await t.http.post('/fhir/Patient').set('Content-Type', 'text/plain').send('hello'), 415, 'not-supported');
    assertOutcome(await t.http.post('/fhir/Patient').set('Content-Type', 'application/fhir+xml').send('<Patient/>'), 415, 'not-supported', /XML/);
    assertOutcome(await t.http.post('/fhir/Patient').set('Content-Type', 'application/json-patch+json').send('[]'), 415, 'not-supported');
  });

  it('406 for an Accept or _format we cannot serve; XML says it comes later', async () => {
    await create();
    assertOutcome(await t.http.get('/fhir/Patient/id-1').set('Accept', 'application/fhir+xml'), 406, 'not-supported', /XML is not supported yet/);
    assertOutcome(await t.http.get('/fhir/Patient/id-1').set('Accept', 'text/html'), 406, 'not-supported');
    assertOutcome(await t.http.get('/fhir/Patient/id-1?_format=xml'), 406, 'not-supported', /XML/);
    assertOutcome(await t.http.get('/fhir/metadata?_format=text/csv'), 406, 'not-supported');
  });

  it('_format=json overrides Accept; wildcards and q-values are honoured', async () => {
    await create();
    assert.equal((await t.http.get('/fhir/Patient/id-1?_format=json').set('Accept', 'application/fhir+xml')).status, 200);
    assert.equal((await t.http.get('/fhir/Patient/id-1?_format=application/fhir%2Bjson')).status, 200);
    assert.equal((await t.http.get('/fhir/Patient/id-1').set('Accept', 'text/html, */*;q=0.1')).status, 200);
    assert.equal((await t.http.get('/fhir/Patient/id-1').set('Accept', 'application/json')).status, 200);
    assertOutcome(await t.http.get('/fhir/Patient/id-1').set('Accept', 'application/fhir+json;q=0, text/html'), 406, 'not-supported');
  });

  it('_pretty=true indents the body', async () => {
    await create();
    const res = await t.http.get('/fhir/Patient/id-1?_pretty=true');
    assert.match(res.text, /^\{\n {2}"resourceType": "Patient"/);
    const plain = await t.http.get('/fhir/Patient/id-1');
    assert.ok(!plain.text.includes('\n'));
  });

  it('a body over the size limit is 413 and stores nothing', async () => {
    const big = patient({ name: [{ family: 'x'.repeat(5000) }] });
    assertOutcome(await t.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(big), 413, 'too-long');
    assert.equal((await t.http.get('/fhir/_history')).body.entry, undefined);
  });

  it('malformed JSON, too-deep nesting and prototype keys are 400', async () => {
    assertOutcome(await t.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).send('{"resourceType": "Patient",'), 400, 'structure', /not valid JSON/);
    let deep: unknown = { url: 'http://x', valueString: 'y' };
    for (let i = 0; i < 20; i++) deep = { url: 'http://x', extension: [deep] };
    assertOutcome(await t.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).send({ resourceType: 'Patient', extension: [deep] }), 400, 'structure', /deeper/);
    const proto = '{"resourceType":"Patient","__proto__":{"admin":true}}';
    assertOutcome(await t.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(proto), 400, 'invalid', /__proto__/);
    const ctor = '{"resourceType":"Patient","name":[{"constructor":{"prototype":{"x":1}}}]}';
    assertOutcome(await t.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(ctor), 400, 'invalid');
    assert.equal(({} as Record<string, unknown>).admin, undefined);
  });

  it('405 for a method the URL does not support, 404 for an unknown route', async () => {
    assertOutcome(await t.http.delete('/fhir/metadata'), 405, 'not-supported');
    assertOutcome(await t.http.post('/fhir/Patient/1').set('Content-Type', FHIR_JSON).send(patient()), 405, 'not-supported');
    assertOutcome(await t.http.get('/nothing-here'), 404, 'not-found');
    assertOutcome(await t.http.get('/fhir/Patient/1/_history/1/extra'), 404, 'not-found');
  });

  it('X-Request-Id: a plain client id is echoed, anything else replaced by a fresh one', async () => {
    const echoed = await t.http.get('/fhir/metadata').set('X-Request-Id', 'emr-42.a');
    assert.equal(echoed.headers['x-request-id'], 'emr-42.a');
    const replaced = await t.http.get('/fhir/metadata').set('X-Request-Id', 'bad id with spaces');
    assert.match(replaced.headers['x-request-id'], /^[0-9a-f-]{36}$/);
    assert.match((await t.http.get('/fhir/metadata')).headers['x-request-id'], /^[0-9a-f-]{36}$/);
  });

  it('/healthz and /readyz live outside /fhir', async () => {
    assert.deepEqual((await t.http.get('/healthz')).body, { status: 'ok' });
    assert.equal((await t.http.get('/readyz')).status, 200);
  });

  it('an internal failure is a 500 that names only the request id', async () => {
    t.deps.store.read = async () => { throw new Error('disk on fire at /var/secret'); };
    const res = await t.http.get('/fhir/Patient/x').set('X-Request-Id', 'req-9');
    const outcome = assertOutcome(res, 500, 'exception', /req-9/);
    assert.ok(!JSON.stringify(outcome).includes('secret'));
  });
});
